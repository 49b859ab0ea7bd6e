// Chunk bytes through a real redis-server: what perceive reads back is exactly what ingest
// stored, byte for byte, whatever else shares the connection. The store writes a chunk's parts
// to the socket as one SET (chunk-store.ts), so the protocol framing is checked here too: the
// commands before, after and in between get their own answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { encodeChunk, type Chunk } from '../../pipelines/records/chunk.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { RedisRepository } from '../../pipelines/repositories/redis.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();
let repo: RedisRepository;
let redis: Redis;
let store: ChunkStore;

beforeAll(async () => {
  const loaded = env.loaded();
  repo = await RedisRepository.open(loaded.config, loaded.paths);
  redis = repo.connection('chunk-store-test');
  store = new ChunkStore(redis, 'cs', 60);
});
afterAll(async () => {
  await repo?.close();
});

/** Deterministic bytes that differ per frame and position (a misplaced byte shows). */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}

function chunk(seq: number, options: { keyframes?: number; audio?: boolean; emptyJpeg?: boolean } = {}): Chunk {
  const keyframes = Array.from({ length: options.keyframes ?? 2 }, (_, k) => ({
    t: seq + k * 0.5,
    width: 640,
    height: 360,
    // A real keyframe's size: far past one socket write and Redis's 32 KB "big argument" size.
    rgb: pattern(640 * 360 * 3, seq * 10 + k),
    jpeg: options.emptyJpeg ? Buffer.alloc(0) : Buffer.from(pattern(9_000 + k, seq * 10 + k + 5)),
    scene: k === 1,
  }));
  const audio = options.audio === false ? null : Float32Array.from({ length: 16_000 }, (_, i) => Math.sin(i / 10 + seq));
  return { stream: 'cam', seq, start: seq, end: seq + 1, wallStart: 1_700_000_000_000 + seq * 1000, keyframes, audio, droppedKeyframes: 0, ...(seq === 0 ? { gapBefore: { from: 0, to: 0.5, wallFrom: 1, wallTo: 2 } } : {}), ...(seq === 3 ? { final: true } : {}) };
}

describe('chunk store on a real Redis', () => {
  it('reads back each chunk exactly as stored, with commands on the same connection before, between and after', async () => {
    const stored = [chunk(0), chunk(1, { keyframes: 0 }), chunk(2, { audio: false }), chunk(3, { keyframes: 3, emptyJpeg: true })];
    // All sent before any answer is awaited, mixed with other commands on the one connection.
    const results = await Promise.all([redis.set('cs:before', 'a'), ...stored.flatMap((c, i) => [store.put(c), redis.incr('cs:between').then(String), redis.get('cs:before').then((v) => `${i}:${v}`)]), redis.set('cs:after', 'z')]);
    expect(results[0]).toBe('OK');
    expect(results.filter((r, i) => i > 0 && i % 3 === 2)).toEqual(['1', '2', '3', '4']);
    expect(results.filter((r, i) => i > 0 && i % 3 === 0 && i < results.length - 1)).toEqual(['0:a', '1:a', '2:a', '3:a']);
    expect(results[results.length - 1]).toBe('OK');
    for (const c of stored) {
      const read = (await store.get('cam', c.seq))!;
      expect(read, `chunk ${c.seq}`).toBeDefined();
      // Field by field for what is small; the frames and audio byte for byte (toEqual walks
      // megabytes element by element).
      expect({ ...read, keyframes: read.keyframes.map((k) => ({ t: k.t, scene: k.scene })), audio: read.audio?.length }).toEqual({ ...c, keyframes: c.keyframes.map((k) => ({ t: k.t, scene: k.scene })), audio: c.audio?.length });
      read.keyframes.forEach((k, i) => {
        expect(Buffer.compare(k.rgb, c.keyframes[i]!.rgb), `chunk ${c.seq} frame ${i}`).toBe(0);
        expect(Buffer.compare(k.jpeg, c.keyframes[i]!.jpeg), `chunk ${c.seq} jpeg ${i}`).toBe(0);
      });
      if (c.audio) expect(Buffer.compare(new Uint8Array(read.audio!.buffer), new Uint8Array(c.audio.buffer))).toBe(0);
      // The stored value is the chunk format itself, byte for byte.
      expect(Buffer.compare((await redis.getBuffer(store.key('cam', c.seq)))!, encodeChunk(c))).toBe(0);
      const ttl = await redis.ttl(store.key('cam', c.seq));
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
    }
  });

  it('stores a chunk sent before the connection is up (ioredis queues it until it is)', async () => {
    const late = repo.connection('chunk-store-late', { lazyConnect: true });
    try {
      const lateStore = new ChunkStore(late, 'cs', 60);
      expect(late.status).toBe('wait');
      const c = chunk(7);
      await lateStore.put(c);
      expect(Buffer.compare((await redis.getBuffer(store.key('cam', 7)))!, encodeChunk(c))).toBe(0);
    } finally {
      late.disconnect();
    }
  });

  it('a chunk that expired or never existed reads as undefined', async () => {
    expect(await store.get('cam', 99)).toBeUndefined();
  });
});
