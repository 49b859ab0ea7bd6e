// The gated part of one stream's chunks across processes: `engram serve` perceives in one process
// per core, so two consecutive chunks of a stream are often perceived at once in two processes,
// and the later one would compare against the gate state before the earlier one's run was stored
// and run its models again: in a backlog (a file read faster than real time, a machine behind)
// gating would switch itself off, as StreamLanes' comment says for one process. A per-stream Redis
// lock makes them take turns, as StreamLanes does in one process. It is an optimisation, not a guard: the state's forward-only writes keep results
// correct without it, so a lock that stays taken (a holder that died, a machine far behind) is
// waited for at most `waitMs`, and the chunk then runs without it.
import type { Redis } from 'ioredis';
import { StreamLock } from './stream-lock.js';

export interface GateLockOptions {
  /** How long a holder that died keeps others waiting; renewed while the holder works. */
  ttlMs: number;
  /** How long a chunk waits for the lock before it runs without it. */
  waitMs: number;
}

export class GateLock {
  readonly #locks: StreamLock;
  readonly #options: GateLockOptions;

  constructor(redis: Redis, prefix: string, options: GateLockOptions) {
    this.#locks = new StreamLock(redis, prefix);
    this.#options = options;
  }

  /** Runs `work` holding the stream's gate lock, or without it once waitMs passed. */
  async around<T>(stream: string, work: () => Promise<T>): Promise<T> {
    const busy = new Error('gate lock busy');
    try {
      return await this.#locks.hold(`gate:${stream}`, { ...this.#options, renewMs: Math.max(100, Math.floor(this.#options.ttlMs / 3)) }, () => busy, work);
    } catch (error) {
      if (error === busy) return work();
      throw error;
    }
  }
}
