import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentSchema } from '../../config/schema.js';
import { useTestEnv } from '../../test/helpers/env.js';
import type { PerceptionRecord } from '../records/perception.js';
import type { ClosedEvent } from '../records/event.js';
import { advanceStream, type AdvanceDeps } from '../segment/advance.js';
import { initialState } from '../records/segmenter-state.js';
import { RedisRepository } from './redis.js';
import { ShortTermMemory } from './short-term-memory.js';
import { StreamLock } from './stream-lock.js';

const env = useTestEnv();
let redis: RedisRepository;
let memory: ShortTermMemory;
let lock: StreamLock;

beforeAll(async () => {
  const loaded = env.loaded();
  redis = await RedisRepository.open(loaded.config, loaded.paths);
  const client = redis.connection('stm-test');
  memory = new ShortTermMemory(client, 'stmtest', { spanSeconds: 600 });
  lock = new StreamLock(client, 'stmtest');
});
afterAll(async () => {
  await redis?.close();
});

function record(stream: string, seq: number, look: number, final = false): PerceptionRecord {
  const v = Float32Array.from({ length: 16 }, (_x, i) => Math.sin(i * (look + 1)) + 0.01 * Math.cos(seq * 7 + i));
  return {
    stream,
    seq,
    start: seq,
    end: seq + 1,
    wallStart: 1_700_000_000_000 + seq * 1000,
    keyframes: [{ t: seq, vectors: { test: v }, signature: new Float32Array(0), thumbnail: null, ocr: null }],
    audio: null,
    gapBefore: 0,
    final,
  };
}

describe('ShortTermMemory', () => {
  it('gives records back in sequence order whatever order they arrived in, without duplicates', async () => {
    for (const seq of [2, 0, 1, 1, 4, 3]) await memory.append(record('order', seq, 0));
    const cursor = initialState('order');
    const next = await memory.next('order', cursor, { max: 10, missingWaitMs: 1000 });
    expect(next.kind).toBe('records');
    if (next.kind !== 'records') return;
    expect(next.records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(next.records[2]!.record.keyframes[0]!.vectors.test).toBeInstanceOf(Float32Array);
    cursor.nextSeq = 5;
    expect((await memory.next('order', cursor, { max: 10, missingWaitMs: 1000 })).kind).toBe('empty');
    await memory.append(record('order', 5, 0));
    const more = await memory.next('order', cursor, { max: 10, missingWaitMs: 1000 });
    expect(more.kind === 'records' && more.records.map((r) => r.seq)).toEqual([5]);
  });

  it('appends a retried record only once', async () => {
    expect(await memory.append(record('retry', 0, 0))).toBe(true);
    expect(await memory.append(record('retry', 0, 0))).toBe(false);
    // The same sequence number in a later run of the stream (another wall-clock start) is new.
    expect(await memory.append({ ...record('retry', 0, 0), wallStart: 1_800_000_000_000 })).toBe(true);
    expect(await memory.length('retry')).toBe(2);
  });

  it('waits a bounded time for a missing sequence, then reports the gap', async () => {
    for (const seq of [0, 2, 3]) await memory.append(record('holes', seq, 0));
    const cursor = initialState('holes');
    const first = await memory.next('holes', cursor, { max: 10, missingWaitMs: 1000, now: 10_000 });
    expect(first.kind === 'records' && first.records.map((r) => r.seq)).toEqual([0]);
    cursor.nextSeq = 1;
    const waiting = await memory.next('holes', cursor, { max: 10, missingWaitMs: 1000, now: 10_000 });
    expect(waiting).toMatchObject({ kind: 'waiting', seq: 1, retryInMs: 1000, owed: false });
    const still = await memory.next('holes', cursor, { max: 10, missingWaitMs: 1000, now: 10_600 });
    expect(still).toMatchObject({ kind: 'waiting', seq: 1, retryInMs: 400 });
    const after = await memory.next('holes', cursor, { max: 10, missingWaitMs: 1000, now: 11_000 });
    expect(after.kind === 'records' && [after.missingBefore, after.missing, after.records.map((r) => r.seq)]).toEqual([true, { fromSeq: 1, toSeq: 2 }, [2, 3]]);
  });

  it('waits for a missing sequence as long as its work is owed, however late, and consumes it when it comes', async () => {
    for (const seq of [0, 2, 3]) await memory.append(record('late', seq, 0));
    const cursor = initialState('late');
    cursor.nextSeq = 1;
    let owed = true;
    const ask = { max: 10, missingWaitMs: 1000, owed: async (seq: number) => seq === 1 && owed };
    // A minute later it is still waited for: its job was only delayed (a killed or paused worker).
    for (const now of [10_000, 40_000, 70_000]) expect(await memory.next('late', cursor, { ...ask, now })).toMatchObject({ kind: 'waiting', seq: 1, owed: true });
    await memory.append(record('late', 1, 0));
    owed = false;
    const got = await memory.next('late', cursor, { ...ask, now: 70_100 });
    expect(got.kind === 'records' && [got.missingBefore, got.records.map((r) => r.seq)]).toEqual([false, [1, 2, 3]]);
  });

  it('gives up on an owed sequence only after its work is settled and the grace has passed, and reports records that come after their turn', async () => {
    for (const seq of [0, 2]) await memory.append(record('lost', seq, 0));
    const cursor = initialState('lost');
    cursor.nextSeq = 1;
    let owed = true;
    const ask = { max: 10, missingWaitMs: 1000, owed: async () => owed };
    expect(await memory.next('lost', cursor, { ...ask, now: 50_000 })).toMatchObject({ kind: 'waiting', owed: true });
    owed = false;
    expect(await memory.next('lost', cursor, { ...ask, now: 50_500 })).toMatchObject({ kind: 'waiting', owed: false, retryInMs: 500 });
    const skipped = await memory.next('lost', cursor, { ...ask, now: 51_600 });
    expect(skipped.kind === 'records' && [skipped.missing, skipped.records.map((r) => r.seq)]).toEqual([{ fromSeq: 1, toSeq: 2 }, [2]]);
    cursor.nextSeq = 3;
    // The record that was given up on arrives after all: reported as late, so its count is settled.
    await memory.append(record('lost', 1, 0));
    const after = await memory.next('lost', cursor, { ...ask, now: 52_000 });
    expect(after).toMatchObject({ kind: 'empty', late: [1] });
  });

  it('trims records older than its time span', async () => {
    const short = new ShortTermMemory(redis.connection('stm-short'), 'stmtest', { spanSeconds: 0.2 });
    for (let seq = 0; seq < 50; seq += 1) await short.append(record('trim', seq, 0));
    await new Promise((r) => setTimeout(r, 400));
    for (let seq = 50; seq < 150; seq += 1) await short.append(record('trim', seq, 0));
    // MINID ~ trims whole macro nodes, so a few old entries may remain; most must be gone.
    expect(await short.length('trim')).toBeLessThan(150);
    const seqs = (await short.all('trim')).map((r) => r.seq);
    expect(seqs[seqs.length - 1]).toBe(149);
  });
});

describe('advanceStream', () => {
  const options = SegmentSchema.parse({});

  function deps(published: ClosedEvent[], wakes: number[]): AdvanceDeps {
    return {
      memory,
      lock,
      publish: async (event) => {
        published.push(event);
      },
      wakeLater: async (_stream, delayMs) => {
        wakes.push(delayMs);
      },
    };
  }

  it('segments records across ticks and workers, and ends with the stream', async () => {
    const published: ClosedEvent[] = [];
    const wakes: number[] = [];
    const looks = [...Array(12).fill(0), ...Array(10).fill(1), ...Array(8).fill(2)] as number[];
    // Two "workers" (separate calls sharing only Redis) take turns as records arrive.
    for (let seq = 0; seq < looks.length; seq += 1) {
      await memory.append(record('cam', seq, looks[seq]!, seq === looks.length - 1));
      if (seq % 5 === 4) await advanceStream('cam', options, deps(published, wakes));
    }
    await advanceStream('cam', options, deps(published, wakes));
    expect(published.map((e) => [e.start, e.end])).toEqual([
      [0, 12],
      [12, 22],
      [22, 30],
    ]);
    expect(published[2]!.closedBy).toBe('end-of-stream');
    const state = await memory.loadState('cam');
    expect(state?.nextSeq).toBe(30);
    expect(state?.eventsClosed).toBe(3);
  });

  it('asks to be woken when a live stream would be idle, and then closes its event', async () => {
    const published: ClosedEvent[] = [];
    const wakes: number[] = [];
    for (let seq = 0; seq < 6; seq += 1) await memory.append(record('quiet', seq, 0));
    let clock = 1_000_000;
    await advanceStream('quiet', options, deps(published, wakes), { now: () => clock });
    expect(published).toEqual([]);
    expect(wakes[wakes.length - 1]).toBeGreaterThanOrEqual(options.idleCloseSeconds * 1000);
    clock += options.idleCloseSeconds * 1000;
    await advanceStream('quiet', options, deps(published, wakes), { now: () => clock });
    expect(published.map((e) => [e.start, e.end, e.closedBy])).toEqual([[0, 6, 'idle']]);
  });

  it('never runs two ticks of one stream at once', async () => {
    const held = await lock.acquire('segment:busy', { ttlMs: 5000, waitMs: 0 });
    expect(held).toBeDefined();
    const wakes: number[] = [];
    const result = await advanceStream('busy', { ...options }, deps([], wakes));
    expect(result.status).toBe('skipped');
    expect(wakes.length).toBe(1);
    await lock.release('segment:busy', held!);
    expect(await lock.acquire('segment:busy', { ttlMs: 5000, waitMs: 0 })).toBeDefined();
  });
});
