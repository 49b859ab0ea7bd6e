// Long-term memory's LanceDB tables: the connection, the events / moments / episodes tables and
// the small `meta` table (schema version, embedding spaces, index bookkeeping), migrations, and
// every row write. The other memory-* modules read and maintain these tables through this class;
// MemoryStore (memory-store.ts) is what the rest of engram uses. Writes go moments first and the
// event row last (the callers' order), and readers drop moments whose event row does not exist,
// so a consolidation killed half-way is invisible until its retry completes it.
import * as lancedb from '@lancedb/lancedb';
import { EngramError, PermanentError } from '../../config/errors.js';
import {
  arrow, baseFields, f, labelsColumn, MEMORY_TABLES, objectFields, peopleFields, spaceColumn, vectorField,
  type EpisodeWrite, type EventWrite, type MemoryTableName, type MomentWrite, type SpaceInfo, type Vectors,
} from './memory-schema.js';
import { sqlString } from './sql.js';
import { connectLance, openOrCreateTable } from './lance-connect.js';

/** Vectors of another size than the space stores: the same write fails the same way on every retry. */
export class VectorSizeError extends PermanentError {
  override readonly name = 'VectorSizeError';
}

/** Version of the table layout written by this code; open() migrates older data up to it. */
export const SCHEMA_VERSION = 3;

/**
 * Runs one LanceDB commit at a time across every process that shares it (lance-commit-lock.ts),
 * for object stores whose conditional writes cannot be relied on.
 */
export interface CommitLock {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** How a process reaches its LanceDB tables: storage options for an object store, and its commit lock. */
export interface LanceAccess {
  /**
   * How stale a read may be, in seconds, with respect to other processes' writes (the reasoner and
   * API read while consolidate writes). 0 checks for new versions on every read. @defaultValue 0
   */
  readConsistencySeconds?: number;
  /** LanceDB storage options (lance-connect.ts lanceStorageOptions). @defaultValue {} */
  storageOptions?: Record<string, string>;
  /** Taken around every commit when given. @defaultValue none */
  commitLock?: CommitLock;
}

function isConflict(error: unknown): boolean {
  return /conflict|concurrent|retryable/i.test(String((error as Error)?.message ?? error));
}

/** Migrations from version i+1 to i+2. */
const MIGRATIONS: ((tables: MemoryTables) => Promise<void>)[] = [
  // 1 -> 2: the detector's labels, counts and tracks on events, detections on moments.
  (tables) => tables.addMissingColumns({ events: objectFields.events(), moments: objectFields.moments() }),
  // 2 -> 3: the face identities seen in each event.
  (tables) => tables.addMissingColumns({ events: peopleFields.events() }),
];

export class MemoryTables {
  readonly uri: string;
  readonly #db: lancedb.Connection;
  readonly #tables: Record<MemoryTableName, lancedb.Table>;
  readonly meta: lancedb.Table;
  #spaces = new Map<string, SpaceInfo>();
  /** Serialises this process's writes; LanceDB resolves commits between processes. */
  #writeChain: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #commitLock: CommitLock | undefined;

  private constructor(uri: string, db: lancedb.Connection, tables: Record<MemoryTableName, lancedb.Table>, meta: lancedb.Table, commitLock: CommitLock | undefined) {
    this.uri = uri;
    this.#commitLock = commitLock;
    this.#db = db;
    this.#tables = tables;
    this.meta = meta;
  }

  /** Opens (creating on first use) the tables at a LanceDB URI and migrates them to SCHEMA_VERSION. */
  static async open(uri: string, options: LanceAccess = {}): Promise<MemoryTables> {
    const db = await connectLance(uri, options.readConsistencySeconds ?? 0, options.storageOptions);
    const names = new Set(await db.tableNames());
    const lock = options.commitLock;
    // Creating a table is a commit too: two hosts starting on an empty bucket must not both write its first version.
    const openOrCreate = (name: string, fields: import('apache-arrow').Field[]) =>
      names.has(name) || !lock ? openOrCreateTable(db, names, name, fields) : lock.run(async () => openOrCreateTable(db, new Set(await db.tableNames()), name, fields));
    const meta = await openOrCreate('meta', [f('key', new arrow.Utf8()), f('value', new arrow.Utf8())]);
    const tables = {} as Record<MemoryTableName, lancedb.Table>;
    for (const name of MEMORY_TABLES) tables[name] = await openOrCreate(name, baseFields(name));
    const opened = new MemoryTables(uri, db, tables, meta, lock);
    await opened.#migrate();
    await opened.#loadSpaces();
    return opened;
  }

  table(name: MemoryTableName): lancedb.Table {
    return this.#tables[name];
  }

  /** The three memory tables and meta, for whole-store maintenance. */
  all(): lancedb.Table[] {
    return [...Object.values(this.#tables), this.meta];
  }

  async metaGet(key: string): Promise<string | undefined> {
    const rows = await this.meta.query().where(`key = ${sqlString(key)}`).limit(1).toArray();
    return rows[0]?.value as string | undefined;
  }

  /** Callers run it inside write(), which serialises and locks the commit. */
  async metaSet(entries: Record<string, string>): Promise<void> {
    const rows = Object.entries(entries).map(([key, value]) => ({ key, value }));
    await this.meta.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.metaGet('schemaVersion')) ?? 0);
  }

  async #migrate(): Promise<void> {
    const stored = await this.schemaVersion();
    if (stored > SCHEMA_VERSION) {
      throw new EngramError(`LanceDB at ${this.uri} has schema version ${stored}, newer than this engram understands (${SCHEMA_VERSION}); upgrade engram`);
    }
    if (stored === 0) {
      await this.write(() => this.metaSet({ schemaVersion: String(SCHEMA_VERSION) }));
      return;
    }
    for (let version = stored; version < SCHEMA_VERSION; version += 1) {
      const step = MIGRATIONS[version - 1];
      if (!step) throw new EngramError(`no migration from schema version ${version} to ${version + 1}`);
      await step(this);
      await this.write(() => this.metaSet({ schemaVersion: String(version + 1) }));
    }
  }

  /** Adds (as all-null columns) the fields a table lacks; used by migrations, safe to repeat. */
  async addMissingColumns(fields: Partial<Record<MemoryTableName, import('apache-arrow').Field[]>>): Promise<void> {
    for (const [name, wanted] of Object.entries(fields) as [MemoryTableName, import('apache-arrow').Field[]][]) {
      const table = this.#tables[name];
      const have = new Set((await table.schema()).fields.map((x) => x.name));
      const add = wanted.filter((x) => !have.has(x.name));
      if (add.length > 0) await this.write(() => table.addColumns(add));
    }
  }

  async #loadSpaces(): Promise<void> {
    const rows = await this.meta.query().where(`key LIKE 'space:%'`).toArray();
    const spaces = new Map<string, SpaceInfo>();
    for (const row of rows) {
      const info = JSON.parse(row.value as string) as SpaceInfo;
      spaces.set(info.space, info);
    }
    this.#spaces = spaces;
  }

  /** The embedding spaces stored, with their columns and sizes (re-read: another process may add one). */
  async spaces(): Promise<SpaceInfo[]> {
    await this.#loadSpaces();
    return [...this.#spaces.values()].sort((a, b) => a.space.localeCompare(b.space));
  }

  /** One space, re-reading meta only when this process has not seen it yet. */
  async space(space: string): Promise<SpaceInfo> {
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
        if (known.dims !== size) throw new VectorSizeError(`embedding space "${space}" stores ${known.dims}-d vectors; got ${size}-d`);
        continue;
      }
      if (!Number.isInteger(size) || size <= 0) throw new EngramError(`embedding space "${space}": bad vector size ${size}`);
      const clash = [...this.#spaces.values()].find((s) => s.column === column);
      if (clash) throw new EngramError(`embedding spaces "${clash.space}" and "${space}" map to the same column ${column}`);
      fresh.push({ space, column, dims: size });
    }
    if (fresh.length === 0) return;
    await this.write(async () => {
      await this.#loadSpaces();
      for (const info of fresh) {
        const existing = this.#spaces.get(info.space);
        if (existing && existing.dims !== info.dims) throw new VectorSizeError(`embedding space "${info.space}" stores ${existing.dims}-d vectors; got ${info.dims}-d`);
      }
      const todo = fresh.filter((info) => !this.#spaces.has(info.space));
      // Columns first, then the meta row: a crash in between leaves a column that the next call
      // finds in the schema and does not add twice.
      for (const table of Object.values(this.#tables)) {
        const have = new Set((await table.schema()).fields.map((x) => x.name));
        const add = todo.filter((info) => !have.has(info.column)).map((info) => vectorField(info.column, info.dims));
        if (add.length > 0) await table.addColumns(add);
      }
      await this.metaSet(Object.fromEntries(todo.map((info) => [`space:${info.space}`, JSON.stringify(info)])));
      for (const info of todo) this.#spaces.set(info.space, info);
    });
  }

  /**
   * Runs writes one at a time in this process, under the commit lock when there is one, retrying
   * commit conflicts with other writers.
   */
  write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new EngramError('memory store is closed'));
    const lock = this.#commitLock;
    const run = async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await (lock ? lock.run(fn) : fn());
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
      if (v.length !== info.dims) throw new VectorSizeError(`embedding space "${space}" stores ${info.dims}-d vectors; got ${v.length}-d`);
      out[info.column] = v;
    }
    return out;
  }

  async #ensureFor(vectorSets: Vectors[]): Promise<void> {
    const dims: Record<string, number> = {};
    for (const set of vectorSets) for (const [space, v] of Object.entries(set)) dims[space] ??= v.length;
    await this.ensureSpaces(dims);
  }

  async #upsert(table: MemoryTableName, rows: Record<string, unknown>[]): Promise<void> {
    await this.write(() => this.#tables[table].mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
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
      people: labelsColumn(e.people ?? []), ...this.#vectorColumns(e.vectors),
    }));
    await this.#upsert('events', rows);
  }

  /**
   * Rewrites the identities of every event that saw `from`: `to` takes its place (an identity
   * merged into another), or it is removed (a person forgotten). Returns the events changed.
   */
  async replacePerson(from: string, to: string | null): Promise<number> {
    const events = this.#tables.events;
    const rows = await events.query().where(`people LIKE ${sqlString(`%|${from}|%`)}`).select(['id', 'people']).toArray();
    // Events with the same identities after the change are rewritten by one update.
    const byValue = new Map<string, string[]>();
    for (const row of rows) {
      const ids = new Set(String(row.people).split('|').filter(Boolean));
      ids.delete(from);
      if (to !== null) ids.add(to);
      const value = labelsColumn([...ids]);
      byValue.set(value, [...(byValue.get(value) ?? []), row.id as string]);
    }
    for (const [value, ids] of byValue) {
      await this.write(() => events.update({ where: `id IN (${ids.map(sqlString).join(', ')})`, values: { people: value } }));
    }
    return rows.length;
  }

  async upsertMoments(moments: MomentWrite[]): Promise<void> {
    if (moments.length === 0) return;
    await this.#ensureFor(moments.map((m) => m.vectors));
    const rows = moments.map((m) => ({
      id: m.id, stream: m.stream, startedAt: m.startedAt, endedAt: m.startedAt, eventId: m.eventId, kind: m.kind, t: m.t,
      thumbnail: m.thumbnail, detections: JSON.stringify(m.detections ?? []), ...this.#vectorColumns(m.vectors),
    }));
    await this.#upsert('moments', rows);
  }

  async upsertEpisodes(episodes: EpisodeWrite[]): Promise<void> {
    if (episodes.length === 0) return;
    await this.#ensureFor(episodes.map((e) => e.vectors));
    const rows = episodes.map((e) => ({
      id: e.id, stream: e.stream, startedAt: e.startedAt, endedAt: e.endedAt, start: e.start, end: e.end, level: e.level,
      summary: e.summary, tags: e.tags.join(' '), eventCount: e.eventCount, eventIds: e.eventIds.join(' '),
      needsSummary: e.needsSummary, updatedAt: e.updatedAt, ...this.#vectorColumns(e.vectors),
    }));
    await this.#upsert('episodes', rows);
  }

  /** Closes tables and the connection. Idempotent; waits for writes in flight. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writeChain;
    for (const t of this.all()) t.close();
    this.#db.close();
  }
}
