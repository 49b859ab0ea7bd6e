// A per-stream mutual exclusion lock in Redis (SET NX PX with a random token, released only by
// its holder): segment ticks for one stream must never run at once, whichever worker takes them.
// hold() is the shape the long-lived locks share (memory-lock.ts, lance-commit-lock.ts): wait,
// run while renewing, release.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class StreamLock {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  key(name: string): string {
    return `${this.#prefix}:lock:${name}`;
  }

  /** Takes the lock, polling until `waitMs` has passed; returns its token, or undefined when busy. */
  async acquire(name: string, options: { ttlMs: number; waitMs: number; signal?: AbortSignal }): Promise<string | undefined> {
    const token = randomUUID();
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      const ok = await this.#redis.set(this.key(name), token, 'PX', options.ttlMs, 'NX');
      if (ok === 'OK') return token;
      if (Date.now() >= deadline || options.signal?.aborted) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Extends a held lock; false when it was lost (expired and taken by someone else). */
  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(EXTEND, 1, this.key(name), token, String(ttlMs))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.key(name), token);
  }

  /**
   * Runs `fn` holding the lock: waits up to `waitMs` for it (throwing `busy()` when it stays
   * taken), renews it every `renewMs` while `fn` runs, so only a holder that died lets it lapse
   * after `ttlMs`, and releases it when `fn` settles.
   */
  async hold<T>(name: string, options: { ttlMs: number; renewMs: number; waitMs: number; signal?: AbortSignal }, busy: () => Error, fn: () => Promise<T>): Promise<T> {
    const { renewMs, ...acquire } = options;
    const token = await this.acquire(name, acquire);
    if (token === undefined) throw busy();
    const renew = setInterval(() => void this.extend(name, token, options.ttlMs).catch(() => undefined), renewMs);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.release(name, token).catch(() => undefined);
    }
  }
}
