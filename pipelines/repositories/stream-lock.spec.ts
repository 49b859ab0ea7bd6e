// StreamLock.hold, the wait-renew-release shape the memory write lock and the LanceDB commit lock
// share, against a real Redis: a holder that outlives the TTL keeps the lock, a second process
// waits its turn or gets the busy error, and the lock is free again after a throw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestEnv } from '../../test/helpers/env.js';
import { RedisRepository } from './redis.js';
import { StreamLock } from './stream-lock.js';

const env = useTestEnv();
let redis: RedisRepository;
let a: StreamLock;
let b: StreamLock;

beforeAll(async () => {
  const loaded = env.loaded();
  redis = await RedisRepository.open(loaded.config, loaded.paths);
  // Two clients, as two processes hold them.
  a = new StreamLock(redis.connection('lock-a'), 'locktest');
  b = new StreamLock(redis.connection('lock-b'), 'locktest');
});
afterAll(async () => {
  await redis?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const busy = () => new Error('busy');

describe('StreamLock.hold', () => {
  it('keeps the lock past its TTL while the work runs, so another holder waits its turn', async () => {
    const order: string[] = [];
    const first = a.hold('x', { ttlMs: 300, renewMs: 100, waitMs: 5_000 }, busy, async () => {
      order.push('a start');
      await sleep(900);
      order.push('a end');
    });
    await sleep(50);
    const second = b.hold('x', { ttlMs: 300, renewMs: 100, waitMs: 5_000 }, busy, async () => {
      order.push('b');
      return 42;
    });
    await first;
    expect(await second).toBe(42);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('throws the busy error when the lock stays taken, and frees it when the work throws', async () => {
    const held = a.hold('y', { ttlMs: 2_000, renewMs: 500, waitMs: 100 }, busy, async () => {
      await expect(b.hold('y', { ttlMs: 2_000, renewMs: 500, waitMs: 200 }, busy, async () => 'never')).rejects.toThrow('busy');
      throw new Error('work failed');
    });
    await expect(held).rejects.toThrow('work failed');
    expect(await b.hold('y', { ttlMs: 2_000, renewMs: 500, waitMs: 100 }, busy, async () => 'free')).toBe('free');
  });
});
