// Boundary F1: a predicted boundary is a hit when it lies within `tolerance` seconds of a true
// boundary not already matched (one-to-one, nearest first), the usual scoring of event segmentation.

export interface BoundaryScore {
  precision: number;
  recall: number;
  f1: number;
  hits: number;
  predicted: number;
  truth: number;
}

export function boundaryF1(predicted: readonly number[], truth: readonly number[], tolerance = 2): BoundaryScore {
  const pairs: { p: number; t: number; d: number }[] = [];
  predicted.forEach((p, pi) => truth.forEach((t, ti) => {
    const d = Math.abs(p - t);
    if (d <= tolerance) pairs.push({ p: pi, t: ti, d });
  }));
  pairs.sort((a, b) => a.d - b.d);
  const usedP = new Set<number>();
  const usedT = new Set<number>();
  let hits = 0;
  for (const pair of pairs) {
    if (usedP.has(pair.p) || usedT.has(pair.t)) continue;
    usedP.add(pair.p);
    usedT.add(pair.t);
    hits += 1;
  }
  const precision = predicted.length > 0 ? hits / predicted.length : truth.length === 0 ? 1 : 0;
  const recall = truth.length > 0 ? hits / truth.length : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, hits, predicted: predicted.length, truth: truth.length };
}

/** The inner boundaries of a list of events: every start except the first. */
export function eventBoundaries(events: readonly { start: number }[]): number[] {
  return events.slice(1).map((e) => e.start);
}
