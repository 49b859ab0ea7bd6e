// The perceive role on real chunks from the real ingest role: one record per chunk in short-term
// memory, keyframe thumbnails on disk, OCR at its configured rate and only where the picture changed, speech spans where the voice
// is, chunks released, progress handed from perceive to segment, and one pending tick per stream.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { SIGNATURE_SPACE } from '../../pipelines/records/perception.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { useTestEnv } from '../helpers/env.js';
import { renderScene } from '../../pipelines/repositories/scripted-scene.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let memory: ShortTermMemory;
let chunks: ChunkStore;

beforeAll(async () => {
  const loaded = env.loaded({ ingest: { fileRoots: [env.dataDir] }, perceive: { ocrIntervalSeconds: 3 } });
  context = await EngramContext.open(loaded, silentLogger());
  // No segment role: the records and ticks perceive leaves behind stay where a test can see them.
  await startRoles(context, [Role.Ingest, Role.Perceive]);
  const redis = context.redis.connection('test');
  streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  memory = new ShortTermMemory(redis, loaded.config.redis.prefix, { spanSeconds: 600 });
  chunks = new ChunkStore(redis, loaded.config.redis.prefix, 60);
}, 120_000);
afterAll(async () => {
  await context?.close();
});

describe('perceive role', () => {
  it('turns every chunk into a perception record', async () => {
    const video = await renderScene(
      [
        { seconds: 4, color: 'navy', text: 'Loading dock' },
        { seconds: 5, color: 'darkred', speech: 'The delivery has arrived.', speechAt: 1.5 },
      ],
      join(env.dataDir, 'dock.mp4'),
    );
    await streams.add({ name: 'dock', source: video.path });
    const info = await streams.waitUntilProcessed('dock', { stages: [Role.Perceive] });
    expect(info.state, info.error ?? '').toBe('done');

    const records = await memory.all('dock');
    expect(records.map((r) => r.seq)).toEqual([...Array(info.chunks).keys()]);
    expect(records[records.length - 1]!.final).toBe(true);
    const keyframes = records.flatMap((r) => r.keyframes);
    expect(keyframes.length).toBe(info.keyframes);
    const blobs = new LocalBlobStore(context.paths.blobsDir);
    for (const k of keyframes) {
      expect(k.signature.length).toBeGreaterThan(0);
      expect(k.vectors[SIGNATURE_SPACE]).toBeUndefined(); // the signature travels once, in `signature`
      expect((await blobs.stat(k.thumbnail!))?.contentType).toBe('image/jpeg');
    }

    // OCR at most once per 3 s of stream time, and it read the sign while it was there.
    const read = keyframes.filter((k) => k.ocr !== null);
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThanOrEqual(Math.ceil(video.duration / 3));
    const sign = read.filter((k) => k.t < 4).flatMap((k) => k.ocr!.map((l) => l.text.toLowerCase())).join(' ');
    expect(sign).toMatch(/loading.*dock/);

    // Change gating: the still sign was read once; the next due keyframe on the same picture
    // carried that read (and still shows the sign), and the change signal stands out at the cut.
    const still = read.filter((k) => k.t < 4);
    expect(still.filter((k) => k.carried?.ocr === undefined).length).toBe(1);
    expect(still.filter((k) => k.carried?.ocr !== undefined).every((k) => k.ocr!.map((l) => l.text.toLowerCase()).join(' ').match(/loading.*dock/))).toBe(true);
    expect(keyframes[0]!.change).toBeNull();
    const change = (from: number, to: number) => Math.max(...keyframes.filter((k) => k.t > from && k.t < to).map((k) => k.change ?? 0));
    expect(change(0.5, 3.5)).toBeLessThan(0.004);
    expect(change(3.5, 4.5)).toBeGreaterThan(0.2);

    // Voice activity where the sentence is, silence elsewhere; levels for every half second.
    const speech = records.flatMap((r) => r.audio?.speech ?? []);
    const truth = video.scenes[1]!.speech!;
    expect(speech.length).toBeGreaterThan(0);
    expect(Math.min(...speech.map((s) => s.start))).toBeCloseTo(truth.start, 0);
    expect(Math.max(...speech.map((s) => s.end))).toBeCloseTo(truth.end, 0);
    expect(records.every((r) => r.audio !== null && r.audio.levels.length >= 1)).toBe(true);

    // The chunks are released; the work moved from perceive to segment; one tick is pending.
    expect(await chunks.get('dock', 0)).toBeUndefined();
    const after = await streams.get('dock');
    expect(after!.progress[Role.Perceive]).toBe(0);
    // Segment owes one unit per record, and one for closing the stream at its end.
    expect(after!.progress[Role.Segment]).toBe(records.length + 1);
    const ticks = await context.queues.queue(QueueName.Segment).getJobs(['waiting', 'delayed']);
    expect(ticks.filter((j) => j.data.stream === 'dock').length).toBe(1);
  }, 90_000);
});
