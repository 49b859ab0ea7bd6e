// A light multi-object tracker for one stream: each keyframe's detections are matched to the live
// tracks of the same label, by overlap (IoU) first and by centre distance for small or fast
// objects that moved off their last box, greedily best pair first. A track unseen for longer than
// its memory ends. No model and no motion prediction: at one keyframe a second, objects that stay
// in view overlap their last box, and those that cross it fast are too few per frame to confuse.
import type { Detection } from '../records/event.js';
import type { LiveTrack, TrackerState } from '../records/segmenter-state.js';

export type { LiveTrack, TrackerState };

export interface TrackOptions {
  /** Smallest IoU that continues a track. */
  iou: number;
  /** Largest centre distance, in units of the larger box's diagonal, that continues a track without overlap. */
  centre: number;
  /** Seconds a track lives on unseen (a missed detection, a short occlusion). */
  memorySeconds: number;
}

export function initialTracker(): TrackerState {
  return { nextId: 1, live: [], ended: [] };
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const [ax1, ay1, ax2, ay2] = a as [number, number, number, number];
  const [bx1, by1, bx2, by2] = b as [number, number, number, number];
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Centre distance over the larger box's diagonal: 0 same centre, 1 a whole object-length apart. */
export function centreDistance(a: readonly number[], b: readonly number[]): number {
  const [ax1, ay1, ax2, ay2] = a as [number, number, number, number];
  const [bx1, by1, bx2, by2] = b as [number, number, number, number];
  const dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2;
  const dy = (ay1 + ay2) / 2 - (by1 + by2) / 2;
  const diag = Math.max(Math.hypot(ax2 - ax1, ay2 - ay1), Math.hypot(bx2 - bx1, by2 - by1), 1e-6);
  return Math.hypot(dx, dy) / diag;
}

/**
 * Advances the tracker to keyframe time t with its detections and returns them with track ids.
 * Tracks unseen for longer than their memory move to `ended` first.
 */
export function track(state: TrackerState, t: number, detections: readonly Detection[], options: TrackOptions): Detection[] {
  const expired = state.live.filter((tr) => t - tr.last > options.memorySeconds);
  if (expired.length > 0) {
    state.ended.push(...expired);
    state.live = state.live.filter((tr) => t - tr.last <= options.memorySeconds);
  }
  // Every plausible (track, detection) pair, scored so that any overlap beats no overlap.
  const pairs: { tr: number; det: number; score: number }[] = [];
  state.live.forEach((tr, i) => {
    detections.forEach((d, j) => {
      if (d.label !== tr.label) return;
      const overlap = iou(tr.box, d.box);
      if (overlap >= options.iou) {
        pairs.push({ tr: i, det: j, score: 1 + overlap });
        return;
      }
      const dist = centreDistance(tr.box, d.box);
      if (dist <= options.centre) pairs.push({ tr: i, det: j, score: 1 - dist / (options.centre + 1e-9) });
    });
  });
  pairs.sort((a, b) => b.score - a.score);
  const trackOf = new Map<number, number>();
  const usedTracks = new Set<number>();
  for (const p of pairs) {
    if (usedTracks.has(p.tr) || trackOf.has(p.det)) continue;
    usedTracks.add(p.tr);
    trackOf.set(p.det, p.tr);
  }
  return detections.map((d, j) => {
    const index = trackOf.get(j);
    let tr = index === undefined ? undefined : state.live[index];
    if (!tr) {
      tr = { id: state.nextId, label: d.label, box: [...d.box], first: t, last: t, hits: 0, score: 0 };
      state.nextId += 1;
      state.live.push(tr);
    }
    tr.box = [...d.box];
    tr.last = t;
    tr.hits += 1;
    tr.score = Math.max(tr.score, d.score);
    return { ...d, track: tr.id };
  });
}

/** Every track seen so far that is still remembered or ended since the last take, by id. */
export function knownTracks(state: TrackerState): Map<number, LiveTrack> {
  return new Map([...state.ended, ...state.live].map((tr) => [tr.id, tr]));
}
