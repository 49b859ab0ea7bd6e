// Stores one closed event in long-term memory: pattern separation of its moments, pattern
// completion into the previous event when it continues the same scene, a summary, strength, then
// the writes in crash-safe order (moments first, the event row last, see MemoryStore).
import { PermanentError } from '../../config/errors.js';
import type { Config } from '../../config/schema.js';
import { STREAM_NAME, type ClosedEvent, type StoredEvent } from '../records/event.js';
import type { EventWrite, MemoryStore, MomentWrite, PreviousEvent } from '../repositories/memory-store.js';
import { continuesScene, joinDistinct, mergedVectors, separateMoments, unionTags } from './completion.js';
import { mergeObjects, NO_OBJECTS, presenceDiffers } from './objects.js';
import { initialStrength, salience } from './strength.js';
import type { Summarizer } from './summary.js';
import { toF32Set } from '../vectors.js';

/** An event that can never be stored (bad stream name, times); retrying cannot help. */
export class InvalidEventError extends PermanentError {
  override readonly name = 'InvalidEventError';
}

export type ConsolidateStore = Pick<MemoryStore, 'hasEvent' | 'previousEventDetail' | 'upsertMoments' | 'upsertEvent'>;

export interface ConsolidateDeps {
  store: ConsolidateStore;
  summarizer: Summarizer;
  memory: Config['memory'];
  now?: () => number;
  /** Test seam: runs between the moments write and the event write. */
  afterMoments?: () => Promise<void> | void;
  signal?: AbortSignal;
}

export interface ConsolidateOutcome {
  /** stored: a new event row; merged: folded into `id`; duplicate: already in memory, nothing written. */
  status: 'stored' | 'merged' | 'duplicate';
  id: string;
  moments: number;
}

export function validateEvent(event: ClosedEvent): void {
  const problems: string[] = [];
  if (!STREAM_NAME.test(event.stream)) problems.push(`stream ${JSON.stringify(event.stream)} is not a stream name`);
  if (typeof event.id !== 'string' || !/^[a-z0-9][a-z0-9_.-]{0,127}$/.test(event.id)) problems.push(`id ${JSON.stringify(event.id)} is not an event id`);
  for (const key of ['start', 'end', 'startedAt', 'endedAt'] as const) {
    if (typeof event[key] !== 'number' || !Number.isFinite(event[key])) problems.push(`${key} is not a finite number`);
  }
  if (event.end < event.start) problems.push(`end ${event.end} is before start ${event.start}`);
  if (!Array.isArray(event.moments)) problems.push('moments is not a list');
  if (problems.length > 0) throw new InvalidEventError(`closed event ${event.id ?? '?'} cannot be stored: ${problems.join('; ')}`);
}

export function transcriptText(event: ClosedEvent): string {
  return event.transcript.map((s) => s.text.trim()).filter(Boolean).join(' ');
}

export function ocrText(event: ClosedEvent): string {
  return joinDistinct(event.ocr.map((l) => l.text), ' | ');
}

export function momentId(event: ClosedEvent, moment: { kind: string; t: number }): string {
  return `${event.id}.${moment.kind === 'audio' ? 'a' : 'k'}${Math.round(moment.t * 1000)}`;
}

export async function consolidateEvent(event: ClosedEvent, deps: ConsolidateDeps): Promise<ConsolidateOutcome> {
  validateEvent(event);
  const now = deps.now ?? Date.now;
  // Idempotency: a stored event, or one already merged into its predecessor, is left alone.
  if (await deps.store.hasEvent(event.id)) return { status: 'duplicate', id: event.id, moments: 0 };
  // Only an event that could absorb this one matters: one that began at most mergeMaxSeconds ago.
  const previous = await deps.store.previousEventDetail(event.stream, event.start, deps.memory.mergeMaxSeconds);
  if (previous?.mergedIds.includes(event.id)) return { status: 'duplicate', id: previous.event.id, moments: 0 };

  const kept = separateMoments(event.moments, deps.memory.separationSimilarity);
  const vectors = toF32Set(event.vectors);
  const transcript = transcriptText(event);
  const ocr = ocrText(event);
  const thumbnails = [event.thumbnail, ...kept.map((m) => m.thumbnail)].filter((t): t is string => typeof t === 'string' && t.length > 0);

  const objects = event.objects ?? NO_OBJECTS;
  let target: PreviousEvent | undefined;
  const rule = { similarity: deps.memory.mergeSimilarity, maxGapSeconds: deps.memory.mergeMaxGapSeconds, maxSeconds: deps.memory.mergeMaxSeconds };
  // A label arriving or leaving is what separates these two events, however alike the pictures
  // are: merging would erase the visit (a person in a room differs from the room by a few pixels).
  const presenceChanged = previous !== undefined && (previous.closedBy === 'presence' || presenceDiffers(previous.event, objects));
  if (previous && !presenceChanged && continuesScene({ ...previous.event, vectors: previous.vectors }, { ...event, vectors }, rule)) target = previous;

  let record: EventWrite;
  if (target) {
    const { event: into } = target;
    const detail = target;
    const mergedTranscript = [into.transcript, transcript].filter((s) => s.trim()).join(' ');
    const mergedOcr = joinDistinct([into.ocr, ocr], ' | ');
    const tags = unionTags(into.tags, event.tags);
    const mergedObjects = mergeObjects(into, objects);
    const s = Math.max(detail.salience, salience({ transcript, ocr, novelty: event.novelty }));
    const summary = await deps.summarizer.summarize(
      { stream: into.stream, start: into.start, end: Math.max(into.end, event.end), startedAt: into.startedAt, transcript: mergedTranscript, ocr: mergedOcr, tags, thumbnails: [into.thumbnail ?? '', ...thumbnails].filter(Boolean), objects: mergedObjects },
      deps.signal,
    );
    record = {
      ...into,
      end: Math.max(into.end, event.end),
      endedAt: Math.max(into.endedAt, event.endedAt),
      transcript: mergedTranscript,
      ocr: mergedOcr,
      tags: unionTags(tags, summary.tags),
      summary: summary.summary,
      needsSummary: summary.needsSummary,
      thumbnail: into.thumbnail ?? event.thumbnail,
      // Merging never weakens a memory: keep what recalls earned, raise to the new salience.
      strength: Math.max(into.strength, initialStrength(s, deps.memory.baseStrengthDays)),
      vectors: mergedVectors(target.vectors, detail.momentCount, vectors, kept.length),
      salience: s,
      novelty: detail.novelty,
      momentCount: detail.momentCount + kept.length,
      mergedIds: [...new Set([...detail.mergedIds, event.id])],
      closedBy: event.closedBy,
      ...mergedObjects,
      consolidatedAt: now(),
    };
  } else {
    const s = salience({ transcript, ocr, novelty: event.novelty });
    const summary = await deps.summarizer.summarize({ stream: event.stream, start: event.start, end: event.end, startedAt: event.startedAt, transcript, ocr, tags: event.tags, thumbnails, objects }, deps.signal);
    record = {
      id: event.id,
      stream: event.stream,
      start: event.start,
      end: event.end,
      startedAt: event.startedAt,
      endedAt: event.endedAt,
      summary: summary.summary,
      transcript,
      ocr,
      tags: unionTags(event.tags, summary.tags),
      thumbnail: event.thumbnail,
      strength: initialStrength(s, deps.memory.baseStrengthDays),
      recallCount: 0,
      lastRecalledAt: null,
      level: 0,
      needsSummary: summary.needsSummary,
      vectors,
      salience: s,
      novelty: event.novelty,
      momentCount: kept.length,
      mergedIds: [event.id],
      closedBy: event.closedBy,
      ...objects,
      consolidatedAt: now(),
    };
  }

  const moments: MomentWrite[] = kept.map((m) => ({
    id: momentId(event, m),
    eventId: record.id,
    stream: event.stream,
    kind: m.kind,
    t: m.t,
    startedAt: event.startedAt + (m.t - event.start) * 1000,
    thumbnail: m.thumbnail ?? null,
    detections: m.detections ?? [],
    vectors: toF32Set(m.vectors),
  }));
  await deps.store.upsertMoments(moments);
  await deps.afterMoments?.();
  await deps.store.upsertEvent(record);
  return { status: target ? 'merged' : 'stored', id: record.id, moments: moments.length };
}
