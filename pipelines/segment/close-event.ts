// Turns what was buffered for one event into a ClosedEvent: pattern separation (near-duplicate
// keyframes and audio windows are dropped, HippoMM-style), mean vectors per space, the
// representative thumbnail, tags, and novelty against the previous event.
import type { SegmentOptions } from '../../config/schema.js';
import { eventId, type ClosedEvent, type MomentRecord, type OcrLine, type TranscriptSpan } from '../records/event.js';
import type { SpeechSpan } from '../records/perception.js';
import type { BoundaryReason, BufferedAudioWindow, BufferedKeyframe } from '../records/segmenter-state.js';
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
    ...keptFrames.map((k): MomentRecord => ({ kind: 'keyframe', t: k.t, vectors: k.vectors, thumbnail: k.thumbnail })),
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

  return {
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
