// Ranked searches of long-term memory: nearest vectors in one embedding space (IVF-PQ once
// buildIndexes has made one, exact before) and BM25 full-text over events' text, both with the
// one MemoryFilter applied before ranking.
import * as lancedb from '@lancedb/lancedb';
import { EngramError } from '../../config/errors.js';
import type { StoredEvent } from '../records/event.js';
import { memoryWhere } from './memory-filter.js';
import type { MemoryReads } from './memory-reads.js';
import { CONVERT, num, RECORD_COLUMNS, toEvent, type Hit, type MemoryFilter, type MemoryTableName, type RowOf, type StoredMoment } from './memory-schema.js';
import type { MemoryTables } from './memory-tables.js';

/**
 * IVF partitions probed per search (LanceDB's default), of sqrt(n) built (buildIndexes). On 100k
 * clustered 512-d events (test/bench/memory.ts) recall@10 was the same at 10, 20 and 40 probes,
 * and at 1M (1000 partitions) the same at 20 and 40: what limits IVF-PQ is the PQ ranking, which
 * the refine step below corrects.
 */
export const NPROBES = 20;
/**
 * PQ candidates re-ranked by their full vectors per search, whatever the limit (the refine factor
 * is this over the limit). At 100k, recall@10 was 0.72 with 100 (the old factor 10), 0.98 with
 * 300 and 1.0 with 500; re-ranking reads each candidate's vector, ~8 ms for 500, ~5 for 300.
 */
export const REFINE_CANDIDATES = 300;
/**
 * Larger tables need more candidates. Measured at 1M (test/bench/memory.ts, one index, 50 queries,
 * shared 2-core machine): 300 recalled 0.70 at 10 (an earlier run), 1000 recalled 0.952 (p50
 * 45-51 ms), 2000 recalled 0.996 (p50 51-69 ms), 3000 and 4000 1.0; the JS brute-force scan took
 * 2053 ms p50. 1000 is at the 0.95 goal's edge, and two index builds over the same 100k rows
 * recalled 0.978 and 0.988 (k-means training differs per build), so one candidate per 500 rows:
 * 2000 at 1M, ~30x faster than the scan; up to 150k rows REFINE_CANDIDATES' 300 still rules.
 * Without an explicit refineCandidates, a search re-ranks at least one candidate per this many
 * rows of its table.
 */
export const ROWS_PER_REFINE_CANDIDATE = 500;
/** How long a table's row count (for the refine depth) is reused before it is counted again. */
const ROW_COUNT_TTL_MS = 30_000;
// Detector labels are searchable words too: "person" finds the events a person was seen in.
export const TEXT_COLUMNS = ['summary', 'transcript', 'ocr', 'labels'] as const;

export interface SearchOptions {
  /** IVF partitions probed per vector search. @defaultValue NPROBES */
  nprobes?: number;
  /** PQ candidates re-ranked per vector search; unset, it grows with the table. @defaultValue REFINE_CANDIDATES */
  refineCandidates?: number;
  /** Scan every vector instead of using the index: the exact answer benches compare the index with. @defaultValue false */
  exact?: boolean;
}

export class MemorySearch {
  readonly #t: MemoryTables;
  readonly #reads: MemoryReads;
  readonly #nprobes: number;
  readonly #refineCandidates: number;
  readonly #refineScales: boolean;
  readonly #exact: boolean;
  readonly #rowCounts = new Map<MemoryTableName, { rows: number; at: number }>();

  constructor(tables: MemoryTables, reads: MemoryReads, options: SearchOptions = {}) {
    this.#t = tables;
    this.#reads = reads;
    this.#nprobes = options.nprobes ?? NPROBES;
    this.#refineCandidates = options.refineCandidates ?? REFINE_CANDIDATES;
    this.#refineScales = options.refineCandidates === undefined;
    this.#exact = options.exact ?? false;
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
    const limit = options.limit ?? 10;
    // Orphaned moments are dropped after the search, so ask for a few more.
    const fetch = options.table === 'moments' ? limit * 2 + 10 : limit + 2;
    const rows = await this.#nearest(options.table, options.space, options.vector, fetch, options.filter, RECORD_COLUMNS[options.table]);
    let hits: Hit<RowOf[T]>[] = [];
    for (const r of rows) {
      const distance = r._distance;
      if (typeof distance !== 'number' || !Number.isFinite(distance)) continue;
      hits.push({ score: 1 - distance, row: CONVERT[options.table](r) as RowOf[T] });
    }
    if (options.table === 'moments') {
      const visible = new Set((await this.#reads.visibleMoments(hits.map((h) => h.row as StoredMoment))).map((m) => m.id));
      hits = hits.filter((h) => visible.has((h.row as StoredMoment).id));
    }
    return hits.slice(0, limit);
  }

  /**
   * Nearest events to a vector, ids and cosine similarity only: the reasoner fuses several such
   * lists and reads the rows of the fused candidates once (getEvents), instead of every search
   * reading and converting two dozen columns of rows that fusion then drops.
   */
  async eventVectorHits(options: { space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]> {
    const limit = options.limit ?? 10;
    const rows = await this.#nearest('events', options.space, options.vector, limit + 2, options.filter, ['id']);
    const hits: { id: string; score: number }[] = [];
    for (const r of rows) {
      const distance = r._distance;
      if (typeof distance === 'number' && Number.isFinite(distance)) hits.push({ id: r.id as string, score: 1 - distance });
    }
    return hits.slice(0, limit);
  }

  async #nearest(table: MemoryTableName, space: string, vector: Float32Array, fetch: number, filter: MemoryFilter | undefined, columns: string[]): Promise<Record<string, unknown>[]> {
    const info = await this.#t.space(space);
    if (vector.length !== info.dims) throw new EngramError(`embedding space "${space}" stores ${info.dims}-d vectors; query has ${vector.length}`);
    const where = memoryWhere(table, filter);
    // See NPROBES and REFINE_CANDIDATES; without an index the search is exact and they change nothing.
    let query = this.#t
      .table(table)
      .vectorSearch(vector)
      .column(info.column)
      .distanceType('cosine')
      .nprobes(this.#nprobes)
      .refineFactor(Math.max(1, Math.ceil((await this.#refineDepth(table)) / fetch)))
      // Naming _distance keeps LanceDB from warning on stderr about its future auto-projection.
      .select([...columns, '_distance'])
      .limit(fetch);
    if (where) query = query.where(where);
    if (this.#exact) query = query.bypassVectorIndex();
    return (await query.toArray()) as Record<string, unknown>[];
  }

  /** PQ candidates a search of this table re-ranks (REFINE_CANDIDATES, ROWS_PER_REFINE_CANDIDATE). */
  async #refineDepth(table: MemoryTableName): Promise<number> {
    if (!this.#refineScales) return this.#refineCandidates;
    let count = this.#rowCounts.get(table);
    if (!count || Date.now() - count.at > ROW_COUNT_TTL_MS) {
      count = { rows: await this.#t.table(table).countRows(), at: Date.now() };
      this.#rowCounts.set(table, count);
    }
    return Math.max(this.#refineCandidates, Math.ceil(count.rows / ROWS_PER_REFINE_CANDIDATE));
  }

  /** BM25 full-text search over summary, transcript and OCR text of events (index or not). */
  async textSearch(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<Hit<StoredEvent>[]> {
    const rows = await this.#bm25(options, RECORD_COLUMNS.events);
    return rows.map((r) => ({ score: num(r._score), row: toEvent(r) }));
  }

  /** The same search, ids and BM25 scores only (see eventVectorHits). */
  async eventTextHits(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]> {
    const rows = await this.#bm25(options, ['id']);
    return rows.map((r) => ({ id: r.id as string, score: num(r._score) }));
  }

  async #bm25(options: { query: string; limit?: number; filter?: MemoryFilter }, columns: string[]): Promise<Record<string, unknown>[]> {
    const text = options.query.trim();
    if (text === '') return [];
    const where = memoryWhere('events', options.filter);
    // The query text goes to the full-text engine as a value, never into the filter string.
    let query = this.#t.table('events').query().fullTextSearch(new lancedb.MultiMatchQuery(text, [...TEXT_COLUMNS])).select([...columns, '_score']).limit(options.limit ?? 10);
    if (where) query = query.where(where);
    return (await query.toArray()) as Record<string, unknown>[];
  }
}
