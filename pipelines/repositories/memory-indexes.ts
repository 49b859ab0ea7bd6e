// Indexes and upkeep of long-term memory's tables: the scalar and full-text indexes every store
// has from the start, the vector (IVF-PQ) and rebuilt full-text indexes OptimizeTables builds as
// tables grow, compaction, and the table statistics `engram status` and the benches show.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { TEXT_COLUMNS } from './memory-search.js';
import { MEMORY_TABLES, type MemoryStats, type MemoryTableName, type TableStats } from './memory-schema.js';
import type { MemoryTables } from './memory-tables.js';

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

/**
 * Scalar indexes on the columns every write and read filters on (merge-insert joins on id; moments
 * are looked up by event; time filters), created on the empty tables so LanceDB keeps them.
 */
const SCALAR_INDEXES: [MemoryTableName, string, () => lancedb.Index][] = [
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

/**
 * Dimensions per PQ sub-vector of the IVF-PQ indexes (LanceDB's default is 16: a 512-d vector
 * becomes 32 one-byte codes). Finer codes rank candidates closer to their true order, so the
 * refine step (REFINE_CANDIDATES) needs fewer full vectors to find the true top k.
 */
export const PQ_DIMS_PER_SUB_VECTOR = 16;

export interface BuildIndexOptions {
  vectorMinRows: number;
  ftsMinRows: number;
  growth: number;
  /** Dimensions per PQ sub-vector (8 or 16 keep LanceDB's SIMD paths). @defaultValue PQ_DIMS_PER_SUB_VECTOR */
  pqDimsPerSubVector?: number;
}

export class MemoryIndexes {
  readonly #t: MemoryTables;

  constructor(tables: MemoryTables) {
    this.#t = tables;
  }

  /** Creates the indexes a store has from its first open (another process may race us to each). */
  async ensure(): Promise<void> {
    await this.#ensureTextIndexes();
    await this.#ensureScalarIndexes();
  }

  async #ensureScalarIndexes(): Promise<void> {
    for (const name of MEMORY_TABLES) {
      const table = this.#t.table(name);
      const have = new Set((await table.listIndices()).flatMap((i) => i.columns));
      for (const [tableName, column, index] of SCALAR_INDEXES) {
        if (tableName !== name || have.has(column)) continue;
        try {
          await this.#t.write(() => table.createIndex(column, { config: index() }));
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
    const events = this.#t.table('events');
    const have = new Set((await events.listIndices()).flatMap((i) => i.columns));
    for (const column of TEXT_COLUMNS) {
      if (have.has(column)) continue;
      try {
        await this.#t.write(() => events.createIndex(column, { config: lancedb.Index.fts() }));
      } catch (error) {
        // Another process opening the store at the same moment built it first.
        if (!(await events.listIndices()).some((i) => i.columns.includes(column))) throw error;
      }
    }
  }

  /**
   * Compacts small fragments, folds new rows into existing indexes, and drops table versions older
   * than `keepVersionsMs` (readers still on an old version get a minute by default).
   */
  async compact(options: { keepVersionsMs?: number } = {}): Promise<void> {
    const keep = options.keepVersionsMs ?? 60_000;
    for (const table of this.#t.all()) {
      await this.#t.write(() => table.optimize({ cleanupOlderThan: new Date(Date.now() - keep) }));
    }
  }

  /**
   * Builds vector indexes (IVF-PQ, cosine) on tables with at least `vectorMinRows` rows and FTS
   * indexes on events' text with at least `ftsMinRows`; rebuilds one when its table has grown by
   * `growth` since it was built. Returns what it built.
   */
  async buildIndexes(options: BuildIndexOptions): Promise<string[]> {
    const perSubVector = options.pqDimsPerSubVector ?? PQ_DIMS_PER_SUB_VECTOR;
    const built: string[] = [];
    const spaces = await this.#t.spaces();
    for (const name of MEMORY_TABLES) {
      const table = this.#t.table(name);
      const rows = await table.countRows();
      const indices = await table.listIndices();
      const due = async (column: string, minRows: number) => {
        if (rows < minRows) return false;
        const builtAt = Number((await this.#t.metaGet(`index:${name}:${column}`)) ?? 0);
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
        // A width that does not divide the vector leaves the choice to LanceDB.
        const numSubVectors = s.dims % perSubVector === 0 ? s.dims / perSubVector : undefined;
        await this.#t.write(() => table.createIndex(s.column, { config: lancedb.Index.ivfPq({ distanceType: 'cosine', numPartitions, ...(numSubVectors ? { numSubVectors } : {}) }), replace: true }));
        await this.#t.write(() => this.#t.metaSet({ [`index:${name}:${s.column}`]: String(rows) }));
        built.push(`${name}.${s.column}`);
      }
      if (name === 'events') {
        for (const column of TEXT_COLUMNS) {
          if (!(await due(column, options.ftsMinRows))) continue;
          await this.#t.write(() => table.createIndex(column, { config: lancedb.Index.fts(), replace: true }));
          await this.#t.write(() => this.#t.metaSet({ [`index:${name}:${column}`]: String(rows) }));
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
      const t = this.#t.table(name);
      const s = await t.stats();
      tables[name] = { rows: s.numRows, bytes: s.totalBytes, indices: (await t.listIndices()).map((i) => i.name) };
    }
    const uri = this.#t.uri;
    const local = !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || uri.startsWith('file://');
    return {
      tables,
      diskBytes: local ? await dirBytes(uri.replace(/^file:\/\//, '')) : null,
      schemaVersion: await this.#t.schemaVersion(),
      spaces: await this.#t.spaces(),
    };
  }
}
