// Cross-modal completion (HippoMM's pattern completion at query time): a hit in one modality is an
// anchor, and the other modality is fetched in a window around it, so "the van arrived" found in a
// keyframe also brings what was said as it arrived. Windows of one stream that nearly touch merge.

export enum AnchorModality {
  Visual = 'visual',
  Audio = 'audio',
}

export interface Anchor {
  stream: string;
  /** Stream seconds of the hit (a keyframe's time, an audio window's centre). */
  t: number;
  modality: AnchorModality;
}

export interface CompletionWindow {
  stream: string;
  start: number;
  end: number;
  /** The modalities whose anchors formed this window. */
  from: AnchorModality[];
}

export interface CompletionSettings {
  /** Seconds either side of a visual hit. @defaultValue 1 */
  visualS: number;
  /** Seconds either side of an audio hit. @defaultValue 2 */
  audioS: number;
  /** Windows of one stream closer than this are merged into one. @defaultValue 2 */
  mergeGapS: number;
}

export const DEFAULT_COMPLETION: CompletionSettings = { visualS: 1, audioS: 2, mergeGapS: 2 };

/** Windows around anchors, merged per stream, sorted by stream then start. */
export function completionWindows(anchors: readonly Anchor[], settings: CompletionSettings = DEFAULT_COMPLETION): CompletionWindow[] {
  const byStream = new Map<string, CompletionWindow[]>();
  for (const a of anchors) {
    const half = a.modality === AnchorModality.Visual ? settings.visualS : settings.audioS;
    const list = byStream.get(a.stream) ?? [];
    list.push({ stream: a.stream, start: Math.max(0, a.t - half), end: a.t + half, from: [a.modality] });
    byStream.set(a.stream, list);
  }
  const out: CompletionWindow[] = [];
  for (const stream of [...byStream.keys()].sort()) {
    const list = (byStream.get(stream) ?? []).sort((x, y) => x.start - y.start);
    let current: CompletionWindow | undefined;
    for (const w of list) {
      if (current && w.start - current.end < settings.mergeGapS) {
        current.end = Math.max(current.end, w.end);
        for (const m of w.from) if (!current.from.includes(m)) current.from.push(m);
      } else {
        if (current) out.push(current);
        current = { ...w, from: [...w.from] };
      }
    }
    if (current) out.push(current);
  }
  return out;
}

/** The other modality to fetch for a window: visual anchors want sound and speech, audio anchors want pictures. */
export function wantedModalities(window: CompletionWindow): AnchorModality[] {
  const wanted = new Set<AnchorModality>();
  for (const m of window.from) wanted.add(m === AnchorModality.Visual ? AnchorModality.Audio : AnchorModality.Visual);
  return [...wanted];
}
