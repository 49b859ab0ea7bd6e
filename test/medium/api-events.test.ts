// Events, thumbnails and clips through the API, over LanceDB seeded by the real consolidate stage
// with real frames of the car footage, and clips cut by real ffmpeg over a listening socket.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelsConfig } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import type { StoredEvent } from '../../pipelines/records/event.js';
import { openApi } from '../helpers/api.js';
import { useTestEnv } from '../helpers/env.js';
import { testModelsConfig } from '../helpers/test-models.js';
import { EPOCH } from '../helpers/events.js';
import { CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { ROAD_STREAM, seedRoadMemory } from '../helpers/road-memory.js';

const env = useTestEnv();
let app: FastifyInstance;
let base: string;
let seeded: StoredEvent[];
let stop: () => Promise<void>;
let modelsDir: string;
let modelsConfig: ModelsConfig;
let lancedbUri: string;

beforeAll(async () => {
  const loaded = env.loaded({ redis: { prefix: 'events' }, api: { port: 0 }, ingest: { fileRoots: [SHARED_MEDIA] }, ...testModelsConfig() });
  // A long event on a second stream of the same file, for a clip that takes a while to cut.
  seeded = await seedRoadMemory(loaded, [{ stream: 'road-long', start: 0, length: 28, transcript: 'the whole street for half a minute' }]);
  modelsDir = loaded.paths.modelsDir;
  lancedbUri = loaded.paths.lancedbUri;
  modelsConfig = loaded.config.models;
  ({ app, stop } = await openApi(loaded));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => stop?.());

const road = () => seeded.filter((e) => e.stream === ROAD_STREAM);

function ffmpegChildren(): number {
  const out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
  return out.split('\n').filter((c) => c.trim() === 'ffmpeg').length;
}

describe('events', () => {

  it('lists events newest first, paged', async () => {
    expect(seeded.filter((e) => e.stream === ROAD_STREAM).map((e) => e.start)).toEqual([5, 14, 25]);
    const all = (await app.inject('/api/events?stream=road')).json() as { events: StoredEvent[]; next: number | null };
    expect(all.events.map((e) => e.start)).toEqual([25, 14, 5]);
    expect(all.next).toBeNull();
    const page1 = (await app.inject('/api/events?stream=road&limit=2')).json() as { events: StoredEvent[]; next: number | null };
    expect(page1.events.map((e) => e.start)).toEqual([25, 14]);
    expect(page1.next).toBe(2);
    const page2 = (await app.inject('/api/events?stream=road&limit=2&offset=2')).json() as { events: StoredEvent[]; next: number | null };
    expect(page2.events.map((e) => e.start)).toEqual([5]);
    expect(page2.next).toBeNull();
  });

  it('filters by stream and wall-clock time (ISO or epoch ms)', async () => {
    const since = new Date(EPOCH + 10_000).toISOString();
    const late = (await app.inject(`/api/events?since=${since}`)).json() as { events: StoredEvent[] };
    // road-long (0..28 s) overlaps everything.
    expect(late.events.map((e) => `${e.stream}@${e.start}`)).toEqual(['road@25', 'road@14', 'road-long@0']);
    const early = (await app.inject(`/api/events?until=${EPOCH + 4_000}`)).json() as { events: StoredEvent[] };
    expect(early.events.map((e) => `${e.stream}@${e.start}`)).toEqual(['road-long@0']);
    expect(((await app.inject('/api/events?stream=porch')).json() as { events: unknown[] }).events).toEqual([]);
    expect(((await app.inject(`/api/events?stream=${ROAD_STREAM}`)).json() as { events: unknown[] }).events).toHaveLength(3);
  });

  it('returns one event, and 404 for an id memory does not hold', async () => {
    const id = road()[0]!.id;
    const one = (await app.inject(`/api/events/${id}`)).json() as StoredEvent;
    expect(one).toMatchObject({ id, stream: ROAD_STREAM, start: 5, end: 8 });
    expect(one.transcript).toContain('a red car passes the junction');
    const missing = await app.inject('/api/events/road.0000999000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe('no event with id "road.0000999000"');
  });

  it('serves the thumbnail JPEG', async () => {
    const res = await app.inject(`/api/events/${road()[1]!.id}/thumbnail`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.rawPayload.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
  });

  it('counts rows per LanceDB table in /metrics', async () => {
    const exp = parsePrometheus((await app.inject('/metrics')).body);
    expect(sampleValue(exp, 'engram_table_rows', { table: 'events' })).toBe(4);
    expect(sampleValue(exp, 'engram_table_rows', { table: 'moments' })).toBe(9 + 28);
  });
});

describe('clips', () => {
  it('is 404 while the stream is neither a known file source nor recorded', async () => {
    const res = await app.inject(`/api/events/${road()[0]!.id}/clip`);
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/stream "road" is not a known file source and nothing was recorded for it/);
  });

  it('streams an MP4 of the event cut from the file, over a real socket', async () => {
    const added = await fetch(`${base}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: ROAD_STREAM, url: CAR_DETECTION }) });
    expect(added.status).toBe(201);
    const res = await fetch(`${base}/api/events/${road()[0]!.id}/clip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const file = join(env.dataDir, 'clip.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file], { encoding: 'utf8' })) as {
      format: { duration: string };
      streams: { codec_name: string }[];
    };
    expect(probe.streams.map((s) => s.codec_name)).toContain('h264');
    // The event is 5..8 s of stream time.
    expect(Number(probe.format.duration)).toBeGreaterThan(2.7);
    expect(Number(probe.format.duration)).toBeLessThan(3.3);
  });

  it('stops ffmpeg when the client hangs up', async () => {
    await fetch(`${base}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'road-long', url: CAR_DETECTION }) });
    const long = seeded.find((e) => e.stream === 'road-long')!;
    const abort = new AbortController();
    const res = await fetch(`${base}/api/events/${long.id}/clip`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    expect(ffmpegChildren()).toBe(1);
    abort.abort();
    // Re-encoding 28 s takes several seconds here; a killed ffmpeg is gone at once.
    const aborted = Date.now();
    while (ffmpegChildren() > 0 && Date.now() - aborted < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(ffmpegChildren()).toBe(0);
    expect(Date.now() - aborted).toBeLessThan(1_000);
  });
});

describe('model metrics', () => {
  it('shows installed models, and inference time and batch size of the runs made in this process', async () => {
    const models = await ModelRepository.open({ config: modelsConfig, paths: { modelsDir }, log: { info: () => undefined, warn: () => undefined } });
    try {
      const frame = { rgb: new Uint8Array(32 * 32 * 3).fill(200), width: 32, height: 32 };
      // Five frames submitted together run as one batch (batch.maxSize 32).
      await models.embedImages('tiny-color', [frame, frame, frame, frame, frame]);
    } finally {
      await models.close();
    }
    const exp = parsePrometheus((await app.inject('/metrics')).body);
    expect(sampleValue(exp, 'engram_model_installed', { model: 'tiny-color' })).toBe(1);
    expect(sampleValue(exp, 'engram_inference_seconds_count', { model: 'tiny-color' })).toBe(1);
    expect(sampleValue(exp, 'engram_inference_seconds_sum', { model: 'tiny-color' })).toBeGreaterThan(0);
    expect(sampleValue(exp, 'engram_inference_batch_size_sum', { model: 'tiny-color' })).toBe(5);
  });
});

describe('events by what the detector saw', () => {
  it('filters by detector label (?label=person, repeated for any of several) and refuses a malformed one', async () => {
    // What the detector saw on a third stream: a person walking through (written last, so the
    // row counts above are unchanged).
    const store = await MemoryStore.open(lancedbUri);
    await store.upsertEvents([{
      id: 'yard.0000003000', stream: 'yard', start: 3, end: 5, startedAt: EPOCH + 3000, endedAt: EPOCH + 5000, summary: 'A person came into view at 0:03 and left at 0:04.',
      transcript: '', ocr: '', tags: [], thumbnail: null, strength: 1, recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true,
      vectors: {}, salience: 0.2, novelty: 0.5, momentCount: 0, mergedIds: ['yard.0000003000'], closedBy: 'presence', consolidatedAt: EPOCH,
      labels: ['person'], counts: { person: { distinct: 1, max: 1 } },
      tracks: [{ id: 1, label: 'person', enter: 3, leave: 4, enteredAt: EPOCH + 3000, leftAt: EPOCH + 4000, entered: true, left: true, score: 0.8 }],
    }]);
    await store.close();
    const people = (await app.inject('/api/events?label=person')).json() as { events: StoredEvent[] };
    expect(people.events.map((e) => [e.stream, e.labels, e.counts])).toEqual([['yard', ['person'], { person: { distinct: 1, max: 1 } }]]);
    expect(people.events[0]!.tracks).toMatchObject([{ label: 'person', enter: 3, leave: 4, entered: true, left: true }]);
    const any = (await app.inject('/api/events?label=car&label=person')).json() as { events: StoredEvent[] };
    expect(any.events.map((e) => e.stream)).toEqual(['yard']);
    expect(((await app.inject('/api/events?label=dog')).json() as { events: StoredEvent[] }).events).toEqual([]);
    const bad = await app.inject(`/api/events?label=${encodeURIComponent("person' OR 1=1")}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/label/);
  });
});
