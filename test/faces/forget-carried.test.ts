// Forgetting or merging a person while a stream's face gating still carries that person's face.
// Perceive runs blazeface/faceres on a keyframe and carries that run's faces (the same crop and
// descriptor) onto the next unchanged keyframes for up to refreshSeconds, through the gating
// state in Redis; those keyframes reach consolidation in a later event. Real models (blazeface,
// faceres) on a frame of a people clip, real GateStore in Redis, the real segmenter, real
// consolidation into LanceDB and the blob store, and the `engram people` / `engram events`
// commands as a user runs them (dist/: `npm run build` first).
import { execFile } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot, type LoadedConfig } from '../../config/load.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { consolidateBatch } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { perceiveChunk, type PerceiveDeps } from '../../pipelines/perceive/perceive-chunk.js';
import type { Chunk } from '../../pipelines/records/chunk.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import type { PerceptionRecord } from '../../pipelines/records/perception.js';
import { faceCropPath, thumbnailPath } from '../../pipelines/repositories/blob-store.js';
import { GateStore } from '../../pipelines/repositories/gate-store.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { RedisRepository } from '../../pipelines/repositories/redis.js';
import { Segmenter } from '../../pipelines/segment/segmenter.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';
import { seedPeople } from '../helpers/people-memory.js';

const run = promisify(execFile);
const env = useTestEnv();
const WALL = Date.UTC(2026, 10, 28, 9, 0, 0);

interface PersonLine { id: string; sightings: { eventId: string; stream: string }[] }
interface EventLine { id: string; stream: string; people: string[] }

let loaded: LoadedConfig;
let redis: RedisRepository;
let models: ModelRepository;
let blobs: LocalBlobStore;
let people: PeopleStore;
let memory: MemoryStore;
let deps: PerceiveDeps;
let picture: { rgb: Uint8Array; jpeg: Buffer };

const cli = async (args: string[]) => {
  const r = await runCli(args, { env: env.childEnv(), timeoutMs: 60_000 });
  expect(r.code, `engram ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const listPeople = async () => JSON.parse(await cli(['people', 'list', '--json'])) as PersonLine[];
const listEvents = async (stream: string) => (JSON.parse(await cli(['events', '--json', '--stream', stream])) as EventLine[]).filter((e) => e.stream === stream);

/** A chunk of three 1-second keyframes of the same still picture (a person at a door, not moving). */
function chunkAt(stream: string, seq: number): Chunk {
  const start = seq * 3;
  const keyframes = [0, 1, 2].map((i) => ({ t: start + i, width: 640, height: 480, rgb: picture.rgb, jpeg: picture.jpeg, scene: false }));
  return { stream, seq, start, end: start + 3, wallStart: WALL + start * 1000, keyframes, audio: null, droppedKeyframes: 0 };
}

async function perceive(stream: string, seq: number): Promise<PerceptionRecord> {
  return perceiveChunk(chunkAt(stream, seq), loaded.config.perceive, deps);
}

/** The segmenter closes the open event when the stream goes quiet (as the segment role does for an idle live stream). */
function closeAfter(segmenter: Segmenter, record: PerceptionRecord): ClosedEvent[] {
  return [...segmenter.push(record, { now: record.wallStart }), ...segmenter.closeIdle()];
}

/** Consolidates the events; each is stored or, continuing the same still scene, merged into the one before. */
async function consolidate(events: ClosedEvent[]): Promise<void> {
  expect(events.length).toBeGreaterThan(0);
  const summarizer = makeSummarizer(new LlmClient(loaded.config.llm), async () => undefined, { maxImages: 0 });
  const outcomes = await consolidateBatch(events, { store: memory, people, faceGroupDistance: loaded.config.faces.eventGroupDistance, summarizer, memory: loaded.config.memory });
  for (const o of outcomes) expect(['stored', 'merged']).toContain(o.status);
}

beforeAll(async () => {
  for (const model of ['blazeface', 'faceres']) {
    const dir = join(packageRoot(), 'data/models', model);
    if (!existsSync(join(dir, 'model.onnx'))) throw new Error(`${dir} is missing: run \`npm run setup\`, which converts it from @vladmandic/human`);
    cpSync(dir, join(env.dataDir, 'models', model), { recursive: true });
  }
  loaded = env.loaded();
  models = await ModelRepository.open({ config: loaded.config, paths: loaded.paths, log: { info() {}, warn() {} } });
  if (models.faceDescriptorSize() === undefined) throw new Error('blazeface/faceres did not load');
  redis = await RedisRepository.open(loaded.config, loaded.paths);
  blobs = new LocalBlobStore(loaded.paths.blobsDir);
  people = await PeopleStore.open(loaded.paths.lancedbUri, blobs, loaded.config.faces);
  memory = await MemoryStore.open(loaded.paths.lancedbUri, { readConsistencySeconds: 0 });
  const clip = join(SHARED_MEDIA, 'people', 'book.mkv');
  const frame = async (codec: string[]) => (await run('ffmpeg', ['-v', 'error', '-ss', '1', '-i', clip, '-frames:v', '1', ...codec, '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout;
  picture = { rgb: new Uint8Array(await frame(['-f', 'rawvideo', '-pix_fmt', 'rgb24'])), jpeg: await frame(['-c:v', 'mjpeg', '-f', 'image2pipe']) };
  expect(picture.rgb.length).toBe(640 * 480 * 3);
  deps = {
    models,
    gates: new GateStore(redis.connection('gates'), loaded.config.redis.prefix, { ttlSeconds: loaded.config.segment.shortTermSeconds }),
    faces: loaded.config.faces,
    saveThumbnail: (stream, wallMs, jpeg) => blobs.write(thumbnailPath(stream, wallMs), jpeg),
    saveFaceCrop: (stream, wallMs, index, bmp) => blobs.write(faceCropPath(stream, wallMs, index), bmp),
  };
}, 120_000);

afterAll(async () => {
  await people?.close();
  await memory?.close();
  await models?.close();
  await redis?.close();
});

describe('a person forgotten or merged while gating carries their face', () => {
  it('forget: the face carried onto later keyframes does not bring the person back', async () => {
    const segmenter = new Segmenter(loaded.config.segment, 'door');
    const first = await perceive('door', 0);
    // blazeface ran on the first keyframe and the next two carry its faces (same picture).
    const ran = first.keyframes[0]!.faces ?? [];
    expect(ran.length).toBeGreaterThan(0);
    expect(first.keyframes[2]!.carried?.faces).toBe(0);
    await consolidate(closeAfter(segmenter, first));
    const [before] = await listPeople();
    expect(before, 'the person at the door is recognised').toBeDefined();
    expect((await listEvents('door')).flatMap((e) => e.people)).toEqual([before!.id]);

    expect(await cli(['people', 'forget', before!.id])).toContain(`forgot ${before!.id}`);
    expect(await blobs.stat(ran[0]!.crop), 'forget deleted the crop').toBeUndefined();

    // Within refreshSeconds of the run and the picture unchanged: the next keyframes still carry
    // the face whose crop was just deleted (the gating state in Redis is per stream, not per person).
    const later = await perceive('door', 1);
    expect(later.keyframes.map((k) => k.carried?.faces)).toEqual([0, 0, 0]);
    expect(later.keyframes[0]!.faces?.map((f) => f.crop)).toEqual(ran.map((f) => f.crop));
    const closed = closeAfter(segmenter, later);
    expect(closed.flatMap((e) => e.faces ?? []).length).toBeGreaterThan(0);
    await consolidate(closed);

    // What the user sees: nobody in `engram people`, and no event names anyone.
    expect(await listPeople()).toEqual([]);
    expect((await listEvents('door')).flatMap((e) => e.people)).toEqual([]);
    expect(await people.counts()).toEqual({ faces: 0, people: 0 });

    // Once refreshSeconds (10) passed blazeface runs again: the person seen anew is new memory,
    // so faces are not simply dropped after a forget.
    const refreshed = await perceive('door', 4); // t 12..14, 12 s after the run at 0
    expect(refreshed.keyframes[0]!.carried?.faces).toBeUndefined();
    expect(refreshed.keyframes[0]!.faces?.length ?? 0).toBeGreaterThan(0);
    await consolidate(closeAfter(segmenter, refreshed));
    const again = await listPeople();
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(before!.id);
  }, 180_000);

  it('merge: the face carried onto later keyframes stays with the identity kept', async () => {
    // Someone else, already known with many faces, whose centroid the merge barely moves.
    const [kept] = await seedPeople(loaded, [{ clip: 'eat', stream: 'hall', times: [1, 2, 3, 4, 5, 6, 7, 8] }]);
    const segmenter = new Segmenter(loaded.config.segment, 'lobby');
    const first = await perceive('lobby', 0);
    expect(first.keyframes[0]!.faces?.length ?? 0).toBeGreaterThan(0);
    await consolidate(closeAfter(segmenter, first));
    const [absorbed] = (await listEvents('lobby')).flatMap((e) => e.people);
    expect(absorbed).toBeDefined();
    expect(absorbed).not.toBe(kept);

    await cli(['people', 'merge', kept!, absorbed!]);
    const later = await perceive('lobby', 1);
    expect(later.keyframes[0]!.carried?.faces).toBe(0);
    await consolidate(closeAfter(segmenter, later));

    // Every lobby event names the kept identity; the absorbed one does not come back, and no third appears.
    const events = await listEvents('lobby');
    for (const e of events) expect(e.people, e.id).toEqual([kept]);
    const listed = await listPeople();
    expect(listed.map((p) => p.id)).not.toContain(absorbed);
    expect(listed.filter((p) => p.sightings.some((s) => s.stream === 'lobby')).map((p) => p.id)).toEqual([kept]);
  }, 180_000);
});
