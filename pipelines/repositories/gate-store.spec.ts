import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestEnv } from '../../test/helpers/env.js';
import { BACKGROUND_FIELD, encodeGateValue } from '../records/gate-state.js';
import { GateStore } from './gate-store.js';
import { RedisRepository } from './redis.js';
import { ShortTermMemory } from './short-term-memory.js';

const env = useTestEnv();
let redis: RedisRepository;
let gates: GateStore;

beforeAll(async () => {
  const loaded = env.loaded();
  redis = await RedisRepository.open(loaded.config, loaded.paths);
  gates = new GateStore(redis.connection('gate-test'), 'gatetest', { ttlSeconds: 60 });
});
afterAll(async () => {
  await redis?.close();
});

const mark = (t: number, label: string) => ({ field: 'detect', t, value: encodeGateValue({ t, grey: Uint8Array.from([t, 1, 2, 3]), width: 2, height: 2, result: [{ label }] }) });

describe('gating state in Redis', () => {
  it('keeps each field at its newest stream time, whatever order the writes come in', async () => {
    await gates.saveGate('cam', [mark(5, 'car'), { field: BACKGROUND_FIELD, t: 5, value: encodeGateValue({ t: 5, mean: Float32Array.from([1.5, 2, 3, 4]), width: 2, height: 2 }) }]);
    await gates.saveGate('cam', [mark(3, 'bus')]); // a chunk perceived late
    let state = await gates.loadGate('cam');
    expect(state.marks.detect?.t).toBe(5);
    expect(state.marks.detect?.result).toEqual([{ label: 'car' }]);
    expect(Array.from(state.marks.detect!.grey)).toEqual([5, 1, 2, 3]);
    expect(Array.from(state.background!.mean)).toEqual([1.5, 2, 3, 4]);
    await gates.saveGate('cam', [mark(6, 'truck')]);
    state = await gates.loadGate('cam');
    expect(state.marks.detect?.result).toEqual([{ label: 'truck' }]);
    expect(await redis.connection('gate-test').ttl(gates.key('cam'))).toBeGreaterThan(50);
  });

  it('starts a stream without state, and forgets it with the stream', async () => {
    expect(await gates.loadGate('new')).toEqual({ marks: {} });
    await gates.saveGate('gone', [mark(1, 'car')]);
    await new ShortTermMemory(redis.connection('gate-test'), 'gatetest', { spanSeconds: 60 }).drop('gone');
    expect(await gates.loadGate('gone')).toEqual({ marks: {} });
  });
});
