// Which keyframes of a chunk each gated model runs on. A model runs when its picture changed since
// its last run on the stream (thresholded changed area of the small grey copies), when its refresh
// interval has passed (so still objects are re-confirmed), or when gating is off for it; otherwise
// the keyframe carries the result of the model's last run forward, marked as carried.
import { BACKGROUND_FIELD, encodeGateValue, type GateBackground, type GateMark, type GateWrite } from '../records/gate-state.js';
import { changedArea, foldBackground, type GreyFrame } from './change-signal.js';

export interface GateOptions {
  enabled: boolean;
  refreshSeconds: number;
}

export interface ChangeOptions {
  pixelThreshold: number;
  minArea: number;
}

/**
 * Per keyframe: null (not eligible: the model has nothing to do there), run, or carry from a run.
 * A run because the picture changed names the picture it changed from (`since`), so a model may
 * look again only where it changed (`sinceFrom`: the stored mark or the chunk's keyframe whose run
 * it was); a run without it (first, refresh, gating off) sees it all.
 */
export type GateDecision = null | { run: true; since?: GreyFrame; sinceFrom?: 'mark' | number } | { run: false; from: 'mark' | number; t: number };

interface GatedKeyframe {
  t: number;
  grey: GreyFrame;
}

/** Stream times closer than this are the same keyframe (a retried chunk finds its own mark). */
const SAME_T = 1e-6;

export function planGate(keyframes: GatedKeyframe[], eligible: boolean[], mark: GateMark | undefined, gate: GateOptions, change: ChangeOptions): GateDecision[] {
  let ref: { t: number; grey: GreyFrame; from: 'mark' | number } | undefined = mark ? { t: mark.t, grey: { grey: mark.grey, width: mark.width, height: mark.height }, from: 'mark' } : undefined;
  return keyframes.map((k, i): GateDecision => {
    if (!eligible[i]) return null;
    if (gate.enabled && ref) {
      if (ref.from === 'mark' && Math.abs(ref.t - k.t) < SAME_T) return { run: false, from: 'mark', t: ref.t };
      // A reference from later stream time belongs to a chunk perceived before this one: no basis to skip.
      const usable = ref.t < k.t && k.t - ref.t < gate.refreshSeconds;
      if (usable) {
        if (changedArea(k.grey, ref.grey, change.pixelThreshold) < change.minArea) return { run: false, from: ref.from, t: ref.t };
        const since = { since: ref.grey, sinceFrom: ref.from };
        ref = { t: k.t, grey: k.grey, from: i };
        return { run: true, ...since };
      }
    }
    ref = { t: k.t, grey: k.grey, from: i };
    return { run: true };
  });
}

export interface GatedResults<R> {
  /** Per keyframe: the model's result (run or carried), null where it was not eligible. */
  results: (R | null)[];
  /** Per keyframe: the stream time of the run whose result was carried, null where it ran or was not eligible. */
  carriedFrom: (number | null)[];
  /** The new mark to store: the chunk's last run, if any. */
  write: GateWrite | undefined;
}

/**
 * Runs a model on the keyframes its plan says to (one call, so it batches), fills the rest from the
 * stored mark or from the chunk's own earlier run, and returns the mark to store.
 */
export async function runGated<R>(field: string, keyframes: GatedKeyframe[], plan: GateDecision[], mark: GateMark | undefined, run: (indices: number[]) => Promise<R[]>): Promise<GatedResults<R>> {
  const indices = plan.flatMap((d, i) => (d?.run ? [i] : []));
  const ran = indices.length > 0 ? await run(indices) : [];
  const byIndex = new Map(indices.map((index, j) => [index, ran[j] as R]));
  const results = plan.map((d, i): R | null => {
    if (d === null) return null;
    if (d.run) return byIndex.get(i) as R;
    return d.from === 'mark' ? ((mark as GateMark<R>).result) : (byIndex.get(d.from) as R);
  });
  const carriedFrom = plan.map((d) => (d && !d.run ? d.t : null));
  const last = indices[indices.length - 1];
  const write = last === undefined ? undefined : markWrite(field, keyframes[last] as GatedKeyframe, byIndex.get(last) as R);
  return { results, carriedFrom, write };
}

export function markWrite<R>(field: string, keyframe: GatedKeyframe, result: R): GateWrite {
  const value: GateMark<R> = { t: keyframe.t, grey: keyframe.grey.grey, width: keyframe.grey.width, height: keyframe.grey.height, result };
  return { field, t: keyframe.t, value: encodeGateValue(value) };
}

/**
 * The recorded change signal: each keyframe against the stream's running background (changed area,
 * 0..1; null on the stream's first keyframe), folding newer keyframes into the background.
 */
export function trackBackground(keyframes: GatedKeyframe[], background: GateBackground | undefined, options: { pixelThreshold: number; backgroundAlpha: number }): { change: (number | null)[]; write: GateWrite | undefined } {
  let bg = background;
  let folded = false;
  const change = keyframes.map((k) => {
    const area = bg ? changedArea(k.grey, bg, options.pixelThreshold) : null;
    // An older chunk perceived late is measured against the newer background but does not move it back.
    if (!bg || bg.t < k.t) {
      bg = { ...foldBackground(bg, k.grey, options.backgroundAlpha), t: k.t };
      folded = true;
    }
    return area === null ? null : Math.round(area * 10_000) / 10_000;
  });
  return { change, write: folded && bg ? { field: BACKGROUND_FIELD, t: bg.t, value: encodeGateValue(bg) } : undefined };
}
