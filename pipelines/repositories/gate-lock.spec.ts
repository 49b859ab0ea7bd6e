// GateLock against a real Redis, two instances standing in for two perceive processes: a stream's
// gated parts take turns across them, other streams do not wait, and a lock whose holder died is
// waited for only waitMs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamLanes } from '../perceive/stream-lanes.js';
import { useTestEnv } from '../../test/helpers/env.js';
import { GateLock } from './gate-lock.js';
import { RedisRepository } from './redis.js';
import { StreamLock } from './stream-lock.js';

const env = useTestEnv();
let redis: RedisRepository;

beforeAll(async () => {
  const loaded = env.loaded();
  redis = await RedisRepository.open(loaded.config, loaded.paths);
});
afterAll(async () => {
  await redis?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Work that records when it ran, so overlaps can be counted. */
function recorder() {
  const spans: { stream: string; from: number; to: number }[] = [];
  const work = (stream: string, ms: number) => async () => {
    const from = performance.now();
    await sleep(ms);
    spans.push({ stream, from, to: performance.now() });
  };
  const overlaps = (stream: string) => {
    const mine = spans.filter((s) => s.stream === stream).sort((a, b) => a.from - b.from);
    return mine.slice(1).filter((s, i) => s.from < mine[i]!.to).length;
  };
  return { spans, work, overlaps };
}

describe('GateLock', () => {
  it("makes two processes' lanes take turns on one stream while other streams run side by side", async () => {
    const options = { ttlMs: 2_000, waitMs: 5_000 };
    const a = new GateLock(redis.connection('gate-a'), 'gatetest', options);
    const b = new GateLock(redis.connection('gate-b'), 'gatetest', options);
    const laneA = new StreamLanes((s, w) => a.around(s, w));
    const laneB = new StreamLanes((s, w) => b.around(s, w));
    const { work, overlaps, spans } = recorder();
    const started = performance.now();
    await Promise.all([
      ...[0, 1, 2].map(() => laneA.run('cam1', work('cam1', 80))),
      ...[0, 1, 2].map(() => laneB.run('cam1', work('cam1', 80))),
      laneA.run('cam2', work('cam2', 80)),
      laneB.run('cam3', work('cam3', 80)),
    ]);
    expect(spans.length).toBe(8);
    expect(overlaps('cam1')).toBe(0);
    // Six turns of 80 ms one after another on cam1; cam2 and cam3 did not wait for them.
    expect(Math.max(...spans.filter((s) => s.stream === 'cam1').map((s) => s.to)) - started).toBeGreaterThanOrEqual(6 * 80);
    for (const cam of ['cam2', 'cam3']) expect(spans.find((s) => s.stream === cam)!.to - started).toBeLessThan(6 * 80);
  });

  it('without it, the same lanes in two processes overlap on one stream', async () => {
    const { work, overlaps } = recorder();
    const laneA = new StreamLanes();
    const laneB = new StreamLanes();
    await Promise.all([0, 1, 2].flatMap(() => [laneA.run('cam1', work('cam1', 80)), laneB.run('cam1', work('cam1', 80))]));
    expect(overlaps('cam1')).toBeGreaterThan(0);
  });

  it('runs the work without the lock once waitMs passed behind a holder that died', async () => {
    const conn = redis.connection('gate-dead');
    // A holder that died: it took the lock and never released or renewed it.
    await new StreamLock(conn, 'gatedead').acquire('gate:cam1', { ttlMs: 60_000, waitMs: 0 });
    const gate = new GateLock(conn, 'gatedead', { ttlMs: 60_000, waitMs: 300 });
    const started = performance.now();
    expect(await gate.around('cam1', async () => 'ran')).toBe('ran');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});
