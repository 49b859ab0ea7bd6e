// Long-term memory in LanceDB, as the rest of engram sees it: one object over the tables and
// writes (memory-tables.ts), reads (memory-reads.ts), ranked searches (memory-search.ts),
// retention (memory-retention.ts) and indexes (memory-indexes.ts). These modules are the only
// ones that talk to LanceDB; this file only opens them together and forwards.
import type { StoredEvent } from '../records/event.js';
import { MemoryIndexes, type BuildIndexOptions } from './memory-indexes.js';
import { MemoryReads } from './memory-reads.js';
import { MemoryRetention } from './memory-retention.js';
import { MemorySearch, type SearchOptions } from './memory-search.js';
import type {
  EpisodeWrite, EventSpan, EventWrite, Hit, ListEventsOptions, MemoryFilter, MemoryStats, MemoryTableName, MomentWrite, PreviousEvent, RowOf,
  SpaceInfo, StoredEpisode, StoredMoment, StreamStretch, StreamWindow, Vectors,
} from './memory-schema.js';
import { MemoryTables, type LanceAccess } from './memory-tables.js';

export * from './memory-schema.js';
export { NPROBES, REFINE_CANDIDATES, ROWS_PER_REFINE_CANDIDATE } from './memory-search.js';
export { SCHEMA_VERSION } from './memory-tables.js';
export { PQ_DIMS_PER_SUB_VECTOR, type BuildIndexOptions } from './memory-indexes.js';
export { streamSinceUntil } from './memory-filter.js';

export interface OpenOptions extends SearchOptions, LanceAccess {
  /** Strength (days) added per recall. @defaultValue 1 */
  reinforceDays?: number;
}

export class MemoryStore {
  readonly #tables: MemoryTables;
  readonly #reads: MemoryReads;
  readonly #search: MemorySearch;
  readonly #retention: MemoryRetention;
  readonly #indexes: MemoryIndexes;

  private constructor(tables: MemoryTables, options: OpenOptions) {
    this.#tables = tables;
    this.#reads = new MemoryReads(tables);
    this.#search = new MemorySearch(tables, this.#reads, options);
    this.#retention = new MemoryRetention(tables, this.#reads, options.reinforceDays ?? 1);
    this.#indexes = new MemoryIndexes(tables);
  }

  /** Opens (creating on first use) the tables at a LanceDB URI, migrates them and makes their base indexes. */
  static async open(uri: string, options: OpenOptions = {}): Promise<MemoryStore> {
    const tables = await MemoryTables.open(uri, options);
    const store = new MemoryStore(tables, options);
    await store.#indexes.ensure();
    return store;
  }

  get uri(): string {
    return this.#tables.uri;
  }

  // Tables, spaces and writes.
  schemaVersion(): Promise<number> {
    return this.#tables.schemaVersion();
  }
  /** The embedding spaces stored, with their columns and sizes. */
  spaces(): Promise<SpaceInfo[]> {
    return this.#tables.spaces();
  }
  ensureSpaces(dims: Record<string, number>): Promise<void> {
    return this.#tables.ensureSpaces(dims);
  }
  /** Inserts or replaces events by id: the same event written twice is one row. */
  upsertEvents(events: EventWrite[]): Promise<void> {
    return this.#tables.upsertEvents(events);
  }
  upsertEvent(event: EventWrite): Promise<void> {
    return this.#tables.upsertEvents([event]);
  }
  /** Events that saw identity `from` see `to` instead (merge), or no longer see it (null: forget). */
  replacePerson(from: string, to: string | null): Promise<number> {
    return this.#tables.replacePerson(from, to);
  }
  upsertMoments(moments: MomentWrite[]): Promise<void> {
    return this.#tables.upsertMoments(moments);
  }
  upsertEpisodes(episodes: EpisodeWrite[]): Promise<void> {
    return this.#tables.upsertEpisodes(episodes);
  }

  // Reads.
  /** One event by id; an id merged into another event by pattern completion finds that event. */
  getEvent(id: string): Promise<StoredEvent | undefined> {
    return this.#reads.getEvent(id);
  }
  /** Events by id in one read, in the order asked (merged ids find the event that absorbed them). */
  getEvents(ids: readonly string[]): Promise<StoredEvent[]> {
    return this.#reads.getEvents(ids);
  }
  /** getEvents(ids) and the events overlapping stream-time stretches (listEvents' order, up to `limit`), in one read. */
  eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number): ReturnType<MemoryReads['eventsAndStretches']> {
    return this.#reads.eventsAndStretches(ids, stretches, limit);
  }
  hasEvent(id: string): Promise<boolean> {
    return this.#reads.hasEvent(id);
  }
  eventVectors(id: string): Promise<Vectors> {
    return this.#reads.eventVectors(id);
  }
  eventDetail(id: string): ReturnType<MemoryReads['eventDetail']> {
    return this.#reads.eventDetail(id);
  }
  /** The event of a stream that starts last before `start` (stream seconds). */
  async previousEvent(stream: string, start: number): Promise<StoredEvent | undefined> {
    return (await this.#reads.previousEventDetail(stream, start))?.event;
  }
  previousEventDetail(stream: string, start: number, within?: number): Promise<PreviousEvent | undefined> {
    return this.#reads.previousEventDetail(stream, start, within);
  }
  /** Events of a stream starting in [from, to) with vectors and completion detail, oldest first. */
  eventDetailsBetween(stream: string, from: number, to: number): Promise<PreviousEvent[]> {
    return this.#reads.eventDetailsBetween(stream, from, to);
  }
  /** Which of these ids are event rows. */
  existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#reads.existingEventIds(ids);
  }
  /** Events ordered by wall-clock start (stream start for ties). */
  listEvents(options: ListEventsOptions = {}): Promise<StoredEvent[]> {
    return this.#reads.listEvents(options);
  }
  /** listEvents as spans (id, stream, start, end): for picking events by time before reading them. */
  listEventSpans(options: ListEventsOptions = {}): Promise<EventSpan[]> {
    return this.#reads.listEventSpans(options);
  }
  countEvents(filter: MemoryFilter = {}): Promise<number> {
    return this.#reads.countEvents(filter);
  }
  neighbours(id: string, options: { before?: number; after?: number } = {}): Promise<{ before: StoredEvent[]; after: StoredEvent[] }> {
    return this.#reads.neighbours(id, options);
  }
  /** Moments of a stream between two stream times, in time order. */
  momentsInWindow(stream: string, from: number, to: number): Promise<StoredMoment[]> {
    return this.#reads.momentsInWindow(stream, from, to);
  }
  /** Moments of a stream inside any of several stream-time windows, in time order (one read). */
  momentsInWindows(stream: string, windows: readonly StreamWindow[]): Promise<StoredMoment[]> {
    return this.#reads.momentsInWindows(stream, windows);
  }
  momentsOfEvent(eventId: string): Promise<StoredMoment[]> {
    return this.#reads.momentsOfEvent(eventId);
  }
  episodes(filter: MemoryFilter = {}, limit = 100): Promise<StoredEpisode[]> {
    return this.#reads.episodes(filter, limit);
  }
  /** Events with their vectors, for building episodes. */
  eventsWithVectors(filter: MemoryFilter, limit?: number): Promise<(StoredEvent & { vectors: Vectors; salience: number })[]> {
    return this.#reads.eventsWithVectors(filter, limit);
  }
  /** Streams that have events. */
  streams(): Promise<string[]> {
    return this.#reads.streams();
  }

  // Ranked searches.
  vectorSearch<T extends MemoryTableName>(options: { table: T; space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<Hit<RowOf[T]>[]> {
    return this.#search.vectorSearch(options);
  }
  textSearch(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<Hit<StoredEvent>[]> {
    return this.#search.textSearch(options);
  }
  /** Nearest events, ids and similarity only (read the rows of those kept with getEvents). */
  eventVectorHits(options: { space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]> {
    return this.#search.eventVectorHits(options);
  }
  /** Full-text search of events, ids and BM25 scores only. */
  eventTextHits(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]> {
    return this.#search.eventTextHits(options);
  }

  // Retention.
  reinforce(ids: string[], now: number): Promise<void> {
    return this.#retention.reinforce(ids, now);
  }
  decay(now: number): Promise<number> {
    return this.#retention.decay(now);
  }
  pruneMoments(options: { olderThan: number; retentionBelow: number; now: number }): Promise<{ moments: number; events: number; thumbnails: string[] }> {
    return this.#retention.pruneMoments(options);
  }
  eventsNeedingSummary(limit: number): Promise<StoredEvent[]> {
    return this.#retention.eventsNeedingSummary(limit);
  }
  setSummary(id: string, summary: string, tags?: string[]): Promise<void> {
    return this.#retention.setSummary(id, summary, tags);
  }

  // Indexes and upkeep.
  compact(options: { keepVersionsMs?: number } = {}): Promise<void> {
    return this.#indexes.compact(options);
  }
  buildIndexes(options: BuildIndexOptions): Promise<string[]> {
    return this.#indexes.buildIndexes(options);
  }
  tableStats(): Promise<MemoryStats> {
    return this.#indexes.tableStats();
  }

  /** Closes tables and the connection. Idempotent; waits for writes in flight. */
  close(): Promise<void> {
    return this.#tables.close();
  }
}
