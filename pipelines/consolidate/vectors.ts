// Vector arithmetic for consolidation: cosine similarity and (weighted) means, on Float32Array.

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

export function asF32(v: Float32Array | number[]): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

export function asF32Set(vectors: Record<string, Float32Array | number[]>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [space, v] of Object.entries(vectors)) out[space] = asF32(v);
  return out;
}
