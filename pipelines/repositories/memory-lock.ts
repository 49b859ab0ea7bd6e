// One writer of long-term memory at a time, across every consolidate process on every host that
// shares the Redis: a Redis lock (stream-lock.ts) held for the whole of a consolidation batch or
// a maintenance job. LanceDB keeps concurrent commits to one table consistent by itself
// (optimistic concurrency: a conflicting commit fails and memory-tables.ts retries it), but
// consolidation reads a stream's previous events, merges into them and writes them back. A second
// writer that reads before the first has written sees an older memory: it splits a scene the
// first is growing into a second row, and two writers merging different events into one row would
// each write back their own version of it, the later dropping the earlier's events. Under the
// lock, memory is what one writer taking the batches in turn would make.
import type { Redis } from 'ioredis';
import { EngramError } from '../../config/errors.js';
import { StreamLock } from './stream-lock.js';

const NAME = 'memory-write';
/** The lock expires this long after its holder stops renewing it (a killed worker). */
const TTL_MS = 60_000;
const RENEW_MS = 15_000;

export class MemoryWriteLock {
  readonly #lock: StreamLock;
  readonly #waitMs: number;
  /** Milliseconds spent waiting for and holding the lock, for the benchmark. */
  readonly stats = { runs: 0, waitMs: 0, heldMs: 0 };

  /**
   * `waitMs`: how long a writer waits for the lock before giving up. What then happens is the
   * caller's: a consolidate job fails and BullMQ retries it while attempts remain; reinforcement
   * is dropped (the recall goes uncounted) and logged.
   */
  constructor(redis: Redis, prefix: string, options: { waitMs?: number } = {}) {
    this.#lock = new StreamLock(redis, prefix);
    this.#waitMs = options.waitMs ?? 600_000;
  }

  /** Runs `fn` holding the lock, renewing it while `fn` runs. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const t0 = performance.now();
    let t1: number | undefined;
    const busy = () => new EngramError(`long-term memory stayed locked by another writer for ${Math.round(this.#waitMs / 1000)} s; gave up waiting, so this write was not made`);
    try {
      return await this.#lock.hold(NAME, { ttlMs: TTL_MS, renewMs: RENEW_MS, waitMs: this.#waitMs, ...(signal ? { signal } : {}) }, busy, () => {
        t1 = performance.now();
        return fn();
      });
    } finally {
      if (t1 !== undefined) {
        this.stats.runs += 1;
        this.stats.waitMs += t1 - t0;
        this.stats.heldMs += performance.now() - t1;
      }
    }
  }
}
