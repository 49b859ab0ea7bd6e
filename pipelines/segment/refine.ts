// Boundary refinement inside the buffer (EM-LLM's graph step): keyframes are nodes, their
// similarities are edge weights, and a boundary is moved, within a small radius, to the split of
// the buffer into "before" and "after" with the best modularity (or the lowest conductance).
// Surprise fires on the frame where the distance first crosses the threshold, which on a gradual
// change (a car driving into view) is not always where the picture is best divided.
import { centredCosine } from '../vectors.js';

export type RefineMethod = 'none' | 'modularity' | 'conductance';

export interface RefineNode {
  t: number;
  vectors: Record<string, Float32Array>;
}

/** Symmetric affinity matrix: mean over shared spaces of the positive part of the centred cosine. */
export function affinity(nodes: readonly RefineNode[]): Float64Array {
  const n = nodes.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let j = i + 1; j < n; j += 1) {
      const vi = (nodes[i] as RefineNode).vectors;
      const vj = (nodes[j] as RefineNode).vectors;
      let sum = 0;
      let count = 0;
      for (const [space, v] of Object.entries(vi)) {
        const w = vj[space];
        if (!w) continue;
        sum += Math.max(0, centredCosine(v, w));
        count += 1;
      }
      const value = count > 0 ? sum / count : 0;
      a[i * n + j] = value;
      a[j * n + i] = value;
    }
  }
  return a;
}

/** Modularity of splitting nodes [0, k) | [k, n). */
function modularity(a: Float64Array, n: number, k: number): number {
  let m2 = 0;
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    let d = 0;
    for (let j = 0; j < n; j += 1) d += a[i * n + j] as number;
    degree[i] = d;
    m2 += d;
  }
  if (m2 <= 0) return 0;
  let q = 0;
  for (const [lo, hi] of [
    [0, k],
    [k, n],
  ] as const) {
    let inside = 0;
    let vol = 0;
    for (let i = lo; i < hi; i += 1) {
      vol += degree[i] as number;
      for (let j = lo; j < hi; j += 1) inside += a[i * n + j] as number;
    }
    q += inside / m2 - (vol / m2) ** 2;
  }
  return q;
}

/** Conductance of the split [0, k) | [k, n): weight crossing the cut over the smaller side's volume. */
function conductance(a: Float64Array, n: number, k: number): number {
  let cut = 0;
  let volLeft = 0;
  let volRight = 0;
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      const w = a[i * n + j] as number;
      if (i < k) volLeft += w;
      else volRight += w;
      if (i < k && j >= k) cut += w;
    }
  }
  const smaller = Math.min(volLeft, volRight);
  return smaller > 0 ? cut / smaller : 1;
}

/**
 * The refined boundary time: the node time in [lo, hi] (and within `radius` of `t`) whose split
 * scores best; `t` itself when nothing scores better or there is too little to compare.
 */
export function refineBoundary(nodes: readonly RefineNode[], t: number, options: { method: RefineMethod; radius: number; lo: number; hi: number }): number {
  if (options.method === 'none' || nodes.length < 3) return t;
  const n = nodes.length;
  const a = affinity(nodes);
  const score = (k: number) => (options.method === 'modularity' ? modularity(a, n, k) : -conductance(a, n, k));
  let best = t;
  let bestScore = -Infinity;
  const current = nodes.findIndex((node) => node.t >= t);
  if (current > 0) {
    bestScore = score(current);
  }
  for (let k = 1; k < n; k += 1) {
    const at = (nodes[k] as RefineNode).t;
    if (Math.abs(at - t) > options.radius || at < options.lo || at > options.hi) continue;
    const s = score(k);
    // Strictly better by a margin: a tie keeps the boundary surprise chose.
    if (s > bestScore + 1e-6) {
      bestScore = s;
      best = at;
    }
  }
  return best;
}
