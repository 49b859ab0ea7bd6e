// Short-term memory: one Redis Stream of perception records per stream, trimmed by age (MINID on
// the entry ids, which are arrival milliseconds), and the segmenter's saved state per stream.
// Perceive appends records in whatever order its parallel jobs finish; segment reads them back in
// sequence order, waiting a bounded time for a missing sequence before calling it a gap.
import type { Redis } from 'ioredis';
import { decodeJson, decodeRecord, encodeJson, encodeRecord, type PerceptionRecord } from '../records/perception.js';
import type { SegmenterState } from '../records/segmenter-state.js';
import { gateKey } from './gate-store.js';

export interface StoredRecord {
  /** Redis Stream entry id. */
  id: string;
  seq: number;
  record: PerceptionRecord;
}

/** What the reader found at the head of a stream. */
export type NextRecords = (
  /** Records in sequence order, starting at the expected one (or after a gap the caller accepted). */
  | { kind: 'records'; records: StoredRecord[]; missingBefore: boolean; missing?: { fromSeq: number; toSeq: number } }
  /** The expected sequence is missing but later ones are here: look again in this long. */
  | { kind: 'waiting'; seq: number; retryInMs: number; owed: boolean }
  | { kind: 'empty' }
) & {
  /** Sequence numbers of records read that were consumed already or arrived after their turn. */
  late: number[];
};

/** The part of the segmenter's state that says where reading resumes and which hole it waits on. */
export type ReadCursor = Pick<SegmenterState, 'nextSeq' | 'scanFrom' | 'hole'>;

const APPEND = `
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('xadd', KEYS[1], 'MINID', '~', ARGV[2], '*', 'seq', ARGV[3], 'record', ARGV[4])
end
return false`;

function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${Number(seq ?? 0) + 1}`;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

export class ShortTermMemory {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #spanMs: number;

  constructor(redis: Redis, prefix: string, options: { spanSeconds: number }) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#spanMs = Math.round(options.spanSeconds * 1000);
  }

  key(stream: string): string {
    return `${this.#prefix}:stm:${stream}`;
  }

  stateKey(stream: string): string {
    return `${this.#prefix}:segment-state:${stream}`;
  }

  /**
   * Appends one record unless this very record (stream, seq, wall start) was appended already, as
   * happens when a perceive job is retried after appending; entries older than the configured
   * span are trimmed in the same script. Returns false for a duplicate.
   */
  async append(record: PerceptionRecord): Promise<boolean> {
    const minId = Math.max(0, Date.now() - this.#spanMs);
    const seen = `${this.key(record.stream)}:seen:${record.seq}:${Math.round(record.wallStart)}`;
    const id = await this.#redis.eval(APPEND, 2, this.key(record.stream), seen, String(Math.ceil(this.#spanMs / 1000)), String(minId), String(record.seq), encodeRecord(record));
    return id !== null;
  }

  async length(stream: string): Promise<number> {
    return this.#redis.xlen(this.key(stream));
  }

  /** Every entry still held for a stream, in arrival order (entry ids are arrival milliseconds). */
  async entries(stream: string): Promise<StoredRecord[]> {
    return this.#range(stream, '-', 1_000_000);
  }

  /** Every record still held for a stream, in sequence order (duplicates from retried jobs removed). */
  async all(stream: string): Promise<PerceptionRecord[]> {
    const entries = await this.#range(stream, '-', 1_000_000);
    const bySeq = new Map<number, PerceptionRecord>();
    for (const e of entries) if (!bySeq.has(e.seq)) bySeq.set(e.seq, e.record);
    return [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  }

  async #range(stream: string, from: string, count: number): Promise<StoredRecord[]> {
    const raw = await this.#redis.xrange(this.key(stream), from, '+', 'COUNT', count);
    const out: StoredRecord[] = [];
    for (const [id, fields] of raw) {
      let seq: number | undefined;
      let text: string | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'seq') seq = Number(fields[i + 1]);
        else if (fields[i] === 'record') text = fields[i + 1];
      }
      if (seq === undefined || text === undefined || !Number.isInteger(seq)) continue;
      out.push({ id, seq, record: decodeRecord(text) });
    }
    return out;
  }

  /**
   * The next records in sequence order from `cursor`, at most `max`. Updates the cursor's scan
   * position and hole in place; the caller advances nextSeq as it consumes and saves the cursor.
   *
   * A missing sequence is waited for as long as `owed(seq)` says its work is still pending (its
   * perceive job is waiting, running or due for a retry: late is not lost), and then for
   * missingWaitMs more, which covers a record appended just before its work was settled. Only
   * then is it skipped as a gap.
   */
  async next(
    stream: string,
    cursor: ReadCursor,
    options: { max: number; missingWaitMs: number; now?: number; owed?: (seq: number) => Promise<boolean> },
  ): Promise<NextRecords> {
    const now = options.now ?? Date.now();
    const entries = await this.#range(stream, cursor.scanFrom, Math.max(4 * options.max, 64));
    const late = [...new Set(entries.filter((e) => e.seq < cursor.nextSeq).map((e) => e.seq))];
    if (entries.length === 0) return { kind: 'empty', late };
    const bySeq = new Map<number, StoredRecord>();
    for (const e of entries) if (e.seq >= cursor.nextSeq && !bySeq.has(e.seq)) bySeq.set(e.seq, e);
    if (bySeq.size === 0) {
      // Everything read was consumed already (or duplicates of it): skip past it next time.
      cursor.scanFrom = nextId((entries[entries.length - 1] as StoredRecord).id);
      return { kind: 'empty', late };
    }
    let seq = cursor.nextSeq;
    let missingBefore = false;
    let missing: { fromSeq: number; toSeq: number } | undefined;
    if (!bySeq.has(seq)) {
      if (!cursor.hole || cursor.hole.seq !== seq) cursor.hole = { seq, since: now };
      if (options.owed && (await options.owed(seq))) {
        // Still owed: the bounded wait starts only once nothing owes it any more.
        cursor.hole.since = now;
        return { kind: 'waiting', seq, retryInMs: options.missingWaitMs, owed: true, late };
      }
      const waited = now - cursor.hole.since;
      if (waited < options.missingWaitMs) return { kind: 'waiting', seq, retryInMs: options.missingWaitMs - waited, owed: false, late };
      const found = Math.min(...bySeq.keys());
      // Every sequence of the hole must be given up on, not only its first.
      for (let s = seq + 1; s < found; s += 1) {
        if (options.owed && (await options.owed(s))) {
          cursor.hole.since = now;
          return { kind: 'waiting', seq, retryInMs: options.missingWaitMs, owed: true, late };
        }
      }
      missing = { fromSeq: seq, toSeq: found };
      seq = found;
      missingBefore = true;
    }
    cursor.hole = null;
    const records: StoredRecord[] = [];
    while (records.length < options.max) {
      const e = bySeq.get(seq);
      if (!e) break;
      records.push(e);
      seq += 1;
    }
    // Resume the scan at the earliest entry these records leave unconsumed.
    const unconsumed = entries.filter((e) => e.seq >= seq);
    cursor.scanFrom = unconsumed.length > 0 ? unconsumed.reduce((a, b) => (compareIds(a.id, b.id) <= 0 ? a : b)).id : nextId((entries[entries.length - 1] as StoredRecord).id);
    return { kind: 'records', records, missingBefore, ...(missing ? { missing } : {}), late };
  }

  async loadState(stream: string): Promise<SegmenterState | undefined> {
    const raw = await this.#redis.get(this.stateKey(stream));
    return raw === null ? undefined : decodeJson<SegmenterState>(raw);
  }

  async saveState(stream: string, state: SegmenterState): Promise<void> {
    await this.#redis.set(this.stateKey(stream), encodeJson(state));
  }

  /** Forgets a stream: its records, its segmenter state and perceive's gating state. */
  async drop(stream: string): Promise<void> {
    await this.#redis.del(this.key(stream), this.stateKey(stream), gateKey(this.#prefix, stream));
  }
}
