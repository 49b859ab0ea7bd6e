// Stores closed events in long-term memory, a batch at a time: pattern separation of each event's
// moments, pattern completion into the previous event of its stream when it continues the same
// scene (a previous event stored earlier or one earlier in the same batch), a summary and
// strength per resulting event, then two writes in crash-safe order: every moment of the batch in
// one merge-insert, then every event row in one more (see memory-tables.ts).
import { PermanentError } from '../../config/errors.js';
import type { Config } from '../../config/schema.js';
import { STREAM_NAME, type ClosedEvent, type MomentRecord } from '../records/event.js';
import type { EventWrite, MemoryStore, MomentWrite, PreviousEvent } from '../repositories/memory-store.js';
import { continuesScene, joinDistinct, mergedVectors, separateMoments, unionTags } from './completion.js';
import { mergeObjects, NO_OBJECTS, presenceDiffers } from './objects.js';
import { initialStrength, salience } from './strength.js';
import type { Summarizer } from './summary.js';
import { toF32, toF32Set } from '../vectors.js';
import type { FaceWrite } from '../repositories/people.js';
import { groupFaces } from '../records/identities.js';

/** An event that can never be stored (bad stream name, times); retrying cannot help. */
export class InvalidEventError extends PermanentError {
  override readonly name = 'InvalidEventError';
}

export type ConsolidateStore = Pick<MemoryStore, 'existingEventIds' | 'eventDetailsBetween' | 'upsertMoments' | 'upsertEvents'>;

/** Where the faces of stored events go and who they are recognised as (PeopleStore). */
export interface ConsolidatePeople {
  /**
   * Stores one person's faces and returns the identity they were assigned to: undefined when none
   * was stored (every crop gone: the faces were forgotten while gating carried them).
   */
  addFaces(faces: FaceWrite[]): Promise<string | undefined>;
}

export interface ConsolidateDeps {
  store: ConsolidateStore;
  /** With it, events' faces are stored and recognised; without it (faces off) they are ignored. */
  people?: ConsolidatePeople;
  /** Faces of one event closer than this to a group's mean are one person (faces.eventGroupDistance). */
  faceGroupDistance?: number;
  summarizer: Summarizer;
  memory: Config['memory'];
  now?: () => number;
  /** Test seam: runs between the moments write and the event rows write. */
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

/** One event's draft while its batch is planned: the row to write, minus its summary. */
interface Draft {
  record: EventWrite;
  detail: PreviousEvent;
  /** Thumbnails the summariser may look at (the absorbing event's first). */
  thumbnails: string[];
  /** Tags before the summary's are added. */
  tags: string[];
  /** Written by this batch (new or grown), as opposed to only read as a merge candidate. */
  touched: boolean;
}

function detailOf(record: EventWrite): PreviousEvent {
  return {
    event: { ...record, labels: record.labels ?? [], counts: record.counts ?? {}, tracks: record.tracks ?? [], people: record.people ?? [] },
    vectors: record.vectors,
    salience: record.salience,
    novelty: record.novelty,
    momentCount: record.momentCount,
    mergedIds: record.mergedIds,
    closedBy: record.closedBy,
  };
}

function storedDraft(detail: PreviousEvent): Draft {
  const record: EventWrite = { ...detail.event, vectors: detail.vectors, salience: detail.salience, novelty: detail.novelty, momentCount: detail.momentCount, mergedIds: detail.mergedIds, closedBy: detail.closedBy, consolidatedAt: 0 };
  return { record, detail, thumbnails: detail.event.thumbnail ? [detail.event.thumbnail] : [], tags: detail.event.tags, touched: false };
}

/** The draft that absorbs `event`, or a new one; returns it with the event's kept moments. */
function plan(event: ClosedEvent, previous: Draft | undefined, deps: ConsolidateDeps, now: number): { draft: Draft; kept: MomentRecord[]; merged: boolean } {
  const kept = separateMoments(event.moments, deps.memory.separationSimilarity);
  const vectors = toF32Set(event.vectors);
  const transcript = transcriptText(event);
  const ocr = ocrText(event);
  const thumbnails = [event.thumbnail, ...kept.map((m) => m.thumbnail)].filter((t): t is string => typeof t === 'string' && t.length > 0);
  const objects = event.objects ?? NO_OBJECTS;
  const rule = { similarity: deps.memory.mergeSimilarity, maxGapSeconds: deps.memory.mergeMaxGapSeconds, maxSeconds: deps.memory.mergeMaxSeconds };
  const p = previous?.detail;
  // A label arriving or leaving is what separates these two events, however alike the pictures
  // are: merging would erase the visit (a person in a room differs from the room by a few pixels).
  const presenceChanged = p !== undefined && (p.closedBy === 'presence' || presenceDiffers(p.event, objects));
  if (previous && p && !presenceChanged && continuesScene({ ...p.event, vectors: p.vectors }, { ...event, vectors }, rule)) {
    const into = previous.record;
    const s = Math.max(p.salience, salience({ transcript, ocr, novelty: event.novelty }));
    const record: EventWrite = {
      ...into,
      end: Math.max(into.end, event.end),
      endedAt: Math.max(into.endedAt, event.endedAt),
      transcript: [into.transcript, transcript].filter((x) => x.trim()).join(' '),
      ocr: joinDistinct([into.ocr, ocr], ' | '),
      thumbnail: into.thumbnail ?? event.thumbnail,
      // Merging never weakens a memory: keep what recalls earned, raise to the new salience.
      strength: Math.max(into.strength, initialStrength(s, deps.memory.baseStrengthDays)),
      vectors: mergedVectors(p.vectors, p.momentCount, vectors, kept.length),
      salience: s,
      novelty: p.novelty,
      momentCount: p.momentCount + kept.length,
      mergedIds: [...new Set([...p.mergedIds, event.id])],
      closedBy: event.closedBy,
      ...mergeObjects(p.event, objects),
      consolidatedAt: now,
    };
    const draft = { record, detail: detailOf(record), thumbnails: [...previous.thumbnails, ...thumbnails], tags: unionTags(previous.tags, event.tags), touched: true };
    return { draft, kept, merged: true };
  }
  const s = salience({ transcript, ocr, novelty: event.novelty });
  const record: EventWrite = {
    id: event.id,
    stream: event.stream,
    start: event.start,
    end: event.end,
    startedAt: event.startedAt,
    endedAt: event.endedAt,
    summary: '',
    transcript,
    ocr,
    tags: event.tags,
    thumbnail: event.thumbnail,
    strength: initialStrength(s, deps.memory.baseStrengthDays),
    recallCount: 0,
    lastRecalledAt: null,
    level: 0,
    needsSummary: true,
    vectors,
    salience: s,
    novelty: event.novelty,
    momentCount: kept.length,
    mergedIds: [event.id],
    closedBy: event.closedBy,
    ...objects,
    consolidatedAt: now,
  };
  return { draft: { record, detail: detailOf(record), thumbnails, tags: event.tags, touched: true }, kept, merged: false };
}

/**
 * Stores an event's faces under the stored event that holds them and returns the identities seen:
 * the faces are grouped by person inside the event first (groupFaces), and each group is
 * recognised by its mean descriptor, which is steadier than any one frame.
 */
async function recognise(event: ClosedEvent, storedAs: string, deps: ConsolidateDeps): Promise<string[]> {
  const faces = event.faces ?? [];
  if (!deps.people || faces.length === 0) return [];
  const described = faces.map((face) => ({ ...face, descriptor: toF32(face.descriptor) }));
  const ids: string[] = [];
  for (const group of groupFaces(described, deps.faceGroupDistance ?? 0.45)) {
    const writes: FaceWrite[] = group.map((i) => {
      const face = described[i] as (typeof described)[number];
      // Deterministic per closed event, keyframe and place: a retried batch adds nothing twice.
      const place = face.box.map((v) => Math.round(v)).join('_');
      return { id: `${event.id}.f${Math.round(face.t * 1000)}.${place}`, stream: event.stream, t: face.t, wall: Math.round(event.startedAt + (face.t - event.start) * 1000), eventId: storedAs, score: face.score, descriptor: face.descriptor, crop: face.crop };
    });
    const id = await deps.people.addFaces(writes);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/**
 * Consolidates a batch of closed events (any streams, any order) and returns one outcome per
 * event, in the order given. Idempotent: events already stored, or already merged into another
 * event, are duplicates and change nothing. Within a stream events are taken in stream-time order,
 * so a batch gives the same memory as its events one at a time. The caller makes sure no other
 * process consolidates at the same time (the consolidate role holds a Redis lock), since pattern
 * completion reads the previous events before writing them back.
 */
export async function consolidateBatch(events: readonly ClosedEvent[], deps: ConsolidateDeps): Promise<ConsolidateOutcome[]> {
  for (const event of events) validateEvent(event);
  const now = (deps.now ?? Date.now)();
  const outcomes: ConsolidateOutcome[] = [];
  const stored = await deps.store.existingEventIds(events.map((e) => e.id));
  const drafts = new Map<string, Draft>();
  const moments: MomentWrite[] = [];
  // Positions, not events, key the outcomes: the same event may be in a batch twice.
  const byStream = new Map<string, number[]>();
  events.forEach((event, i) => {
    if (stored.has(event.id)) outcomes[i] = { status: 'duplicate', id: event.id, moments: 0 };
    else byStream.set(event.stream, [...(byStream.get(event.stream) ?? []), i]);
  });
  const at = (i: number) => events[i] as ClosedEvent;
  const within = deps.memory.mergeMaxSeconds;
  await Promise.all(
    [...byStream.values()].map(async (list) => {
      list.sort((a, b) => at(a).start - at(b).start || at(a).id.localeCompare(at(b).id) || a - b);
      const first = at(list[0] as number);
      const last = at(list[list.length - 1] as number);
      // Only an event that began at most mergeMaxSeconds before one of these can absorb it.
      for (const detail of await deps.store.eventDetailsBetween(first.stream, first.start - within, last.start)) drafts.set(detail.event.id, storedDraft(detail));
    }),
  );
  for (const list of byStream.values()) {
    const stream = at(list[0] as number).stream;
    const candidates = () => [...drafts.values()].filter((d) => d.record.stream === stream);
    for (const i of list) {
      const event = at(i);
      const absorbedBy = candidates().find((d) => d.record.mergedIds.includes(event.id));
      if (absorbedBy) {
        outcomes[i] = { status: 'duplicate', id: absorbedBy.record.id, moments: 0 };
        continue;
      }
      const previous = candidates()
        .filter((d) => d.record.start < event.start && d.record.start >= event.start - within)
        .sort((a, b) => b.record.start - a.record.start)[0];
      const { draft, kept, merged } = plan(event, previous, deps, now);
      const seen = await recognise(event, draft.record.id, deps);
      if (seen.length > 0) {
        draft.record.people = [...new Set([...(draft.record.people ?? []), ...seen])].sort();
        draft.detail = detailOf(draft.record);
      }
      drafts.set(draft.record.id, draft);
      for (const m of kept) {
        moments.push({
          id: momentId(event, m),
          eventId: draft.record.id,
          stream: event.stream,
          kind: m.kind,
          t: m.t,
          startedAt: event.startedAt + (m.t - event.start) * 1000,
          thumbnail: m.thumbnail ?? null,
          detections: m.detections ?? [],
          vectors: toF32Set(m.vectors),
        });
      }
      outcomes[i] = { status: merged ? 'merged' : 'stored', id: draft.record.id, moments: kept.length };
    }
  }
  const touched = [...drafts.values()].filter((d) => d.touched);
  // One summary per resulting event, however many closed events it absorbed in this batch.
  const records = await Promise.all(
    touched.map(async ({ record, thumbnails, tags }) => {
      const summary = await deps.summarizer.summarize(
        { stream: record.stream, start: record.start, end: record.end, startedAt: record.startedAt, transcript: record.transcript, ocr: record.ocr, tags, thumbnails, objects: { labels: record.labels ?? [], counts: record.counts ?? {}, tracks: record.tracks ?? [] } },
        deps.signal,
      );
      return { ...record, summary: summary.summary, needsSummary: summary.needsSummary, tags: unionTags(tags, summary.tags) };
    }),
  );
  await deps.store.upsertMoments(moments);
  await deps.afterMoments?.();
  await deps.store.upsertEvents(records);
  return outcomes;
}

/** One closed event: a batch of one. */
export async function consolidateEvent(event: ClosedEvent, deps: ConsolidateDeps): Promise<ConsolidateOutcome> {
  return (await consolidateBatch([event], deps))[0] as ConsolidateOutcome;
}
