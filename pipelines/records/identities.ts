// Online identity clustering: a face joins the identity whose centroid (the normalised mean of its
// descriptors) is nearest, when nearer than the assignment threshold; otherwise it starts a new
// identity. The re-clustering pass merges identities whose centroids have drifted together.
// Thresholds are cosine distances calibrated on ../shared/media/people (see README "Faces").

function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i += 1) s += (v[i] as number) ** 2;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i += 1) v[i] = (v[i] as number) * inv;
  return v;
}

export interface IdentityCentroid {
  id: string;
  /** L2-normalised mean descriptor. */
  centroid: Float32Array;
  /** Faces summed into the centroid. */
  faces: number;
}

export function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += (a[i] as number) * (b[i] as number);
  return 1 - dot;
}

/** The nearest identity and its distance, or undefined when there are none. */
export function nearestIdentity(descriptor: Float32Array, identities: readonly IdentityCentroid[]): { id: string; distance: number } | undefined {
  let best: { id: string; distance: number } | undefined;
  for (const identity of identities) {
    const d = cosineDistance(descriptor, identity.centroid);
    if (!best || d < best.distance) best = { id: identity.id, distance: d };
  }
  return best;
}

/** The centroid after adding (or, with weight -1, removing) descriptors worth `count` faces. */
export function updateCentroid(current: IdentityCentroid, added: Float32Array, count: number): Float32Array {
  const out = new Float32Array(current.centroid.length);
  for (let i = 0; i < out.length; i += 1) out[i] = (current.centroid[i] as number) * current.faces + (added[i] as number) * count;
  return l2normalise(out);
}

/** Normalised mean of descriptors. */
export function meanDescriptor(descriptors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(descriptors[0]?.length ?? 0);
  for (const d of descriptors) for (let i = 0; i < out.length; i += 1) out[i] = (out[i] as number) + (d[i] as number);
  return l2normalise(out);
}

/**
 * Pairs of identities to merge, closest first: average-linkage agglomeration over centroids, so
 * a chain of near pairs merges step by step as one group; each pair is [kept, absorbed].
 */
export function mergePlan(identities: readonly IdentityCentroid[], threshold: number): [string, string][] {
  const groups = identities.map((i) => ({ ids: [i.id], centroid: i.centroid, faces: i.faces }));
  const plan: [string, string][] = [];
  for (;;) {
    let best: { a: number; b: number; d: number } | undefined;
    for (let a = 0; a < groups.length; a += 1) {
      for (let b = a + 1; b < groups.length; b += 1) {
        const d = cosineDistance(groups[a]!.centroid, groups[b]!.centroid);
        if (d < threshold && (!best || d < best.d)) best = { a, b, d };
      }
    }
    if (!best) return plan;
    const ga = groups[best.a]!;
    const gb = groups[best.b]!;
    // The identity with more faces keeps its id (and its name, if the absorbed one has none).
    const [keep, lose] = ga.faces >= gb.faces ? [ga, gb] : [gb, ga];
    plan.push([keep.ids[0]!, lose.ids[0]!]);
    keep.centroid = updateCentroid({ id: '', centroid: keep.centroid, faces: keep.faces }, lose.centroid, lose.faces);
    keep.faces += lose.faces;
    groups.splice(groups.indexOf(lose), 1);
  }
}

/**
 * The faces of one event grouped by person, before they are recognised: single frames of one
 * person lie 0.03-0.43 apart and different people from 0.33 (README "Faces"), so one frame alone
 * is a poor witness, but the mean of a group is steady. Average linkage over group means, with
 * the one hard fact an event gives: two faces on the same keyframe are two people. Returns
 * groups of indices into `faces`, largest first.
 */
export function groupFaces(faces: readonly { t: number; descriptor: Float32Array }[], threshold: number): number[][] {
  const groups = faces.map((face, i) => ({ members: [i], times: new Set([face.t]), centroid: face.descriptor, faces: 1 }));
  for (;;) {
    let best: { a: number; b: number; d: number } | undefined;
    for (let a = 0; a < groups.length; a += 1) {
      for (let b = a + 1; b < groups.length; b += 1) {
        const ga = groups[a]!;
        const gb = groups[b]!;
        if ([...gb.times].some((t) => ga.times.has(t))) continue;
        const d = cosineDistance(ga.centroid, gb.centroid);
        if (d < threshold && (!best || d < best.d)) best = { a, b, d };
      }
    }
    if (!best) break;
    const ga = groups[best.a]!;
    const gb = groups[best.b]!;
    ga.centroid = updateCentroid({ id: '', centroid: ga.centroid, faces: ga.faces }, gb.centroid, gb.faces);
    ga.faces += gb.faces;
    ga.members.push(...gb.members);
    for (const t of gb.times) ga.times.add(t);
    groups.splice(best.b, 1);
  }
  return groups.map((g) => g.members.sort((x, y) => x - y)).sort((x, y) => y.length - x.length);
}
