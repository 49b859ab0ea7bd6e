// Reads of long-term memory by id, stream and time: single events, lists in time order, the
// neighbours and moments of an event, episodes, and the vectors consolidation compares against.
// Every read of moments hides those whose event row is missing (an unfinished consolidation).
import type * as lancedb from '@lancedb/lancedb';
import { STREAM_NAME, type StoredEvent } from '../records/event.js';
import { memoryWhere } from './memory-filter.js';
import {
  CONVERT, num, PLAIN_COLUMNS, RECORD_COLUMNS, splitWords, toEvent, toF32,
  type EventSpan, type ListEventsOptions, type MemoryFilter, type MemoryTableName, type PreviousEvent, type RowOf, type SpaceInfo, type StoredEpisode, type StoredMoment, type StreamStretch, type StreamWindow, type Vectors,
} from './memory-schema.js';
import type { MemoryTables } from './memory-tables.js';
import { sqlAnd, sqlIn, sqlNumber, sqlQuoted, sqlStream, sqlString } from './sql.js';

/** The vectors of one row, by space, from its vector columns. */
export function vectorsOf(row: Record<string, unknown>, spaces: SpaceInfo[]): Vectors {
  const out: Vectors = {};
  for (const s of spaces) {
    const v = toF32(row[s.column]);
    if (v) out[s.space] = v;
  }
  return out;
}

export class MemoryReads {
  readonly #t: MemoryTables;

  constructor(tables: MemoryTables) {
    this.#t = tables;
  }

  async rows<T extends MemoryTableName>(table: T, where: string | undefined, options: { limit?: number; order?: lancedb.ColumnOrdering[]; offset?: number } = {}): Promise<RowOf[T][]> {
    let query = this.#t.table(table).query().select(RECORD_COLUMNS[table]);
    if (where) query = query.where(where);
    if (options.order) query = query.orderBy(options.order);
    if (options.offset) query = query.offset(options.offset);
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows.map((r) => CONVERT[table](r));
  }

  /** One event by id; an id merged into another event by pattern completion finds that event. */
  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.rows('events', `id = ${sqlString(id)}`, { limit: 1 });
    if (row) return row;
    // Event ids are `${stream}.${start ms}`; a merged one lies inside the event that absorbed it,
    // so look only there instead of scanning every row's mergedIds.
    const parsed = /^(.+)\.(\d+)$/.exec(id);
    if (!parsed || !STREAM_NAME.test(parsed[1] as string)) return undefined;
    const t = Number(parsed[2]) / 1000;
    const rows = (await this.#t
      .table('events')
      .query()
      .select(PLAIN_COLUMNS.events)
      .where(`stream = ${sqlStream(parsed[1] as string)} AND start <= ${sqlNumber(t)} AND ${sqlQuoted('end')} >= ${sqlNumber(t)}`)
      .limit(16)
      .toArray()) as Record<string, unknown>[];
    const hit = rows.find((r) => splitWords(r.mergedIds).includes(id));
    return hit ? toEvent(hit) : undefined;
  }

  /**
   * Events by id in one read (the reasoner's completion and fused candidates), in the order asked;
   * only ids not found as rows (merged into another event) are looked up one by one.
   */
  async getEvents(ids: readonly string[]): Promise<StoredEvent[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const byId = new Map<string, StoredEvent>();
    for (let i = 0; i < unique.length; i += 500) {
      for (const e of await this.rows('events', sqlIn('id', unique.slice(i, i + 500)))) byId.set(e.id, e);
    }
    return this.#inOrder(unique, byId);
  }

  /** The events of `unique` ids from the rows read, in order; ids without a row are looked up as merged ids. */
  async #inOrder(unique: readonly string[], byId: ReadonlyMap<string, StoredEvent>): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    const seen = new Set<string>();
    for (const id of unique) {
      const event = byId.get(id) ?? (await this.getEvent(id));
      if (event && !seen.has(event.id)) {
        seen.add(event.id);
        out.push(event);
      }
    }
    return out;
  }

  /**
   * getEvents(ids) and, in the same read, the events overlapping any of the stretches (stream
   * time, per stream) in listEvents' order, up to `limit` of them: one LanceDB query instead of
   * two, since each costs a few ms CPU whatever it returns (the OR of both predicates costs about
   * what the stretches alone do). `complete` is false when more than `limit` rows matched; the
   * stretches' events are then not all there (the ids' events still are, read on their own).
   */
  async eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number): Promise<{ events: StoredEvent[]; inStretches: StoredEvent[]; complete: boolean }> {
    const unique = [...new Set(ids)];
    const byStream = new Map<string, StreamWindow[]>();
    for (const s of stretches) byStream.set(s.stream, [...(byStream.get(s.stream) ?? []), { start: s.start, end: s.end }]);
    const where = [sqlIn('id', unique), ...[...byStream].map(([stream, windows]) => `(${memoryWhere('events', { streams: [stream], streamTimes: windows }) as string})`)].join(' OR ');
    // Unordered (an order by costs more than sorting these few rows here); one row past the most
    // that can be wanted tells whether the limit cut any.
    const most = unique.length + limit;
    const rows = await this.rows('events', where, { limit: most + 1 });
    if (rows.length > most) return { events: await this.getEvents(ids), inStretches: [], complete: false };
    const byId = new Map(rows.map((e) => [e.id, e]));
    const inStretches = rows
      .filter((e) => byStream.get(e.stream)?.some((w) => e.end >= w.start && e.start <= w.end))
      .sort((a, b) => a.startedAt - b.startedAt || a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { events: await this.#inOrder(unique, byId), inStretches: inStretches.slice(0, limit), complete: inStretches.length <= limit };
  }

  async hasEvent(id: string): Promise<boolean> {
    return (await this.#t.table('events').countRows(`id = ${sqlString(id)}`)) > 0;
  }

  /** An event's stored vectors, by space. */
  async eventVectors(id: string): Promise<Vectors> {
    const spaces = await this.#t.spaces();
    if (spaces.length === 0) return {};
    const rows = (await this.#t.table('events').query().select(spaces.map((s) => s.column)).where(`id = ${sqlString(id)}`).limit(1).toArray()) as Record<string, unknown>[];
    const row = rows[0];
    return row ? vectorsOf(row, spaces) : {};
  }

  /** Extra fields pattern completion needs from the event it may merge into. */
  async eventDetail(id: string): Promise<{ salience: number; novelty: number; momentCount: number; mergedIds: string[]; closedBy: string } | undefined> {
    const rows = (await this.#t.table('events').query().select(['salience', 'novelty', 'momentCount', 'mergedIds', 'closedBy']).where(`id = ${sqlString(id)}`).limit(1).toArray()) as Record<string, unknown>[];
    const r = rows[0];
    if (!r) return undefined;
    return { salience: num(r.salience), novelty: num(r.novelty), momentCount: num(r.momentCount), mergedIds: splitWords(r.mergedIds), closedBy: r.closedBy as string };
  }

  /**
   * The previous event with its vectors and the fields pattern completion needs, in one query;
   * `within` bounds how far back it looks (seconds), which keeps the query on the start index.
   */
  async previousEventDetail(stream: string, start: number, within?: number): Promise<PreviousEvent | undefined> {
    const where = sqlAnd([`stream = ${sqlStream(stream)} AND start < ${sqlNumber(start)}`, within !== undefined && `start >= ${sqlNumber(start - within)}`]) as string;
    return (await this.#details(where, 1, false))[0];
  }

  /**
   * Events of a stream that start in [from, to), with their vectors and the fields pattern
   * completion needs, oldest first: every event a batch of that stream's closed events may merge
   * into, in one read.
   */
  async eventDetailsBetween(stream: string, from: number, to: number, limit = 1_000): Promise<PreviousEvent[]> {
    return this.#details(`stream = ${sqlStream(stream)} AND start >= ${sqlNumber(from)} AND start < ${sqlNumber(to)}`, limit, true);
  }

  async #details(where: string, limit: number, ascending: boolean): Promise<PreviousEvent[]> {
    const spaces = await this.#t.spaces();
    const rows = (await this.#t
      .table('events')
      .query()
      .select([...PLAIN_COLUMNS.events, ...spaces.map((x) => x.column)])
      .where(where)
      .orderBy([{ columnName: 'start', ascending }])
      .limit(limit)
      .toArray()) as Record<string, unknown>[];
    return rows.map((r) => ({
      event: toEvent(r),
      vectors: vectorsOf(r, spaces),
      salience: num(r.salience),
      novelty: num(r.novelty),
      momentCount: num(r.momentCount),
      mergedIds: splitWords(r.mergedIds),
      closedBy: r.closedBy as string,
    }));
  }

  /** Which of these ids are event rows, in one read per 500. */
  async existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(ids)];
    const present = new Set<string>();
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.#t.table('events').query().select(['id']).where(sqlIn('id', unique.slice(i, i + 500))).toArray();
      for (const r of rows) present.add(r.id as string);
    }
    return present;
  }

  /** Events ordered by wall-clock start (stream start, then id, for ties). */
  async listEvents(options: ListEventsOptions = {}): Promise<StoredEvent[]> {
    const ascending = !options.descending;
    return this.rows('events', memoryWhere('events', options), {
      limit: options.limit ?? 100,
      offset: options.offset,
      order: [{ columnName: 'startedAt', ascending }, { columnName: 'start', ascending }, { columnName: 'id', ascending }],
    });
  }

  /**
   * listEvents' events as spans only (id, stream, start, end), in the same order: five columns
   * instead of every one, about a third of the cost (4 vs 10 ms CPU for 40 events at 100k).
   */
  async listEventSpans(options: ListEventsOptions = {}): Promise<EventSpan[]> {
    const ascending = !options.descending;
    let query = this.#t
      .table('events')
      .query()
      // startedAt: LanceDB 0.31 needs the ordering columns among the selected ones.
      .select(['id', 'stream', 'start', 'end', 'startedAt'])
      .orderBy([{ columnName: 'startedAt', ascending }, { columnName: 'start', ascending }, { columnName: 'id', ascending }])
      .limit(options.limit ?? 100);
    const where = memoryWhere('events', options);
    if (where) query = query.where(where);
    if (options.offset) query = query.offset(options.offset);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows.map((r) => ({ id: r.id as string, stream: r.stream as string, start: num(r.start), end: num(r.end) }));
  }

  async countEvents(filter: MemoryFilter = {}): Promise<number> {
    return this.#t.table('events').countRows(memoryWhere('events', filter));
  }

  /** Up to `before` events before and `after` events after one event in its stream. */
  async neighbours(id: string, options: { before?: number; after?: number } = {}): Promise<{ before: StoredEvent[]; after: StoredEvent[] }> {
    const event = await this.getEvent(id);
    if (!event) return { before: [], after: [] };
    const s = sqlStream(event.stream);
    const before = await this.rows('events', `stream = ${s} AND start < ${sqlNumber(event.start)}`, { limit: options.before ?? 1, order: [{ columnName: 'start', ascending: false }] });
    const after = await this.rows('events', `stream = ${s} AND start > ${sqlNumber(event.start)}`, { limit: options.after ?? 1, order: [{ columnName: 'start', ascending: true }] });
    return { before: before.reverse(), after };
  }

  /** Keeps only moments whose event row exists (hides the detail of an unfinished consolidation). */
  async visibleMoments(moments: StoredMoment[]): Promise<StoredMoment[]> {
    if (moments.length === 0) return moments;
    const present = await this.existingEventIds(moments.map((m) => m.eventId));
    return moments.filter((m) => present.has(m.eventId));
  }

  /** Moments of a stream between two stream times, in time order. */
  momentsInWindow(stream: string, from: number, to: number): Promise<StoredMoment[]> {
    return this.momentsInWindows(stream, [{ start: from, end: to }]);
  }

  /** Moments of a stream inside any of several stream-time windows, in time order: one read, not one per window. */
  async momentsInWindows(stream: string, windows: readonly StreamWindow[]): Promise<StoredMoment[]> {
    if (windows.length === 0) return [];
    const rows = await this.rows('moments', memoryWhere('moments', { streams: [stream], streamTimes: windows }), { order: [{ columnName: 't', ascending: true }] });
    return this.visibleMoments(rows);
  }

  async momentsOfEvent(eventId: string): Promise<StoredMoment[]> {
    const rows = await this.rows('moments', `${sqlQuoted('eventId')} = ${sqlString(eventId)}`, { order: [{ columnName: 't', ascending: true }] });
    return this.visibleMoments(rows);
  }

  async episodes(filter: MemoryFilter = {}, limit = 100): Promise<StoredEpisode[]> {
    return this.rows('episodes', memoryWhere('episodes', filter), { limit, order: [{ columnName: 'startedAt', ascending: true }, { columnName: 'level', ascending: true }] });
  }

  /** Events with their vectors, for building episodes. */
  async eventsWithVectors(filter: MemoryFilter, limit = 100_000): Promise<(StoredEvent & { vectors: Vectors; salience: number })[]> {
    const spaces = await this.#t.spaces();
    let query = this.#t.table('events').query().select([...PLAIN_COLUMNS.events, ...spaces.map((s) => s.column)]).limit(limit);
    const where = memoryWhere('events', filter);
    if (where) query = query.where(where);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows.map((r) => ({ ...toEvent(r), vectors: vectorsOf(r, spaces), salience: num(r.salience) })).sort((a, b) => a.startedAt - b.startedAt || a.start - b.start);
  }

  /**
   * Streams that have events. One indexed read per stream (the next row whose stream is none of
   * those found so far) instead of reading every row's stream: ~15 ms vs 70-200 ms at 100k events.
   */
  async streams(): Promise<string[]> {
    const found: string[] = [];
    for (;;) {
      let query = this.#t.table('events').query().select(['stream']).limit(1);
      if (found.length > 0) query = query.where(`NOT (${sqlIn('stream', found)})`);
      const [row] = await query.toArray();
      if (!row) break;
      found.push(row.stream as string);
    }
    return found.sort();
  }
}
