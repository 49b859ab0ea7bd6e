// Turns what was buffered for one event into a ClosedEvent: pattern separation (near-duplicate
// keyframes and audio windows are dropped, HippoMM-style), mean vectors per space, the
// representative thumbnail, tags, and novelty against the previous event.
import type { SegmentOptions } from '../../config/schema.js';
import { eventId, type ClosedEvent, type EventFace, type EventObjects, type LabelCount, type MomentRecord, type OcrLine, type TrackSpan, type TranscriptSpan } from '../records/event.js';
import type { SpeechSpan } from '../records/perception.js';
import type { BoundaryReason, BufferedAudioWindow, BufferedKeyframe, LiveTrack } from '../records/segmenter-state.js';
import { centredCosine, distance, meanVector, medianAndSpread } from '../vectors.js';

export interface EventParts {
  stream: string;
  start: number;
  end: number;
  startedAt: number;
  endedAt: number;
  keyframes: BufferedKeyframe[];
  audioWindows: BufferedAudioWindow[];
  /** dBFS of the level windows inside the event. */
  levels: number[];
  speech: SpeechSpan[];
  transcript: TranscriptSpan[];
  ocr: OcrLine[];
  gapBefore: boolean;
  previousMeans: Record<string, Float32Array> | null;
  closedBy: BoundaryReason;
  /** The stream's tracks (live and recently ended) by id, for entries, exits and distinct counts. */
  tracks?: Map<number, LiveTrack>;
  /** Stream seconds of the latest keyframe the segmenter has seen (this event's or a later one's). */
  seenUntil?: number;
  /** Stream seconds of the first keyframe the detector ran on: objects seen there did not enter, they were there. */
  watchedSince?: number;
}

/**
 * What the detector saw during an event: labels present (by hysteresis) or carried by a track
 * detected often enough to count, distinct tracks and most at once per label, and each counted
 * track's entry and exit inside the event. Undefined when the detector ran on none of its keyframes.
 */
export function eventObjects(parts: Pick<EventParts, 'keyframes' | 'startedAt' | 'start' | 'tracks' | 'seenUntil' | 'watchedSince'>, minHits: number): EventObjects | undefined {
  const frames = parts.keyframes.filter((k) => k.detections !== undefined);
  if (frames.length === 0) return undefined;
  const tracks = parts.tracks ?? new Map<number, LiveTrack>();
  const counted = (id: number | undefined) => id !== undefined && (tracks.get(id)?.hits ?? 0) >= minHits;
  // A label belongs to the event when it was detected here while present: presence alone would
  // also cover the keyframes after a departure that is dated back to the first miss.
  const labels = new Set<string>();
  for (const k of frames) for (const d of k.detections ?? []) if ((k.present ?? []).includes(d.label)) labels.add(d.label);
  const spans = new Map<number, { label: string; enter: number; leave: number; score: number }>();
  for (const k of frames) {
    for (const d of k.detections ?? []) {
      if (!counted(d.track)) continue;
      labels.add(d.label);
      const span = spans.get(d.track as number);
      if (span) {
        span.leave = k.t;
        span.score = Math.max(span.score, d.score);
      } else spans.set(d.track as number, { label: d.label, enter: k.t, leave: k.t, score: d.score });
    }
  }
  const counts: Record<string, LabelCount> = {};
  for (const label of labels) {
    let max = 0;
    for (const k of frames) max = Math.max(max, (k.detections ?? []).filter((d) => d.label === label && (counted(d.track) || (k.present ?? []).includes(label))).length);
    const distinct = [...spans.values()].filter((sp) => sp.label === label).length;
    counts[label] = { distinct: Math.max(distinct, max > 0 ? 1 : 0), max: Math.max(max, 1) };
  }
  const seenUntil = Math.max(parts.seenUntil ?? -Infinity, (frames[frames.length - 1] as BufferedKeyframe).t);
  const wall = (t: number) => Math.round(parts.startedAt + (t - parts.start) * 1000);
  const out: TrackSpan[] = [...spans.entries()].map(([id, sp]) => {
    const tr = tracks.get(id) as LiveTrack;
    return {
      id,
      label: sp.label,
      enter: sp.enter,
      leave: sp.leave,
      enteredAt: wall(sp.enter),
      leftAt: wall(sp.leave),
      // It entered here if its first detection is here; it left here if its last detection so far
      // is here and a later keyframe (of this event or the next) has already missed it.
      entered: tr.first >= sp.enter && tr.first > (parts.watchedSince ?? -Infinity),
      left: tr.last <= sp.leave && seenUntil > sp.leave,
      score: sp.score,
    };
  });
  return { labels: [...labels].sort(), counts, tracks: out.sort((a, b) => a.enter - b.enter || a.id - b.id) };
}

/** Mean centred cosine over the spaces two items share; -1 when they share none. */
function similarity(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let sum = 0;
  let count = 0;
  for (const [space, v] of Object.entries(a)) {
    const w = b[space];
    if (!w) continue;
    sum += centredCosine(v, w);
    count += 1;
  }
  return count > 0 ? sum / count : -1;
}

/** Keeps an item unless it is at least `threshold` similar to one already kept. */
export function separate<T extends { vectors: Record<string, Float32Array> }>(items: readonly T[], threshold: number): T[] {
  const kept: T[] = [];
  for (const item of items) {
    if (Object.keys(item.vectors).length === 0) continue;
    if (kept.some((k) => similarity(k.vectors, item.vectors) >= threshold)) continue;
    kept.push(item);
  }
  return kept;
}

function meansBySpace(items: readonly { vectors: Record<string, Float32Array> }[]): Record<string, Float32Array> {
  const bySpace = new Map<string, Float32Array[]>();
  for (const item of items) {
    for (const [space, v] of Object.entries(item.vectors)) {
      const list = bySpace.get(space) ?? [];
      list.push(v);
      bySpace.set(space, list);
    }
  }
  const out: Record<string, Float32Array> = {};
  for (const [space, list] of bySpace) {
    const mean = meanVector(list);
    if (mean) out[space] = mean;
  }
  return out;
}

/** Motion level of an event from its keyframe-to-keyframe changes; the median, so one cut or flash does not decide it. */
export function motionTag(motions: readonly number[], options: Pick<SegmentOptions, 'motionLow' | 'motionHigh'>): string | null {
  if (motions.length === 0) return null;
  const mean = medianAndSpread(motions).median;
  if (mean < options.motionLow) return 'motion-low';
  if (mean < options.motionHigh) return 'motion-medium';
  return 'motion-high';
}

export function buildEvent(parts: EventParts, options: SegmentOptions): ClosedEvent {
  const keptFrames = separate(parts.keyframes, options.duplicateCosine);
  const keptAudio = separate(parts.audioWindows, options.duplicateCosine);
  const moments: MomentRecord[] = [
    ...keptFrames.map((k): MomentRecord => ({ kind: 'keyframe', t: k.t, vectors: k.vectors, thumbnail: k.thumbnail, ...(k.detections ? { detections: k.detections } : {}) })),
    ...keptAudio.map((w): MomentRecord => ({ kind: 'audio', t: w.t, vectors: w.vectors, thumbnail: null })),
  ].sort((a, b) => a.t - b.t);
  const vectors = { ...meansBySpace(keptAudio), ...meansBySpace(keptFrames) };

  // The representative keyframe is the kept one closest to the event's own mean picture.
  let thumbnail: string | null = null;
  let bestSimilarity = -Infinity;
  const frameMeans = meansBySpace(keptFrames);
  for (const frame of keptFrames) {
    if (!frame.thumbnail) continue;
    const sim = similarity(frame.vectors, frameMeans);
    if (sim > bestSimilarity) {
      bestSimilarity = sim;
      thumbnail = frame.thumbnail;
    }
  }
  thumbnail ??= parts.keyframes.find((k) => k.thumbnail)?.thumbnail ?? null;

  let novelty = 1;
  if (parts.previousMeans) {
    let most = 0;
    let shared = 0;
    for (const [space, v] of Object.entries(vectors)) {
      const previous = parts.previousMeans[space];
      if (!previous) continue;
      shared += 1;
      most = Math.max(most, distance(v, previous));
    }
    novelty = shared > 0 ? Math.min(1, most) : 1;
  }

  const tags: string[] = [];
  const speechSeconds = parts.speech.reduce((sum, span) => sum + Math.max(0, span.end - span.start), 0);
  if (speechSeconds >= 0.5) tags.push('speech');
  if (parts.levels.length > 0 && speechSeconds < 0.5) {
    const quiet = parts.levels.filter((db) => db < options.silenceDbfs).length;
    if (quiet / parts.levels.length >= 0.9) tags.push('silence');
  }
  // The first keyframe's change is the cut into this event, not movement inside it.
  const motion = motionTag(
    parts.keyframes.filter((k) => k.t > parts.start).map((k) => k.motion).filter((m): m is number => m !== null),
    options,
  );
  if (motion) tags.push(motion);
  if (parts.ocr.length > 0) tags.push('text');
  if (parts.gapBefore || parts.closedBy === 'gap') tags.push('gap');

  const objects = eventObjects(parts, options.presence.hits);
  // Every keyframe's faces, near-duplicate pictures included: a steady face seen several times
  // gives consolidation a steadier mean descriptor to recognise the person by. A face carried
  // forward by gating (same crop) is one sighting, counted once: at its first keyframe in the event.
  const watched = parts.keyframes.filter((k) => k.faces !== undefined);
  const crops = new Set<string>();
  const faces: EventFace[] | undefined =
    watched.length > 0
      ? watched.flatMap((k) =>
          (k.faces ?? []).flatMap((face) => {
            if (crops.has(face.crop)) return [];
            crops.add(face.crop);
            return [{ ...face, t: k.t }];
          }),
        )
      : undefined;
  return {
    ...(objects ? { objects } : {}),
    ...(faces ? { faces } : {}),
    id: eventId(parts.stream, parts.start),
    stream: parts.stream,
    start: parts.start,
    end: parts.end,
    startedAt: parts.startedAt,
    endedAt: parts.endedAt,
    transcript: parts.transcript,
    ocr: parts.ocr,
    tags,
    vectors,
    moments,
    thumbnail,
    novelty,
    closedBy: parts.closedBy,
  };
}
