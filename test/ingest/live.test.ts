// Live sources: a camera that goes away and comes back (reconnect, gap recorded), and a
// perception stage too slow for a live stream (keyframes dropped and counted, audio kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { AUDIO_RATE } from '../../pipelines/records/chunk.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { silentLogger } from '../../services/logger.js';
import { useTestEnv } from '../helpers/env.js';
import { LiveTsServer, generateVideo } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let chunks: ChunkStore;
const servers: LiveTsServer[] = [];

async function until(name: string, what: string, ok: (info: StreamInfo) => boolean, timeoutMs = 20_000): Promise<StreamInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await streams.get(name))!;
    if (ok(info)) return info;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ ...info, gaps: info.gaps.length })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const loaded = env.loaded({ ingest: { reconnectMinMs: 200, reconnectMaxMs: 1_000, probeTimeoutMs: 3_000, stallTimeoutMs: 3_000, maxChunksInFlight: 3 } });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest]);
  const redis = context.redis.connection('test');
  streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  chunks = new ChunkStore(redis, loaded.config.redis.prefix, 60);
});
afterAll(async () => {
  for (const server of servers) await server.stop();
  await context?.close();
});

describe('live sources', () => {
  it('reconnects after the camera goes away and records the gap', async () => {
    const clip = await generateVideo(env.dataDir, 'cam', { duration: 30, size: '320x240', fps: 25, audio: 'sine' });
    const camera = new LiveTsServer(clip);
    servers.push(camera);
    await camera.start();
    // Nobody consumes here, so the test plays perception: it takes chunks as they come.
    const seen = new Map<number, { start: number; end: number; gap: boolean }>();
    const consume = setInterval(() => {
      void (async () => {
        const info = await streams.get('cam');
        for (let seq = 0; seq < (info?.chunks ?? 0); seq += 1) {
          if (seen.has(seq)) continue;
          const chunk = await chunks.get('cam', seq);
          if (!chunk) continue;
          seen.set(seq, { start: chunk.start, end: chunk.end, gap: chunk.gapBefore !== undefined });
          await chunks.delete('cam', seq);
          await streams.stageProgress('cam', Role.Perceive, -1);
        }
      })();
    }, 100);
    try {
      await streams.add({ name: 'cam', source: camera.url });
      const before = await until('cam', '3 chunks', (i) => i.chunks >= 3 && i.state === 'running');
      expect(before.live).toBe(true);
      await camera.stop();
      const down = Date.now();
      await until('cam', 'reconnecting', (i) => i.state === 'reconnecting');
      await new Promise((r) => setTimeout(r, 2_000));
      await camera.start();
      const after = await until('cam', 'gap and 3 more chunks', (i) => i.gaps.length >= 1 && i.chunks >= before.chunks + 4);
      const gap = after.gaps[0]!;
      expect(gap.reason).toBe('reconnect');
      expect(gap.to - gap.from).toBeGreaterThan(1.5); // the camera was away for 2 s or more
      expect(gap.wallTo - gap.wallFrom).toBeGreaterThan(1_500);
      expect(gap.wallFrom).toBeLessThanOrEqual(down + 1_000);
      expect(after.state).toBe('running');
      // The test's consumer polls every 100 ms: let it take every chunk counted so far.
      for (const deadline = Date.now() + 5_000; seen.size < after.chunks && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
      // Chunk times keep increasing across the gap, and the first chunk after it carries it.
      const ordered = [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
      for (let i = 1; i < ordered.length; i += 1) expect(ordered[i]!.start).toBeGreaterThanOrEqual(ordered[i - 1]!.end - 1e-6);
      const first = ordered.findIndex((c) => c.gap);
      expect(first).toBeGreaterThan(0);
      expect(ordered[first]!.start).toBeCloseTo(gap.to, 3);
      expect(ordered[first - 1]!.end).toBeCloseTo(gap.from, 3);
      const stopped = await streams.stop('cam');
      expect(['running', 'stopped']).toContain(stopped.state);
      await until('cam', 'stopped', (i) => i.state === 'stopped');
    } finally {
      clearInterval(consume);
    }
  });

  it('drops keyframes, never audio, when perception falls behind', async () => {
    const clip = await generateVideo(env.dataDir, 'busy', { duration: 30, size: '320x240', fps: 25, audio: 'sine' });
    const camera = new LiveTsServer(clip);
    servers.push(camera);
    await camera.start();
    // A deliberately slow perceive stage: 1.5 s per 1 s chunk.
    const received: { seq: number; keyframes: number; dropped: number; audio: number }[] = [];
    context.queues.startWorker(
      QueueName.Perceive,
      async (job: Job) => {
        const { stream, seq } = job.data as { stream: string; seq: number };
        const chunk = await chunks.get(stream, seq);
        if (chunk) received.push({ seq, keyframes: chunk.keyframes.length, dropped: chunk.droppedKeyframes, audio: chunk.audio?.length ?? 0 });
        await new Promise((r) => setTimeout(r, 1_500));
        await chunks.delete(stream, seq);
        await streams.stageProgress(stream, Role.Perceive, -1);
      },
      { concurrency: 1 },
    );
    await streams.add({ name: 'busy', source: camera.url });
    const info = await until('busy', 'drops', (i) => i.droppedFrames >= 3 && i.chunks >= 8, 25_000);
    await streams.stop('busy');
    await until('busy', 'stopped', (i) => i.state === 'stopped');
    expect(info.live).toBe(true);
    // Keyframes stored plus dropped account for one per chunk; only what was over the bound dropped.
    expect(info.keyframes + info.droppedFrames).toBeGreaterThanOrEqual(info.chunks - 1);
    expect(info.keyframes).toBeGreaterThanOrEqual(3);
    // What perception got or would get: consumed chunks, and the ones still waiting in Redis.
    const all = new Map(received.map((r) => [r.seq, r]));
    for (let seq = 0; seq < info.chunks; seq += 1) {
      if (all.has(seq)) continue;
      const chunk = await chunks.get('busy', seq);
      if (chunk) all.set(seq, { seq, keyframes: chunk.keyframes.length, dropped: chunk.droppedKeyframes, audio: chunk.audio?.length ?? 0 });
    }
    expect(all.size).toBeGreaterThanOrEqual(info.chunks - 1);
    const dropped = [...all.values()].filter((r) => r.dropped > 0);
    expect(dropped.length).toBeGreaterThan(0);
    for (const r of dropped) expect(r.keyframes).toBe(0);
    // The first chunks, before the bound was reached, kept their keyframes.
    expect(all.get(0)!.keyframes).toBeGreaterThan(0);
    // every chunk keeps its second of audio
    for (const r of all.values()) expect(r.audio).toBe(AUDIO_RATE);
  });
});
