// Long-term memory in LanceDB: events, moments (perceptual detail) and episodes, plus a small
// `meta` table holding the schema version and the embedding spaces. This is the only module that
// talks to LanceDB. Writes go moments first and the event row last, and every read of moments
// drops those whose event row does not exist, so a consolidation killed half-way is invisible
// until its retry completes it.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { EngramError } from '../../config/errors.js';
import { STREAM_NAME, type StoredEvent } from '../records/event.js';
import {
  arrow, baseFields, CONVERT, f, LABEL_NAME, labelsColumn, MEMORY_TABLES, num, objectFields, spaceColumn, splitWords, toEvent, toF32, vectorField,
  type EpisodeWrite, type EventWrite, type Hit, type ListEventsOptions, type MemoryFilter, type MemoryStats, type MemoryTableName,
  type MomentWrite, type PreviousEvent, type RowOf, type SpaceInfo, type StoredEpisode, type StoredMoment, type TableStats, type Vectors,
} from './memory-schema.js';
import { sqlAnd, sqlIn, sqlNumber, sqlStream, sqlString } from './sql.js';

export * from './memory-schema.js';

/** Version of the table layout written by this code; open() migrates older data up to it. */
export const SCHEMA_VERSION = 2;

export interface OpenOptions {
  /** Strength (days) added per recall. @defaultValue 1 */
  reinforceDays?: number;
  /**
   * How stale a read may be, in seconds, with respect to other processes' writes (the reasoner and
   * API read while consolidate writes). 0 checks for new versions on every read. @defaultValue 0
   */
  readConsistencySeconds?: number;
  /** IVF partitions probed per vector search (benchmarks sweep it). @defaultValue NPROBES */
  nprobes?: number;
  /** PQ candidates re-ranked per vector search (benchmarks sweep it). @defaultValue REFINE_CANDIDATES */
  refineCandidates?: number;
}

const DAY_MS = 86_400_000;
/**
 * IVF partitions probed per search (LanceDB's default), of sqrt(n) built (buildIndexes). On 100k
 * clustered 512-d events (test/bench/memory.ts) recall@10 was the same at 10, 20 and 40 probes:
 * what limits IVF-PQ is the PQ ranking, which the refine step below corrects.
 */
export const NPROBES = 20;
/**
 * PQ candidates re-ranked by their full vectors per search, whatever the limit (the refine factor
 * is this over the limit). At 100k, recall@10 was 0.72 with 100 (the old factor 10), 0.98 with
 * 300 and 1.0 with 500; re-ranking reads each candidate's vector, ~8 ms for 500, ~5 for 300.
 */
export const REFINE_CANDIDATES = 300;
/**
 * Larger tables need more candidates: at 1M the fixed 300 recalled 0.70 at 10, 1000 recalled 0.93
 * (51.6 ms vs 37.8 ms p50). Without an explicit refineCandidates, a search re-ranks at least one
 * candidate per this many rows of its table.
 */
export const ROWS_PER_REFINE_CANDIDATE = 1000;
/** How long a table's row count (for the refine depth) is reused before it is counted again. */
const ROW_COUNT_TTL_MS = 30_000;
// Detector labels are searchable words too: "person" finds the events a person was seen in.
const TEXT_COLUMNS = ['summary', 'transcript', 'ocr', 'labels'] as const;
/** Columns to read back per table: everything but the vectors (large, and not part of the records). */
const PLAIN_COLUMNS = Object.fromEntries(MEMORY_TABLES.map((t) => [t, baseFields(t).map((x) => x.name)])) as Record<MemoryTableName, string[]>;

/** Backtick-quoted identifier; camelCase columns need it in DataFusion SQL. */
const q = (name: string) => `\`${name}\``;

function isConflict(error: unknown): boolean {
  return /conflict|concurrent|retryable/i.test(String((error as Error)?.message ?? error));
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) total += await dirBytes(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** Migrations from version i+1 to i+2. */
const MIGRATIONS: ((store: MemoryStore) => Promise<void>)[] = [
  // 1 -> 2: the detector's labels, counts and tracks on events, detections on moments.
  (store) => store.addMissingColumns({ events: objectFields.events(), moments: objectFields.moments() }),
];

/** A filter matching events that saw any of the labels; each label is checked against LABEL_NAME first. */
function labelsFilter(labels: readonly string[]): string {
  if (labels.length === 0) return 'false';
  return labels
    .map((label) => {
      if (!LABEL_NAME.test(label)) throw new EngramError(`not a detector label: ${JSON.stringify(label)} (lower-case words such as "person" or "traffic light")`);
      return `labels LIKE ${sqlString(`%|${label}|%`)}`;
    })
    .join(' OR ');
}

export class MemoryStore {
  readonly uri: string;
  readonly #db: lancedb.Connection;
  readonly #tables: Record<MemoryTableName, lancedb.Table>;
  readonly #meta: lancedb.Table;
  readonly #reinforceDays: number;
  readonly #nprobes: number;
  readonly #refineCandidates: number;
  readonly #refineScales: boolean;
  readonly #rowCounts = new Map<MemoryTableName, { rows: number; at: number }>();
  #spaces = new Map<string, SpaceInfo>();
  /** Serialises this process's writes; LanceDB resolves commits between processes. */
  #writeChain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(uri: string, db: lancedb.Connection, tables: Record<MemoryTableName, lancedb.Table>, meta: lancedb.Table, options: OpenOptions) {
    this.uri = uri;
    this.#db = db;
    this.#tables = tables;
    this.#meta = meta;
    this.#reinforceDays = options.reinforceDays ?? 1;
    this.#nprobes = options.nprobes ?? NPROBES;
    this.#refineCandidates = options.refineCandidates ?? REFINE_CANDIDATES;
    this.#refineScales = options.refineCandidates === undefined;
  }

  /** Opens (creating on first use) the tables at a LanceDB URI and migrates them to SCHEMA_VERSION. */
  static async open(uri: string, options: OpenOptions = {}): Promise<MemoryStore> {
    let db: lancedb.Connection;
    try {
      db = await lancedb.connect(uri, { readConsistencyInterval: options.readConsistencySeconds ?? 0 });
    } catch (error) {
      throw new EngramError(`cannot open LanceDB at ${uri}: ${(error as Error).message}`, { cause: error });
    }
    const names = new Set(await db.tableNames());
    const openOrCreate = async (name: string, fields: import('apache-arrow').Field[]) => {
      if (names.has(name)) return db.openTable(name);
      try {
        return await db.createEmptyTable(name, new arrow.Schema(fields), { mode: 'create', existOk: true });
      } catch (error) {
        // Another process created it between our listing and our create.
        if (/already exists/i.test((error as Error).message)) return db.openTable(name);
        throw error;
      }
    };
    const meta = await openOrCreate('meta', [f('key', new arrow.Utf8()), f('value', new arrow.Utf8())]);
    const tables = {} as Record<MemoryTableName, lancedb.Table>;
    for (const name of MEMORY_TABLES) tables[name] = await openOrCreate(name, baseFields(name));
    const store = new MemoryStore(uri, db, tables, meta, options);
    await store.#migrate();
    await store.#ensureTextIndexes();
    await store.#ensureScalarIndexes();
    await store.#loadSpaces();
    return store;
  }

  async #metaGet(key: string): Promise<string | undefined> {
    const rows = await this.#meta.query().where(`key = ${sqlString(key)}`).limit(1).toArray();
    return rows[0]?.value as string | undefined;
  }

  async #metaSet(entries: Record<string, string>): Promise<void> {
    const rows = Object.entries(entries).map(([key, value]) => ({ key, value }));
    await this.#meta.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.#metaGet('schemaVersion')) ?? 0);
  }

  async #migrate(): Promise<void> {
    const stored = await this.schemaVersion();
    if (stored > SCHEMA_VERSION) {
      throw new EngramError(`LanceDB at ${this.uri} has schema version ${stored}, newer than this engram understands (${SCHEMA_VERSION}); upgrade engram`);
    }
    if (stored === 0) {
      await this.#metaSet({ schemaVersion: String(SCHEMA_VERSION) });
      return;
    }
    for (let version = stored; version < SCHEMA_VERSION; version += 1) {
      const step = MIGRATIONS[version - 1];
      if (!step) throw new EngramError(`no migration from schema version ${version} to ${version + 1}`);
      await step(this);
      await this.#metaSet({ schemaVersion: String(version + 1) });
    }
  }

  /** Adds (as all-null columns) the fields a table lacks; used by migrations, safe to repeat. */
  async addMissingColumns(fields: Partial<Record<MemoryTableName, import('apache-arrow').Field[]>>): Promise<void> {
    for (const [name, wanted] of Object.entries(fields) as [MemoryTableName, import('apache-arrow').Field[]][]) {
      const table = this.#tables[name];
      const have = new Set((await table.schema()).fields.map((x) => x.name));
      const add = wanted.filter((x) => !have.has(x.name));
      if (add.length > 0) await this.#write(() => table.addColumns(add));
    }
  }

  /**
   * Scalar indexes on the columns every write and read filters on (merge-insert joins on id; moments
   * are looked up by event; time filters), created on the empty tables so LanceDB keeps them.
   */
  async #ensureScalarIndexes(): Promise<void> {
    const wanted: [MemoryTableName, string, () => lancedb.Index][] = [
      ['events', 'id', () => lancedb.Index.btree()],
      ['events', 'startedAt', () => lancedb.Index.btree()],
      ['events', 'start', () => lancedb.Index.btree()],
      ['events', 'stream', () => lancedb.Index.bitmap()],
      // The wall-clock filter's lower bound and the stream-time reads' (listEvents startFrom):
      // unindexed, each filtered search at 100k events scanned the column.
      ['events', 'endedAt', () => lancedb.Index.btree()],
      ['events', 'end', () => lancedb.Index.btree()],
      ['moments', 'id', () => lancedb.Index.btree()],
      ['moments', 'eventId', () => lancedb.Index.btree()],
      ['moments', 'startedAt', () => lancedb.Index.btree()],
      // momentsInWindow (completion reads) filters on stream and stream time.
      ['moments', 'stream', () => lancedb.Index.bitmap()],
      ['moments', 't', () => lancedb.Index.btree()],
      ['episodes', 'id', () => lancedb.Index.btree()],
    ];
    for (const name of MEMORY_TABLES) {
      const table = this.#tables[name];
      const have = new Set((await table.listIndices()).flatMap((i) => i.columns));
      for (const [tableName, column, index] of wanted) {
        if (tableName !== name || have.has(column)) continue;
        try {
          await this.#write(() => table.createIndex(column, { config: index() }));
        } catch (error) {
          if (!(await table.listIndices()).some((i) => i.columns.includes(column))) throw error;
        }
      }
    }
  }

  /**
   * Full-text indexes exist from the start: LanceDB's search without one is case-sensitive and
   * unstemmed, while rows added after an index is built are searched with its tokenizer even
   * before OptimizeTables folds them in.
   */
  async #ensureTextIndexes(): Promise<void> {
    const have = new Set((await this.#tables.events.listIndices()).flatMap((i) => i.columns));
    for (const column of TEXT_COLUMNS) {
      if (have.has(column)) continue;
      try {
        await this.#write(() => this.#tables.events.createIndex(column, { config: lancedb.Index.fts() }));
      } catch (error) {
        // Another process opening the store at the same moment built it first.
        if (!(await this.#tables.events.listIndices()).some((i) => i.columns.includes(column))) throw error;
      }
    }
  }

  async #loadSpaces(): Promise<void> {
    const rows = await this.#meta.query().where(`key LIKE 'space:%'`).toArray();
    const spaces = new Map<string, SpaceInfo>();
    for (const row of rows) {
      const info = JSON.parse(row.value as string) as SpaceInfo;
      spaces.set(info.space, info);
    }
    this.#spaces = spaces;
  }

  /** The embedding spaces stored, with their columns and sizes. */
  async spaces(): Promise<SpaceInfo[]> {
    await this.#loadSpaces();
    return [...this.#spaces.values()].sort((a, b) => a.space.localeCompare(b.space));
  }

  async #space(space: string): Promise<SpaceInfo> {
    let info = this.#spaces.get(space);
    if (!info) {
      await this.#loadSpaces();
      info = this.#spaces.get(space);
    }
    if (!info) throw new EngramError(`no vectors stored for embedding space "${space}" (stored: ${[...this.#spaces.keys()].join(', ') || 'none'})`);
    return info;
  }

  /**
   * Makes sure every space in `dims` has a column in every table, adding nullable columns (old
   * rows read null) for new ones. A space's size is fixed by the first vector stored for it.
   */
  async ensureSpaces(dims: Record<string, number>): Promise<void> {
    const fresh: SpaceInfo[] = [];
    for (const [space, size] of Object.entries(dims)) {
      const column = spaceColumn(space);
      const known = this.#spaces.get(space);
      if (known) {
        if (known.dims !== size) throw new EngramError(`embedding space "${space}" stores ${known.dims}-d vectors; got ${size}-d`);
        continue;
      }
      if (!Number.isInteger(size) || size <= 0) throw new EngramError(`embedding space "${space}": bad vector size ${size}`);
      const clash = [...this.#spaces.values()].find((s) => s.column === column);
      if (clash) throw new EngramError(`embedding spaces "${clash.space}" and "${space}" map to the same column ${column}`);
      fresh.push({ space, column, dims: size });
    }
    if (fresh.length === 0) return;
    await this.#write(async () => {
      await this.#loadSpaces();
      for (const info of fresh) {
        const existing = this.#spaces.get(info.space);
        if (existing && existing.dims !== info.dims) throw new EngramError(`embedding space "${info.space}" stores ${existing.dims}-d vectors; got ${info.dims}-d`);
      }
      const todo = fresh.filter((info) => !this.#spaces.has(info.space));
      // Columns first, then the meta row: a crash in between leaves a column that the next call
      // finds in the schema and does not add twice.
      for (const table of Object.values(this.#tables)) {
        const have = new Set((await table.schema()).fields.map((x) => x.name));
        const add = todo.filter((info) => !have.has(info.column)).map((info) => vectorField(info.column, info.dims));
        if (add.length > 0) await table.addColumns(add);
      }
      await this.#metaSet(Object.fromEntries(todo.map((info) => [`space:${info.space}`, JSON.stringify(info)])));
      for (const info of todo) this.#spaces.set(info.space, info);
    });
  }

  /** Runs writes one at a time in this process, retrying commit conflicts with other writers. */
  #write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new EngramError('memory store is closed'));
    const run = async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await fn();
        } catch (error) {
          if (attempt >= 4 || !isConflict(error)) throw error;
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
    };
    const result = this.#writeChain.then(run, run);
    this.#writeChain = result.catch(() => undefined);
    return result;
  }

  #vectorColumns(vectors: Vectors): Record<string, Float32Array | null> {
    const out: Record<string, Float32Array | null> = {};
    for (const info of this.#spaces.values()) out[info.column] = null;
    for (const [space, v] of Object.entries(vectors)) {
      const info = this.#spaces.get(space);
      if (!info) throw new EngramError(`embedding space "${space}" has no column; call ensureSpaces first`);
      if (v.length !== info.dims) throw new EngramError(`embedding space "${space}" stores ${info.dims}-d vectors; got ${v.length}-d`);
      out[info.column] = v;
    }
    return out;
  }

  async #ensureFor(vectorSets: Vectors[]): Promise<void> {
    const dims: Record<string, number> = {};
    for (const set of vectorSets) for (const [space, v] of Object.entries(set)) dims[space] ??= v.length;
    await this.ensureSpaces(dims);
  }

  /** Inserts or replaces events by id: the same event written twice is one row. */
  async upsertEvents(events: EventWrite[]): Promise<void> {
    if (events.length === 0) return;
    await this.#ensureFor(events.map((e) => e.vectors));
    const rows = events.map((e) => ({
      id: e.id, stream: e.stream, startedAt: e.startedAt, endedAt: e.endedAt, start: e.start, end: e.end,
      summary: e.summary, transcript: e.transcript, ocr: e.ocr, tags: e.tags.join(' '), thumbnail: e.thumbnail,
      strength: e.strength, retention: 1, salience: e.salience, novelty: e.novelty, recallCount: e.recallCount,
      lastRecalledAt: e.lastRecalledAt, level: e.level, needsSummary: e.needsSummary, momentCount: e.momentCount,
      mergedIds: e.mergedIds.join(' '), closedBy: e.closedBy, consolidatedAt: e.consolidatedAt, prunedAt: null,
      labels: labelsColumn(e.labels ?? []), labelCounts: JSON.stringify(e.counts ?? {}), tracks: JSON.stringify(e.tracks ?? []),
      ...this.#vectorColumns(e.vectors),
    }));
    await this.#write(() => this.#tables.events.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
  }

  async upsertEvent(event: EventWrite): Promise<void> {
    await this.upsertEvents([event]);
  }

  async upsertMoments(moments: MomentWrite[]): Promise<void> {
    if (moments.length === 0) return;
    await this.#ensureFor(moments.map((m) => m.vectors));
    const rows = moments.map((m) => ({
      id: m.id, stream: m.stream, startedAt: m.startedAt, endedAt: m.startedAt, eventId: m.eventId, kind: m.kind, t: m.t,
      thumbnail: m.thumbnail, detections: JSON.stringify(m.detections ?? []), ...this.#vectorColumns(m.vectors),
    }));
    await this.#write(() => this.#tables.moments.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
  }

  async upsertEpisodes(episodes: EpisodeWrite[]): Promise<void> {
    if (episodes.length === 0) return;
    await this.#ensureFor(episodes.map((e) => e.vectors));
    const rows = episodes.map((e) => ({
      id: e.id, stream: e.stream, startedAt: e.startedAt, endedAt: e.endedAt, start: e.start, end: e.end, level: e.level,
      summary: e.summary, tags: e.tags.join(' '), eventCount: e.eventCount, eventIds: e.eventIds.join(' '),
      needsSummary: e.needsSummary, updatedAt: e.updatedAt, ...this.#vectorColumns(e.vectors),
    }));
    await this.#write(() => this.#tables.episodes.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
  }

  /** Columns to read back: everything but the vectors (large, and not part of the records). */
  async #plainColumns(table: MemoryTableName): Promise<string[]> {
    return PLAIN_COLUMNS[table];
  }

  #filter(table: MemoryTableName, filter: MemoryFilter = {}): string | undefined {
    return sqlAnd([
      filter.stream !== undefined && `stream = ${sqlStream(filter.stream)}`,
      filter.since !== undefined && `${q('endedAt')} >= ${sqlNumber(filter.since)}`,
      filter.until !== undefined && `${q('startedAt')} <= ${sqlNumber(filter.until)}`,
      filter.eventIds !== undefined && sqlIn(table === 'moments' ? 'eventId' : 'id', filter.eventIds),
      filter.level !== undefined && table !== 'moments' && `level = ${sqlNumber(filter.level)}`,
      filter.labels !== undefined && table === 'events' && labelsFilter(filter.labels),
    ]);
  }

  async #rows<T extends MemoryTableName>(table: T, where: string | undefined, options: { limit?: number; order?: lancedb.ColumnOrdering[]; offset?: number } = {}): Promise<RowOf[T][]> {
    let query = this.#tables[table].query().select(await this.#plainColumns(table));
    if (where) query = query.where(where);
    if (options.order) query = query.orderBy(options.order);
    if (options.offset) query = query.offset(options.offset);
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows.map((r) => CONVERT[table](r));
  }

  /** One event by id; an id merged into another event by pattern completion finds that event. */
  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.#rows('events', `id = ${sqlString(id)}`, { limit: 1 });
    if (row) return row;
    // Event ids are `${stream}.${start ms}`; a merged one lies inside the event that absorbed it,
    // so look only there instead of scanning every row's mergedIds.
    const parsed = /^(.+)\.(\d+)$/.exec(id);
    if (!parsed || !STREAM_NAME.test(parsed[1] as string)) return undefined;
    const t = Number(parsed[2]) / 1000;
    const rows = (await this.#tables.events
      .query()
      .select(await this.#plainColumns('events'))
      .where(`stream = ${sqlStream(parsed[1] as string)} AND start <= ${sqlNumber(t)} AND ${q('end')} >= ${sqlNumber(t)}`)
      .limit(16)
      .toArray()) as Record<string, unknown>[];
    const hit = rows.find((r) => splitWords(r.mergedIds).includes(id));
    return hit ? toEvent(hit) : undefined;
  }

  async hasEvent(id: string): Promise<boolean> {
    return (await this.#tables.events.countRows(`id = ${sqlString(id)}`)) > 0;
  }

  /** An event's stored vectors, by space. */
  async eventVectors(id: string): Promise<Vectors> {
    const spaces = await this.spaces();
    if (spaces.length === 0) return {};
    const rows = (await this.#tables.events.query().select(spaces.map((s) => s.column)).where(`id = ${sqlString(id)}`).limit(1).toArray()) as Record<string, unknown>[];
    const out: Vectors = {};
    const row = rows[0];
    if (!row) return out;
    for (const s of spaces) {
      const v = toF32(row[s.column]);
      if (v) out[s.space] = v;
    }
    return out;
  }

  /** Extra fields pattern completion needs from the event it may merge into. */
  async eventDetail(id: string): Promise<{ salience: number; novelty: number; momentCount: number; mergedIds: string[]; closedBy: string } | undefined> {
    const rows = (await this.#tables.events.query().select(['salience', 'novelty', 'momentCount', 'mergedIds', 'closedBy']).where(`id = ${sqlString(id)}`).limit(1).toArray()) as Record<string, unknown>[];
    const r = rows[0];
    if (!r) return undefined;
    return { salience: num(r.salience), novelty: num(r.novelty), momentCount: num(r.momentCount), mergedIds: splitWords(r.mergedIds), closedBy: r.closedBy as string };
  }

  /** The event of a stream that starts last before `start` (stream seconds). */
  async previousEvent(stream: string, start: number): Promise<StoredEvent | undefined> {
    return (await this.previousEventDetail(stream, start))?.event;
  }

  /**
   * The previous event with its vectors and the fields pattern completion needs, in one query;
   * `within` bounds how far back it looks (seconds), which keeps the query on the start index.
   */
  async previousEventDetail(stream: string, start: number, within?: number): Promise<PreviousEvent | undefined> {
    const spaces = await this.spaces();
    const rows = (await this.#tables.events
      .query()
      .select([...(await this.#plainColumns('events')), ...spaces.map((x) => x.column)])
      .where(sqlAnd([`stream = ${sqlStream(stream)} AND start < ${sqlNumber(start)}`, within !== undefined && `start >= ${sqlNumber(start - within)}`]) as string)
      .orderBy([{ columnName: 'start', ascending: false }])
      .limit(1)
      .toArray()) as Record<string, unknown>[];
    const r = rows[0];
    if (!r) return undefined;
    const vectors: Vectors = {};
    for (const x of spaces) {
      const v = toF32(r[x.column]);
      if (v) vectors[x.space] = v;
    }
    return {
      event: toEvent(r),
      vectors,
      salience: num(r.salience),
      novelty: num(r.novelty),
      momentCount: num(r.momentCount),
      mergedIds: splitWords(r.mergedIds),
      closedBy: r.closedBy as string,
    };
  }

  /** Events ordered by wall-clock start (stream start for ties). */
  async listEvents(options: ListEventsOptions = {}): Promise<StoredEvent[]> {
    const where = sqlAnd([
      this.#filter('events', { stream: options.stream, since: options.since, until: options.until, labels: options.labels }),
      options.startFrom !== undefined && `${q('end')} >= ${sqlNumber(options.startFrom)}`,
      options.startTo !== undefined && `start <= ${sqlNumber(options.startTo)}`,
    ]);
    const ascending = !options.descending;
    return this.#rows('events', where, {
      limit: options.limit ?? 100,
      offset: options.offset,
      order: [{ columnName: 'startedAt', ascending }, { columnName: 'start', ascending }, { columnName: 'id', ascending }],
    });
  }

  async countEvents(filter: MemoryFilter = {}): Promise<number> {
    return this.#tables.events.countRows(this.#filter('events', filter));
  }

  /** Up to `before` events before and `after` events after one event in its stream. */
  async neighbours(id: string, options: { before?: number; after?: number } = {}): Promise<{ before: StoredEvent[]; after: StoredEvent[] }> {
    const event = await this.getEvent(id);
    if (!event) return { before: [], after: [] };
    const s = sqlStream(event.stream);
    const before = await this.#rows('events', `stream = ${s} AND start < ${sqlNumber(event.start)}`, { limit: options.before ?? 1, order: [{ columnName: 'start', ascending: false }] });
    const after = await this.#rows('events', `stream = ${s} AND start > ${sqlNumber(event.start)}`, { limit: options.after ?? 1, order: [{ columnName: 'start', ascending: true }] });
    return { before: before.reverse(), after };
  }

  /** Keeps only moments whose event row exists (hides the detail of an unfinished consolidation). */
  async #visibleMoments(moments: StoredMoment[]): Promise<StoredMoment[]> {
    const ids = [...new Set(moments.map((m) => m.eventId))];
    if (ids.length === 0) return moments;
    const present = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.#tables.events.query().select(['id']).where(sqlIn('id', ids.slice(i, i + 500))).toArray();
      for (const r of rows) present.add(r.id as string);
    }
    return moments.filter((m) => present.has(m.eventId));
  }

  /** Moments of a stream between two stream times, in time order. */
  async momentsInWindow(stream: string, from: number, to: number): Promise<StoredMoment[]> {
    const rows = await this.#rows('moments', `stream = ${sqlStream(stream)} AND t >= ${sqlNumber(from)} AND t <= ${sqlNumber(to)}`, { order: [{ columnName: 't', ascending: true }] });
    return this.#visibleMoments(rows);
  }

  async momentsOfEvent(eventId: string): Promise<StoredMoment[]> {
    const rows = await this.#rows('moments', `${q('eventId')} = ${sqlString(eventId)}`, { order: [{ columnName: 't', ascending: true }] });
    return this.#visibleMoments(rows);
  }

  /**
   * Nearest rows to a vector in one space (cosine), best first, with the typed filter applied first.
   * Rows without a vector in the space (stored before the space existed, or by a model that did not
   * apply) are never hits: LanceDB 0.31 leaves null vectors out of both the flat scan and the
   * IVF-PQ index, so no `IS NOT NULL` prefilter is needed (it forced a read of the whole vector
   * column: 133 ms vs 9.5 ms at 100k events); a non-finite distance (a null or zero vector, should
   * a future LanceDB return one) is dropped here, and the search asks for a few extra rows to cover it.
   */
  async vectorSearch<T extends MemoryTableName>(options: { table: T; space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<Hit<RowOf[T]>[]> {
    const info = await this.#space(options.space);
    if (options.vector.length !== info.dims) throw new EngramError(`embedding space "${options.space}" stores ${info.dims}-d vectors; query has ${options.vector.length}`);
    const limit = options.limit ?? 10;
    const where = this.#filter(options.table, options.filter);
    // Orphaned moments are dropped after the search, so ask for a few more.
    const fetch = options.table === 'moments' ? limit * 2 + 10 : limit + 2;
    // See NPROBES and REFINE_CANDIDATES; without an index the search is exact and they change nothing.
    let query = this.#tables[options.table]
      .vectorSearch(options.vector)
      .column(info.column)
      .distanceType('cosine')
      .nprobes(this.#nprobes)
      .refineFactor(Math.max(1, Math.ceil((await this.#refineDepth(options.table)) / fetch)))
      // Naming _distance keeps LanceDB from warning on stderr about its future auto-projection.
      .select([...PLAIN_COLUMNS[options.table], '_distance'])
      .limit(fetch);
    if (where) query = query.where(where);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    let hits: Hit<RowOf[T]>[] = [];
    for (const r of rows) {
      const distance = r._distance;
      if (typeof distance !== 'number' || !Number.isFinite(distance)) continue;
      hits.push({ score: 1 - distance, row: CONVERT[options.table](r) as RowOf[T] });
    }
    if (options.table === 'moments') {
      const visible = new Set((await this.#visibleMoments(hits.map((h) => h.row as StoredMoment))).map((m) => m.id));
      hits = hits.filter((h) => visible.has((h.row as StoredMoment).id));
    }
    return hits.slice(0, limit);
  }

  /** PQ candidates a search of this table re-ranks (REFINE_CANDIDATES, ROWS_PER_REFINE_CANDIDATE). */
  async #refineDepth(table: MemoryTableName): Promise<number> {
    if (!this.#refineScales) return this.#refineCandidates;
    let count = this.#rowCounts.get(table);
    if (!count || Date.now() - count.at > ROW_COUNT_TTL_MS) {
      count = { rows: await this.#tables[table].countRows(), at: Date.now() };
      this.#rowCounts.set(table, count);
    }
    return Math.max(this.#refineCandidates, Math.ceil(count.rows / ROWS_PER_REFINE_CANDIDATE));
  }

  /** BM25 full-text search over summary, transcript and OCR text of events (index or not). */
  async textSearch(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<Hit<StoredEvent>[]> {
    const text = options.query.trim();
    if (text === '') return [];
    const where = this.#filter('events', options.filter);
    // The query text goes to the full-text engine as a value, never into the filter string.
    let query = this.#tables.events.query().fullTextSearch(new lancedb.MultiMatchQuery(text, [...TEXT_COLUMNS])).select([...(await this.#plainColumns('events')), '_score']).limit(options.limit ?? 10);
    if (where) query = query.where(where);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows.map((r) => ({ score: num(r._score), row: toEvent(r) }));
  }

  /** MemoryBank reinforcement: each recalled event gains strength, a recall, and a fresh start. */
  async reinforce(ids: string[], now: number): Promise<void> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    await this.#write(() =>
      this.#tables.events.update({
        where: sqlIn('id', unique),
        valuesSql: {
          strength: `strength + ${sqlNumber(this.#reinforceDays)}`,
          recallCount: `${q('recallCount')} + 1`,
          lastRecalledAt: sqlNumber(now),
          retention: '1.0',
        },
      }),
    );
  }

  /** Recomputes retention exp(-elapsed / strength) of every event (elapsed since its end or last recall). */
  async decay(now: number): Promise<number> {
    const since = `greatest(${q('endedAt')}, coalesce(${q('lastRecalledAt')}, 0.0))`;
    const result = await this.#write(() =>
      this.#tables.events.update({ valuesSql: { retention: `exp(-(greatest(${sqlNumber(now)} - ${since}, 0.0)) / (strength * ${DAY_MS}.0))` } }),
    );
    return Number(result.rowsUpdated ?? 0);
  }

  /**
   * Prunes perceptual detail: moments older than `olderThan` (epoch ms), and all moments of events
   * whose retention is below `retentionBelow`. Events and episodes stay. Returns the thumbnails of
   * the deleted moments, minus those still used as an event's thumbnail, for the caller to delete.
   */
  async pruneMoments(options: { olderThan: number; retentionBelow: number; now: number }): Promise<{ moments: number; events: number; thumbnails: string[] }> {
    return this.#write(async () => {
      const weak = await this.#tables.events.query().select(['id']).where(`retention < ${sqlNumber(options.retentionBelow)} AND ${q('prunedAt')} IS NULL`).toArray();
      const weakIds = weak.map((r) => r.id as string);
      const predicates = [`${q('startedAt')} < ${sqlNumber(options.olderThan)}`];
      for (let i = 0; i < weakIds.length; i += 500) predicates.push(sqlIn('eventId', weakIds.slice(i, i + 500)));
      const predicate = predicates.map((p) => `(${p})`).join(' OR ');
      const doomed = (await this.#tables.moments.query().select(['thumbnail', 'eventId']).where(predicate).toArray()) as { thumbnail: string | null; eventId: string }[];
      if (doomed.length > 0) await this.#tables.moments.delete(predicate);
      if (weakIds.length > 0) {
        for (let i = 0; i < weakIds.length; i += 500) {
          await this.#tables.events.update({ where: sqlIn('id', weakIds.slice(i, i + 500)), valuesSql: { prunedAt: sqlNumber(options.now) } });
        }
      }
      const thumbs = [...new Set(doomed.map((d) => d.thumbnail).filter((t): t is string => typeof t === 'string' && t.length > 0))];
      const kept = new Set<string>();
      for (let i = 0; i < thumbs.length; i += 500) {
        const rows = await this.#tables.events.query().select(['thumbnail']).where(sqlIn('thumbnail', thumbs.slice(i, i + 500))).toArray();
        for (const r of rows) kept.add(r.thumbnail as string);
      }
      return { moments: doomed.length, events: weakIds.length, thumbnails: thumbs.filter((t) => !kept.has(t)) };
    });
  }

  /** Events whose summary is extractive, oldest first, for an LLM upgrade. */
  async eventsNeedingSummary(limit: number): Promise<StoredEvent[]> {
    return this.#rows('events', `${q('needsSummary')} = true`, { limit, order: [{ columnName: 'startedAt', ascending: true }] });
  }

  async setSummary(id: string, summary: string, tags?: string[]): Promise<void> {
    await this.#write(() =>
      this.#tables.events.update({
        where: `id = ${sqlString(id)}`,
        values: { summary, needsSummary: false, ...(tags ? { tags: tags.join(' ') } : {}) },
      }),
    );
  }

  async episodes(filter: MemoryFilter = {}, limit = 100): Promise<StoredEpisode[]> {
    return this.#rows('episodes', this.#filter('episodes', filter), { limit, order: [{ columnName: 'startedAt', ascending: true }, { columnName: 'level', ascending: true }] });
  }

  /** Events with their vectors, for building episodes. */
  async eventsWithVectors(filter: MemoryFilter, limit = 100_000): Promise<(StoredEvent & { vectors: Vectors; salience: number })[]> {
    const spaces = await this.spaces();
    let query = this.#tables.events.query().select([...(await this.#plainColumns('events')), ...spaces.map((s) => s.column)]).limit(limit);
    const where = this.#filter('events', filter);
    if (where) query = query.where(where);
    const rows = (await query.toArray()) as Record<string, unknown>[];
    return rows
      .map((r) => {
        const vectors: Vectors = {};
        for (const s of spaces) {
          const v = toF32(r[s.column]);
          if (v) vectors[s.space] = v;
        }
        return { ...toEvent(r), vectors, salience: num(r.salience) };
      })
      .sort((a, b) => a.startedAt - b.startedAt || a.start - b.start);
  }

  /**
   * Streams that have events. One indexed read per stream (the next row whose stream is none of
   * those found so far) instead of reading every row's stream: ~15 ms vs 70-200 ms at 100k events.
   */
  async streams(): Promise<string[]> {
    const found: string[] = [];
    for (;;) {
      let query = this.#tables.events.query().select(['stream']).limit(1);
      if (found.length > 0) query = query.where(`NOT (${sqlIn('stream', found)})`);
      const [row] = await query.toArray();
      if (!row) break;
      found.push(row.stream as string);
    }
    return found.sort();
  }

  /**
   * Compacts small fragments, folds new rows into existing indexes, and drops table versions older
   * than `keepVersionsMs` (readers still on an old version get a minute by default).
   */
  async compact(options: { keepVersionsMs?: number } = {}): Promise<void> {
    const keep = options.keepVersionsMs ?? 60_000;
    for (const table of [...Object.values(this.#tables), this.#meta]) {
      await this.#write(() => table.optimize({ cleanupOlderThan: new Date(Date.now() - keep) }));
    }
  }

  /**
   * Builds vector indexes (IVF-PQ, cosine) on tables with at least `vectorMinRows` rows and FTS
   * indexes on events' text with at least `ftsMinRows`; rebuilds one when its table has grown by
   * `growth` since it was built. Returns what it built.
   */
  async buildIndexes(options: { vectorMinRows: number; ftsMinRows: number; growth: number }): Promise<string[]> {
    const built: string[] = [];
    const spaces = await this.spaces();
    for (const name of MEMORY_TABLES) {
      const table = this.#tables[name];
      const rows = await table.countRows();
      const indices = await table.listIndices();
      const due = async (column: string, minRows: number) => {
        if (rows < minRows) return false;
        const builtAt = Number((await this.#metaGet(`index:${name}:${column}`)) ?? 0);
        const exists = indices.some((i) => i.columns.includes(column));
        return !exists || rows >= Math.max(builtAt, 1) * options.growth;
      };
      for (const s of spaces) {
        if (!(await due(s.column, options.vectorMinRows))) continue;
        const withVectors = await table.countRows(`${s.column} IS NOT NULL`);
        // IVF-PQ needs enough vectors to train its partitions and codebooks.
        if (withVectors < Math.max(256, options.vectorMinRows / 2)) continue;
        // sqrt(n) partitions: LanceDB 0.31's default made 12 at 100k, so each search probed all of
        // them and ranked every PQ code (~15 ms of a question's search); with sqrt(n) a search
        // probes NPROBES of ~316. PQ alone recalls ~0.3 at 10, so searches refine (REFINE_CANDIDATES).
        const numPartitions = Math.max(1, Math.round(Math.sqrt(withVectors)));
        await this.#write(() => table.createIndex(s.column, { config: lancedb.Index.ivfPq({ distanceType: 'cosine', numPartitions }), replace: true }));
        await this.#metaSet({ [`index:${name}:${s.column}`]: String(rows) });
        built.push(`${name}.${s.column}`);
      }
      if (name === 'events') {
        for (const column of TEXT_COLUMNS) {
          if (!(await due(column, options.ftsMinRows))) continue;
          await this.#write(() => table.createIndex(column, { config: lancedb.Index.fts(), replace: true }));
          await this.#metaSet({ [`index:${name}:${column}`]: String(rows) });
          built.push(`${name}.${column}`);
        }
      }
    }
    return built;
  }

  /** Rows and bytes per table, bytes on disk, schema version and spaces. */
  async tableStats(): Promise<MemoryStats> {
    const tables = {} as Record<MemoryTableName, TableStats>;
    for (const name of MEMORY_TABLES) {
      const t = this.#tables[name];
      const s = await t.stats();
      tables[name] = { rows: s.numRows, bytes: s.totalBytes, indices: (await t.listIndices()).map((i) => i.name) };
    }
    const local = !/^[a-z][a-z0-9+.-]*:\/\//i.test(this.uri) || this.uri.startsWith('file://');
    return {
      tables,
      diskBytes: local ? await dirBytes(this.uri.replace(/^file:\/\//, '')) : null,
      schemaVersion: await this.schemaVersion(),
      spaces: await this.spaces(),
    };
  }

  /** Closes tables and the connection. Idempotent; waits for writes in flight. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writeChain;
    for (const t of [...Object.values(this.#tables), this.#meta]) t.close();
    this.#db.close();
  }
}

