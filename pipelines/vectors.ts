// Vector arithmetic on typed arrays, shared by every stage and repository. Segmentation compares
// with *centred* cosines (each vector minus its own mean, i.e. Pearson correlation): visual
// signatures and level statistics are non-negative features whose plain cosine sits near 1 for any
// two frames, which would make one threshold mean different things in different spaces. For
// embedding vectors, whose components average near zero, the centred cosine is practically the
// plain one; consolidation uses the plain cosine and (weighted) means.

export type Vec = Float32Array | number[];

/** What LanceDB hands back for a vector column: an Arrow vector with toArray(). */
interface ArrowVectorLike {
  toArray(): ArrayLike<number>;
}

/** A vector as Float32Array; copies only what is not one already (JSON arrays, Arrow vectors). */
export function toF32(v: Vec | ArrowVectorLike): Float32Array {
  if (v instanceof Float32Array) return v;
  if ('toArray' in v && typeof v.toArray === 'function') return Float32Array.from(v.toArray());
  return Float32Array.from(v as ArrayLike<number>);
}

/** Every space's vector as Float32Array (vectors arrive as number[] after JSON). */
export function toF32Set(vectors: Record<string, Vec>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [space, v] of Object.entries(vectors)) out[space] = toF32(v);
  return out;
}

/** Pearson correlation of a and b (centred cosine); 0 when either is constant or lengths differ. */
export function centredCosine(a: Vec, b: Vec): number {
  const n = a.length;
  if (n === 0 || n !== b.length) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i += 1) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i += 1) {
    const x = (a[i] as number) - ma;
    const y = (b[i] as number) - mb;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na <= 1e-20 || nb <= 1e-20) return na <= 1e-20 && nb <= 1e-20 ? 1 : 0;
  return dot / Math.sqrt(na * nb);
}

/** Centred cosine distance in [0, 2]. */
export function distance(a: Vec, b: Vec): number {
  return 1 - centredCosine(a, b);
}

/** Mean absolute difference per component: how much a picture changed, in the signature's units. */
export function meanAbsDiff(a: Vec, b: Vec): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i += 1) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / n;
}

/** Element-wise mean of vectors of one length; undefined when there are none. */
export function meanVector(vectors: readonly Vec[]): Float32Array | undefined {
  const first = vectors[0];
  if (!first) return undefined;
  const n = first.length;
  const acc = new Float64Array(n);
  let count = 0;
  for (const v of vectors) {
    if (v.length !== n) continue;
    for (let i = 0; i < n; i += 1) acc[i] = (acc[i] as number) + (v[i] as number);
    count += 1;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = (acc[i] as number) / count;
  return out;
}

export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(sq / values.length) };
}

/**
 * Median and a robust spread (MAD scaled by 1.4826, which equals the standard deviation for
 * normally distributed values), so a few large values do not move the threshold.
 */
export function medianAndSpread(values: readonly number[]): { median: number; spread: number } {
  if (values.length === 0) return { median: 0, spread: 0 };
  const median = medianOf([...values]);
  const deviations = values.map((v) => Math.abs(v - median));
  return { median, spread: 1.4826 * medianOf(deviations) };
}

function medianOf(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Weighted mean of vectors of one size; weights default to 1. */
export function meanOf(vectors: readonly Float32Array[], weights?: readonly number[]): Float32Array | undefined {
  const first = vectors[0];
  if (!first) return undefined;
  const out = new Float32Array(first.length);
  let total = 0;
  vectors.forEach((v, i) => {
    const w = weights?.[i] ?? 1;
    if (v.length !== out.length || w <= 0) return;
    for (let k = 0; k < out.length; k += 1) out[k] = (out[k] as number) + (v[k] as number) * w;
    total += w;
  });
  if (total === 0) return undefined;
  for (let k = 0; k < out.length; k += 1) out[k] = (out[k] as number) / total;
  return out;
}

/** Per-space weighted mean of several vector sets; a space missing from a set is skipped there. */
export function meanBySpace(sets: readonly Record<string, Float32Array>[], weights?: readonly number[]): Record<string, Float32Array> {
  const spaces = new Set(sets.flatMap((s) => Object.keys(s)));
  const out: Record<string, Float32Array> = {};
  for (const space of spaces) {
    const vs: Float32Array[] = [];
    const ws: number[] = [];
    sets.forEach((s, i) => {
      const v = s[space];
      if (v) {
        vs.push(v);
        ws.push(weights?.[i] ?? 1);
      }
    });
    const m = meanOf(vs, ws);
    if (m) out[space] = m;
  }
  return out;
}
