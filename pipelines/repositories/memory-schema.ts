// The layout of long-term memory's LanceDB tables (columns, vector columns per embedding space)
// and the records read from them; memory-tables.ts writes them and the other memory-* modules read them.
import { createRequire } from 'node:module';
import { EngramError } from '../../config/errors.js';
import type { Detection, EventObjects, LabelCount, StoredEvent, TrackSpan } from '../records/event.js';
import { toF32 as vectorToF32 } from '../vectors.js';

// LanceDB checks Field/Schema with instanceof against the CommonJS build of apache-arrow it
// requires itself; an ESM import would load a second copy whose classes it refuses.
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');

export type MemoryTableName = 'events' | 'moments' | 'episodes';
export const MEMORY_TABLES: readonly MemoryTableName[] = ['events', 'moments', 'episodes'];

/** Embedding space ids: the same alphabet as model ids. */
export const SPACE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface SpaceInfo {
  space: string;
  /** The vector column holding it in every table. */
  column: string;
  dims: number;
}

export type Vectors = Record<string, Float32Array>;

/** An event as consolidate writes it; without objects (or people) it is stored as having seen none. */
export interface EventWrite extends Omit<StoredEvent, keyof EventObjects | 'people'>, Partial<EventObjects> {
  /** Face identities seen in it (people table ids). */
  people?: string[];
  vectors: Vectors;
  salience: number;
  novelty: number;
  momentCount: number;
  /** Ids of the closed events merged into this one by pattern completion (its own id included). */
  mergedIds: string[];
  closedBy: string;
  consolidatedAt: number;
}

export interface StoredMoment {
  id: string;
  eventId: string;
  stream: string;
  kind: 'keyframe' | 'audio';
  /** Stream seconds. */
  t: number;
  /** Wall-clock epoch ms. */
  startedAt: number;
  thumbnail: string | null;
  /** Keyframes: the detector's objects with track ids; [] for audio and without a detector. */
  detections: Detection[];
}

export interface MomentWrite extends Omit<StoredMoment, 'detections'> {
  vectors: Vectors;
  detections?: Detection[];
}

export interface StoredEpisode {
  /** `${stream}.h.${yyyy-mm-ddThh}` or `${stream}.d.${yyyy-mm-dd}` (UTC). */
  id: string;
  stream: string;
  /** 1 for an hour, 2 for a day. */
  level: number;
  /** Period bounds, wall-clock epoch ms. */
  startedAt: number;
  endedAt: number;
  /** Stream seconds covered by its events. */
  start: number;
  end: number;
  summary: string;
  tags: string[];
  eventCount: number;
  eventIds: string[];
  needsSummary: boolean;
  updatedAt: number;
}

export interface EpisodeWrite extends StoredEpisode {
  vectors: Vectors;
}

export interface RowOf {
  events: StoredEvent;
  moments: StoredMoment;
  episodes: StoredEpisode;
}

/**
 * The one filter of long-term memory: the store's reads and searches and the reasoner's ports take
 * it as is. Every bound is optional and all given bounds must hold; every value is validated and
 * quoted by the store (memory-filter.ts), never pasted.
 */
export interface MemoryFilter {
  /** Rows of any of these streams. */
  streams?: readonly string[];
  /** Wall-clock window, epoch ms: rows whose span overlaps it (`to` may be +Infinity). */
  wall?: WallWindow;
  /** Stream-time window, seconds: events and episodes whose span overlaps it, moments inside it. */
  streamTime?: StreamWindow;
  /**
   * Several stream-time windows, any of which matches (as `streamTime` each): the stretches of one
   * stream a question widens into are read together, one LanceDB query instead of one per stretch.
   */
  streamTimes?: readonly StreamWindow[];
  /** Only these events (events and episodes: id; moments: eventId). */
  eventIds?: readonly string[];
  /** Episodes only: 1 hour, 2 day. */
  level?: number;
  /** Events only: events that saw any of these detector labels ("person", "car"). */
  labels?: readonly string[];
  /** Events only: events where any of these face identities (people table ids) was seen. */
  people?: readonly string[];
}

/** Wall-clock window, epoch ms; a question reads it as [from, to), the store filters with both ends inclusive. */
export interface WallWindow {
  from: number;
  to: number;
}

/** Stream-time window, seconds from the stream's start, closed [start, end]. */
export interface StreamWindow {
  start: number;
  end: number;
}

export interface Hit<T> {
  /** Cosine similarity for vector search, BM25 score for text search; higher is better. */
  score: number;
  row: T;
}

export interface PreviousEvent {
  event: StoredEvent;
  vectors: Vectors;
  salience: number;
  novelty: number;
  momentCount: number;
  mergedIds: string[];
  closedBy: string;
}

/** A filter plus paging; events come in wall-clock order (stream start for ties). */
export interface ListEventsOptions extends MemoryFilter {
  limit?: number;
  offset?: number;
  /** Newest first instead of oldest first. */
  descending?: boolean;
}

/** A stretch of one stream's time (stream seconds). */
export interface StreamStretch extends StreamWindow {
  stream: string;
}

/** Where and when an event is, without its text: enough to pick events by time before reading them. */
export interface EventSpan {
  id: string;
  stream: string;
  /** Stream seconds. */
  start: number;
  end: number;
}

export interface TableStats {
  rows: number;
  /** Bytes of data as LanceDB counts them. */
  bytes: number;
  indices: string[];
}

export interface MemoryStats {
  tables: Record<MemoryTableName, TableStats>;
  /** Every byte under the LanceDB directory (versions and indexes included); null for object stores. */
  diskBytes: number | null;
  schemaVersion: number;
  spaces: SpaceInfo[];
}

/**
 * Schema 2: what the detector saw. Nullable, because migrating a version-1 store adds them as
 * all-null columns (read back as nothing seen). `labels` is "|person|traffic light|": the bars let
 * a filter match whole labels with LIKE, and full-text search reads the words between them.
 */
export const objectFields = {
  events: () => [f('labels', new arrow.Utf8(), true), f('labelCounts', new arrow.Utf8(), true), f('tracks', new arrow.Utf8(), true)],
  moments: () => [f('detections', new arrow.Utf8(), true)],
};

/**
 * Schema 3: the face identities seen in an event, "|id|id|" like labels (a LIKE filter matches a
 * whole id). Nullable: a migrated store reads null as nobody recognised.
 */
export const peopleFields = {
  events: () => [f('people', new arrow.Utf8(), true)],
};

/** A person id as a filter value (the people table's ids are UUIDs). */
export const PERSON_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** A detector label as a filter value: lower-case words, as COCO names them. */
export const LABEL_NAME = /^[a-z][a-z ]{0,39}$/;

export function labelsColumn(labels: readonly string[]): string {
  return labels.length === 0 ? '' : `|${[...new Set(labels)].sort().join('|')}|`;
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string' || value === '') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export function f(name: string, type: import('apache-arrow').DataType, nullable = false) {
  return new arrow.Field(name, type, nullable);
}

export function baseFields(table: MemoryTableName) {
  const utf8 = () => new arrow.Utf8();
  const f64 = () => new arrow.Float64();
  const i32 = () => new arrow.Int32();
  const bool = () => new arrow.Bool();
  const common = [f('id', utf8()), f('stream', utf8()), f('startedAt', f64()), f('endedAt', f64())];
  if (table === 'events') {
    return [
      ...common,
      f('start', f64()), f('end', f64()), f('summary', utf8()), f('transcript', utf8()), f('ocr', utf8()), f('tags', utf8()),
      f('thumbnail', utf8(), true), f('strength', f64()), f('retention', f64()), f('salience', f64()), f('novelty', f64()),
      f('recallCount', i32()), f('lastRecalledAt', f64(), true), f('level', i32()), f('needsSummary', bool()),
      f('momentCount', i32()), f('mergedIds', utf8()), f('closedBy', utf8()), f('consolidatedAt', f64()), f('prunedAt', f64(), true),
      ...objectFields.events(), ...peopleFields.events(),
    ];
  }
  if (table === 'moments') {
    return [...common, f('eventId', utf8()), f('kind', utf8()), f('t', f64()), f('thumbnail', utf8(), true), ...objectFields.moments()];
  }
  return [
    ...common,
    f('start', f64()), f('end', f64()), f('level', i32()), f('summary', utf8()), f('tags', utf8()), f('eventCount', i32()),
    f('eventIds', utf8()), f('needsSummary', bool()), f('updatedAt', f64()),
  ];
}

export function vectorField(column: string, dims: number) {
  return f(column, new arrow.FixedSizeList(dims, new arrow.Field('item', new arrow.Float32(), true)), true);
}

/** Column that holds a space: `v_` and the id with anything but [a-z0-9] as '_'. */
export function spaceColumn(space: string): string {
  if (!SPACE_NAME.test(space)) throw new EngramError(`not an embedding space id: ${JSON.stringify(space)}`);
  return `v_${space.replace(/[^a-z0-9]/g, '_')}`;
}

export const splitWords = (s: unknown) => (typeof s === 'string' && s.length > 0 ? s.split(' ') : []);
export const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));
export const numOrNull = (v: unknown) => (v === null || v === undefined ? null : num(v));

export function toEvent(r: Record<string, unknown>): StoredEvent {
  return {
    id: r.id as string, stream: r.stream as string, start: num(r.start), end: num(r.end),
    startedAt: num(r.startedAt), endedAt: num(r.endedAt), summary: r.summary as string,
    transcript: r.transcript as string, ocr: r.ocr as string, tags: splitWords(r.tags),
    thumbnail: (r.thumbnail as string | null) ?? null, strength: num(r.strength), recallCount: num(r.recallCount),
    lastRecalledAt: numOrNull(r.lastRecalledAt), level: num(r.level), needsSummary: Boolean(r.needsSummary),
    labels: typeof r.labels === 'string' ? r.labels.split('|').filter(Boolean) : [],
    counts: parseJson<Record<string, LabelCount>>(r.labelCounts, {}), tracks: parseJson<TrackSpan[]>(r.tracks, []),
    people: typeof r.people === 'string' ? r.people.split('|').filter(Boolean) : [],
  };
}

export function toMoment(r: Record<string, unknown>): StoredMoment {
  return {
    id: r.id as string, eventId: r.eventId as string, stream: r.stream as string, kind: r.kind as StoredMoment['kind'],
    t: num(r.t), startedAt: num(r.startedAt), thumbnail: (r.thumbnail as string | null) ?? null,
    detections: parseJson<Detection[]>(r.detections, []),
  };
}

export function toEpisode(r: Record<string, unknown>): StoredEpisode {
  return {
    id: r.id as string, stream: r.stream as string, level: num(r.level), startedAt: num(r.startedAt), endedAt: num(r.endedAt),
    start: num(r.start), end: num(r.end), summary: r.summary as string, tags: splitWords(r.tags), eventCount: num(r.eventCount),
    eventIds: splitWords(r.eventIds), needsSummary: Boolean(r.needsSummary), updatedAt: num(r.updatedAt),
  };
}

/** Columns read back per table: everything but the vectors (large, and not part of the records). */
export const PLAIN_COLUMNS = Object.fromEntries(MEMORY_TABLES.map((t) => [t, baseFields(t).map((x) => x.name)])) as Record<MemoryTableName, string[]>;

/**
 * Columns the records are built from (CONVERT). An event's consolidation bookkeeping (retention,
 * salience, novelty, momentCount, mergedIds, closedBy, consolidatedAt, prunedAt) and a moment's
 * endedAt are not part of the record, so reads that return records leave them out: each column a
 * LanceDB read selects costs ~0.3 ms for 10 random rows at 100k events (all 28 event columns
 * 11.4 ms, the id alone 3.2 ms), and a question reads rows on its critical path.
 */
export const RECORD_COLUMNS: Record<MemoryTableName, string[]> = {
  events: [
    'id', 'stream', 'start', 'end', 'startedAt', 'endedAt', 'summary', 'transcript', 'ocr', 'tags', 'thumbnail', 'strength', 'recallCount',
    'lastRecalledAt', 'level', 'needsSummary', 'labels', 'labelCounts', 'tracks', 'people',
  ],
  moments: PLAIN_COLUMNS.moments.filter((c) => c !== 'endedAt'),
  episodes: PLAIN_COLUMNS.episodes,
};

export const CONVERT: { [K in MemoryTableName]: (r: Record<string, unknown>) => RowOf[K] } = {
  events: toEvent,
  moments: toMoment,
  episodes: toEpisode,
};

/** A vector column's value as Float32Array; undefined for a missing one. */
export function toF32(value: unknown): Float32Array | undefined {
  return value === null || value === undefined ? undefined : vectorToF32(value as Parameters<typeof vectorToF32>[0]);
}

