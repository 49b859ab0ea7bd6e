// Object-detector output to detections: per-label score thresholds, the kept labels, boxes mapped
// from the model's square input back to the frame's pixels, and per-label non-maximum suppression.
// Pure, so it is tested on hand-made output rows.

/** One object found on a frame (pipelines/records' Detection has the same shape). */
export interface ObjectBox {
  label: string;
  score: number;
  /** [x1, y1, x2, y2] in the frame's pixels. */
  box: [number, number, number, number];
}

export interface DetectionFilter {
  /** Labels kept; empty keeps every label. */
  labels: readonly string[];
  /** Threshold for labels without their own. */
  minScore: number;
  thresholds: Readonly<Record<string, number>>;
  /** Same-label boxes overlapping more than this are one object; the higher score stays. */
  nmsIou: number;
  /**
   * Boxes of different labels overlapping more than this are one object the model could not
   * name for sure; only the best-scored label stays (CenterNet scores each label's peak apart).
   */
  sameObjectIou: number;
  maxPerFrame: number;
}

export function boxIou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2] as number, b[2] as number) - Math.max(a[0] as number, b[0] as number);
  const h = Math.min(a[3] as number, b[3] as number) - Math.max(a[1] as number, b[1] as number);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (r: readonly number[]) => ((r[2] as number) - (r[0] as number)) * ((r[3] as number) - (r[1] as number));
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Decodes rows of [x1, y1, x2, y2, score, class] (input pixels of a size x size square the frame
 * was stretched to) into the frame's detections, best first.
 */
export function decodeDetections(rows: Float32Array, frame: { width: number; height: number }, size: number, labels: readonly string[], filter: DetectionFilter): ObjectBox[] {
  const kept = filter.labels.length > 0 ? new Set(filter.labels) : null;
  const threshold = (label: string) => filter.thresholds[label] ?? filter.minScore;
  // Suppression looks at every label down to the lowest threshold, reported or not: a box the
  // model scores higher as a chair than as a car is not a car, even when chairs are not reported.
  const floor = Math.min(filter.minScore, ...Object.values(filter.thresholds));
  const sx = frame.width / size;
  const sy = frame.height / size;
  const clampX = (v: number) => round1(Math.min(Math.max(v * sx, 0), frame.width));
  const clampY = (v: number) => round1(Math.min(Math.max(v * sy, 0), frame.height));
  const candidates: ObjectBox[] = [];
  for (let r = 0; r + 6 <= rows.length; r += 6) {
    const score = rows[r + 4] as number;
    if (!(score >= floor) || score <= 0) continue;
    const label = labels[Math.round(rows[r + 5] as number)];
    if (label === undefined) continue;
    const x1 = clampX(Math.min(rows[r] as number, rows[r + 2] as number));
    const x2 = clampX(Math.max(rows[r] as number, rows[r + 2] as number));
    const y1 = clampY(Math.min(rows[r + 1] as number, rows[r + 3] as number));
    const y2 = clampY(Math.max(rows[r + 1] as number, rows[r + 3] as number));
    if (x2 <= x1 || y2 <= y1) continue;
    candidates.push({ label, score: Math.round(score * 1000) / 1000, box: [x1, y1, x2, y2] });
  }
  candidates.sort((a, b) => b.score - a.score);
  const survivors: ObjectBox[] = [];
  for (const c of candidates) {
    if (survivors.some((o) => boxIou(o.box, c.box) > (o.label === c.label ? filter.nmsIou : filter.sameObjectIou))) continue;
    survivors.push(c);
  }
  return survivors.filter((c) => c.score >= threshold(c.label) && (!kept || kept.has(c.label))).slice(0, filter.maxPerFrame);
}

/** A box found in a window of a frame, moved to the frame's pixels. */
export function shiftBox(box: ObjectBox['box'], window: { x: number; y: number }): ObjectBox['box'] {
  return [round1(box[0] + window.x), round1(box[1] + window.y), round1(box[2] + window.x), round1(box[3] + window.y)];
}
