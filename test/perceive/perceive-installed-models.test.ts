// With more models installed (the project's generated test models: an image/text space aligned on
// colours, an audio/text space, a Whisper-shaped recogniser), perception runs every one that
// applies, and segmentation uses the extra space: events carry its mean vector.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../pipelines/jobs.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { centredCosine } from '../../pipelines/vectors.js';
import { useTestEnv } from '../helpers/env.js';
import { renderScene } from '../../pipelines/repositories/scripted-scene.js';
import { testModelsConfig } from '../helpers/test-models.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let memory: ShortTermMemory;

beforeAll(async () => {
  const loaded = env.loaded({ ingest: { fileRoots: [env.dataDir] }, perceive: { ocr: false }, ...testModelsConfig() });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest, Role.Perceive]);
  const redis = context.redis.connection('test');
  streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  memory = new ShortTermMemory(redis, loaded.config.redis.prefix, { spanSeconds: 600 });
}, 120_000);
afterAll(async () => {
  await context?.close();
});

describe('perceive with installed models', () => {
  it('embeds keyframes and audio in every installed space and transcribes speech spans', async () => {
    const video = await renderScene(
      [
        { seconds: 3, color: 'red' },
        { seconds: 4, color: 'blue', speech: 'Hello world.', speechAt: 1 },
      ],
      join(env.dataDir, 'colours.mp4'),
    );
    await streams.add({ name: 'colours', source: video.path });
    const info = await streams.waitUntilProcessed('colours', { stages: [Role.Perceive] });
    expect(info.state, info.error ?? '').toBe('done');
    const records = await memory.all('colours');
    expect(records.length).toBe(info.chunks);
    for (const record of records) {
      for (const k of record.keyframes) expect(k.vectors['tiny-color']?.length).toBeGreaterThan(0);
      expect(record.audio!.windows[0]!.vectors['tiny-clap']?.length).toBeGreaterThan(0);
    }
    // The colour space tells the red frames from the blue ones.
    const frame = (t: number) => records.flatMap((r) => r.keyframes).find((k) => k.t >= t)!.vectors['tiny-color']!;
    expect(centredCosine(frame(1), frame(2))).toBeGreaterThan(centredCosine(frame(1), frame(5)));
    // The recogniser ran on the voiced spans only, and its words sit where they were spoken.
    const spoken = video.scenes[1]!.speech!;
    const transcript = records.flatMap((r) => r.audio!.transcript);
    expect(transcript.length).toBeGreaterThan(0);
    for (const span of transcript) {
      expect(span.start).toBeGreaterThanOrEqual(Math.floor(spoken.start) - 0.01);
      expect(span.end).toBeLessThanOrEqual(Math.ceil(spoken.end) + 0.01);
    }
  }, 90_000);
});
