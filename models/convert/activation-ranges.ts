// Calibration ranges of activation tensors: a histogram per tensor over every calibration input, and
// the range that keeps all but a small tail of its values. A raw min/max is set by a few outliers
// (one saturated pixel's channel can be 10x the rest), and int8 has only 256 steps: a range wide
// enough for the outlier leaves every ordinary value a handful of steps. A percentile (TensorRT's and
// onnxruntime's "percentile" calibration) clips that tail instead, one cheap pass, no search.

/** How a tensor's range is chosen from its histogram. */
export type RangeMethod =
  /** Keep all but `tail` of the values on each side (e.g. 1e-4: the 0.01 % and 99.99 % points). */
  | { kind: 'percentile'; tail: number }
  /** The observed min and max: for tensors whose rare extremes are the signal (score logits). */
  | { kind: 'minmax' };

export interface ActivationRange {
  min: number;
  max: number;
}

const BINS = 4096;

/**
 * One tensor's values across calibration runs. Bins span [-limit, limit]; a value past the limit
 * doubles it (merging bins pairwise), so the first input need not know the last one's scale.
 */
class TensorHistogram {
  // Float64: a tensor's counts over many inputs pass 2^32.
  private counts = new Float64Array(BINS);
  private limit = 0;
  min = Infinity;
  max = -Infinity;
  total = 0;

  add(values: Float32Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i += 1) {
      const v = values[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error('calibration: a tensor holds NaN or infinite values');
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    const need = Math.max(Math.abs(lo), Math.abs(hi), 1e-12);
    if (this.limit === 0) this.limit = need;
    while (need > this.limit) this.grow();
    const scale = BINS / (2 * this.limit);
    const offset = this.limit * scale;
    // Counted per call in 32-bit bins (a hot loop over tens of millions of values), then added up.
    const local = new Uint32Array(BINS);
    for (let i = 0; i < values.length; i += 1) {
      const b = ((values[i] as number) * scale + offset) | 0;
      local[b < BINS ? b : BINS - 1]! += 1;
    }
    const counts = this.counts;
    for (let b = 0; b < BINS; b += 1) counts[b] = (counts[b] as number) + (local[b] as number);
    this.total += values.length;
  }

  /** Doubles the span: bins 2k and 2k+1 become bin k of the middle half. */
  private grow(): void {
    const next = new Float64Array(BINS);
    for (let b = 0; b < BINS; b += 1) {
      const target = BINS / 4 + (b >> 1);
      next[target] = (next[target] as number) + (this.counts[b] as number);
    }
    this.counts = next;
    this.limit *= 2;
  }

  /** The value below which `fraction` of all values lie (bin edge, clamped to what was seen). */
  quantile(fraction: number): number {
    const target = fraction * this.total;
    let seen = 0;
    const width = (2 * this.limit) / BINS;
    for (let b = 0; b < BINS; b += 1) {
      seen += this.counts[b] as number;
      if (seen >= target) return Math.min(this.max, Math.max(this.min, -this.limit + (b + 1) * width));
    }
    return this.max;
  }
}

/** Histograms of named tensors, fed run by run; `ranges` reads them out. */
export class RangeCollector {
  private readonly tensors = new Map<string, TensorHistogram>();

  add(name: string, values: Float32Array): void {
    let h = this.tensors.get(name);
    if (!h) {
      h = new TensorHistogram();
      this.tensors.set(name, h);
    }
    h.add(values);
  }

  /** Ranges of every tensor seen, by `methodFor(name)`; always including 0 (int8 zero must be exact). */
  ranges(methodFor: (name: string) => RangeMethod): Map<string, ActivationRange> {
    const out = new Map<string, ActivationRange>();
    for (const [name, h] of this.tensors) {
      const method = methodFor(name);
      const lo = method.kind === 'minmax' ? h.min : h.quantile(method.tail);
      const hi = method.kind === 'minmax' ? h.max : h.quantile(1 - method.tail);
      out.set(name, { min: Math.min(0, lo), max: Math.max(0, hi) });
    }
    return out;
  }
}
