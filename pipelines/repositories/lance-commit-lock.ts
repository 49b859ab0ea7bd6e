// One LanceDB commit at a time across every process and host sharing a Redis, for LanceDB on
// object storage. LanceDB commits a new table version by writing its manifest only if no other
// writer wrote that version first: on a local directory an atomic rename decides, on S3 a PUT
// with If-None-Match. An S3-compatible store that ignores If-None-Match (s3rver, older gateways)
// lets two commits of one version both "succeed", the later silently dropping the earlier's rows.
// Under this lock a commit always starts from the latest version, whatever the store honours.
// It is short (one commit) and separate from the memory write lock (memory-lock.ts), which
// consolidate holds for a whole batch: reinforcement from the API, `engram people` and index
// maintenance commit under this one too.
import type { Redis } from 'ioredis';
import { EngramError } from '../../config/errors.js';
import type { CommitLock } from './memory-tables.js';
import { StreamLock } from './stream-lock.js';

const NAME = 'lancedb-commit';
/** A killed holder's lock lapses after this; a live one renews it (compaction can take long). */
const TTL_MS = 30_000;
const RENEW_MS = 10_000;

export class LanceCommitLock implements CommitLock {
  readonly #lock: StreamLock;
  readonly #waitMs: number;
  /** Commits taken, and milliseconds spent waiting for the lock (benchmarks). */
  readonly stats = { commits: 0, waitMs: 0 };

  constructor(redis: Redis, prefix: string, options: { waitMs?: number } = {}) {
    this.#lock = new StreamLock(redis, prefix);
    this.#waitMs = options.waitMs ?? 120_000;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const busy = () => new EngramError(`LanceDB commit lock stayed taken by another process for ${Math.round(this.#waitMs / 1000)} s; gave up waiting, so this write was not made`);
    return this.#lock.hold(NAME, { ttlMs: TTL_MS, renewMs: RENEW_MS, waitMs: this.#waitMs }, busy, () => {
      this.stats.waitMs += performance.now() - t0;
      this.stats.commits += 1;
      return fn();
    });
  }
}
