// Consolidation and its scheduled jobs against real LanceDB in a temp directory (and a local
// OpenAI-compatible server for summaries).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/schema.js';
import { EPOCH, seeded, syntheticEvent, unitVector } from '../../test/helpers/events.js';
import { startFakeLlm } from '../../test/helpers/fake-llm.js';
import { LlmClient } from '../repositories/llm.js';
import { blobDataUrl, deleteBlobs } from '../repositories/blob-store.js';
import { LocalBlobStore } from '../repositories/local-blob-store.js';
import { MemoryStore } from '../repositories/memory-store.js';
import { memorySnapshot, streamEvents } from '../../test/helpers/stream-events.js';
import { consolidateBatch, consolidateEvent, InvalidEventError, type ConsolidateDeps } from './consolidate.js';
import { runBuildEpisodes, runMaintainMemory, runOptimizeTables } from './maintenance.js';
import { extractiveSummary, makeSummarizer } from './summary.js';

const config = ConfigSchema.parse({});
const memory = config.memory;
const extractive = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });

let root = '';
let store: MemoryStore;
beforeEach(async () => {
  await store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
  root = mkdtempSync(join(tmpdir(), 'engram-cons-'));
  store = await MemoryStore.open(join(root, 'lancedb'));
});
afterAll(async () => {
  await store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const deps = (over: Partial<ConsolidateDeps> = {}): ConsolidateDeps => ({ store, summarizer: extractive, memory, now: () => EPOCH, ...over });

describe('consolidateEvent', () => {
  it('stores an event once however often it is consolidated', async () => {
    const event = syntheticEvent({ start: 0, transcript: 'the parcel is at the door', ocr: 'DHL', tags: ['speech', 'text', 'motion-low'] });
    const outcomes = [];
    for (let i = 0; i < 3; i += 1) outcomes.push(await consolidateEvent(event, deps()));
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'duplicate', 'duplicate']);
    expect(await store.countEvents()).toBe(1);
    expect((await store.tableStats()).tables.moments.rows).toBe(10);
    const stored = await store.getEvent(event.id);
    expect(stored).toMatchObject({ stream: 'cam', start: 0, end: 10, transcript: 'the parcel is at the door', ocr: 'DHL', needsSummary: true, recallCount: 0 });
    expect(stored?.summary).toBe('Speech: "the parcel is at the door". On screen: "DHL". Low motion on cam for 10 s.');
    // Speech and text make it stronger than a quiet event.
    const quiet = syntheticEvent({ start: 100, novelty: 0 });
    await consolidateEvent(quiet, deps());
    expect(stored!.strength).toBeGreaterThan((await store.getEvent(quiet.id))!.strength);
  });

  it('merges an event that continues the same scene into the previous one (pattern completion)', async () => {
    const scene = unitVector(512, seeded(3));
    const other = unitVector(512, seeded(4));
    const a = syntheticEvent({ start: 0, scene, noise: 0.2, transcript: 'hello' });
    const b = syntheticEvent({ start: 10.5, scene, noise: 0.2, transcript: 'again', ocr: 'EXIT' });
    const c = syntheticEvent({ start: 20.5, scene: other, noise: 0.2 });
    expect((await consolidateEvent(a, deps())).status).toBe('stored');
    expect(await consolidateEvent(b, deps())).toMatchObject({ status: 'merged', id: a.id, moments: 10 });
    expect((await consolidateEvent(c, deps())).status).toBe('stored');
    const events = await store.listEvents({});
    expect(events.map((e) => [e.id, e.start, e.end])).toEqual([[a.id, 0, 20.5], [c.id, 20.5, 30.5]]);
    expect(events[0]).toMatchObject({ transcript: 'hello again', ocr: 'EXIT' });
    // The merged id still finds its memory, and its retry changes nothing.
    expect((await store.getEvent(b.id))?.id).toBe(a.id);
    expect((await consolidateEvent(b, deps())).status).toBe('duplicate');
    expect((await store.momentsOfEvent(a.id)).length).toBe(20);
  });

  it('a batch of several streams makes the same memory as its events one at a time, and repeats nothing', async () => {
    const events = streamEvents({ streams: 3, perStream: 9 });
    for (const e of events) await consolidateEvent(e, deps());
    const oneByOne = await memorySnapshot(store);
    // Scenes of three events: each stream keeps three rows, each absorbing two more events.
    expect(oneByOne.events.length).toBe(9);
    expect(oneByOne.events.filter((e) => e[3].split(' ').length === 3).length).toBe(9);

    await store.close();
    store = await MemoryStore.open(join(root, 'batched'));
    // Batches cut across scenes and streams, out of order inside; the second half repeats an
    // event already stored and one inside the same batch.
    const shuffled = (list: typeof events) => [...list].sort((a, b) => (a.id < b.id ? 1 : -1));
    const first = await consolidateBatch(shuffled(events.slice(0, 13)), deps());
    expect(first.filter((o) => o.status === 'stored').length + first.filter((o) => o.status === 'merged').length).toBe(13);
    const rest = [...events.slice(13), events[0]!, events[20]!];
    const second = await consolidateBatch(shuffled(rest), deps());
    expect(second.filter((o) => o.status === 'duplicate').length).toBe(2);
    expect(await memorySnapshot(store)).toEqual(oneByOne);
    // A merged event reports the row that absorbed it.
    const merged = second.find((o) => o.status === 'merged');
    expect(merged && (await store.getEvent(merged.id))?.id).toBe(merged?.id);
  });

  it('drops near-duplicate keyframes (pattern separation)', async () => {
    const event = syntheticEvent({ start: 0, noise: 0.01 });
    const outcome = await consolidateEvent(event, deps());
    expect(outcome.moments).toBe(1);
  });

  it('refuses an event that can never be stored, naming the problem', async () => {
    const bad = { ...syntheticEvent({ start: 0 }), stream: "cam'; drop" };
    await expect(consolidateEvent(bad, deps())).rejects.toThrow(InvalidEventError);
    await expect(consolidateEvent(bad, deps())).rejects.toThrow(/stream "cam'; drop" is not a stream name/);
  });
});

describe('scheduled jobs', () => {
  it('builds hour and day episodes for an hour of generated events', async () => {
    // 120 events of 30 s from 09:30 to 10:30 UTC: two hour episodes and one day episode.
    const epoch = Date.UTC(2026, 10, 28, 9, 30, 0);
    for (let i = 0; i < 120; i += 1) {
      await consolidateEvent(syntheticEvent({ start: i * 30, length: 30, dims: 32, epoch, seed: i + 1, tags: i % 10 === 0 ? ['speech', 'motion-high'] : ['motion-low'], transcript: i % 10 === 0 ? `announcement ${i}` : undefined }), deps());
    }
    expect(await store.countEvents()).toBe(120);
    const run = await runBuildEpisodes(store, memory, epoch + 3_600_000);
    expect(run).toEqual({ episodes: 3, events: 120 });
    const episodes = await store.episodes({ streams: ['cam'] });
    expect(episodes.map((e) => [e.id, e.level, e.eventCount])).toEqual([
      ['cam.d.2026-11-28', 2, 120],
      ['cam.h.2026-11-28T09', 1, 60],
      ['cam.h.2026-11-28T10', 1, 60],
    ]);
    expect(episodes[1]?.summary).toMatch(/^60 events on cam 09:00-10:00 UTC \(motion-low 54, motion-high 6, speech 6\)\. 09:30 Speech: "announcement 0"/);
    // Episodes carry mean vectors, so they are found by vector search like events.
    const hits = await store.vectorSearch({ table: 'episodes', space: 'clip', vector: unitVector(32, seeded(1)), limit: 3, filter: { level: 1 } });
    expect(hits.map((h) => h.row.level)).toEqual([1, 1]);
    // Rebuilding is idempotent.
    await runBuildEpisodes(store, memory, epoch + 3_600_000);
    expect((await store.tableStats()).tables.episodes.rows).toBe(3);
  });

  it('prunes old moments and their thumbnails but keeps events and their thumbnails', async () => {
    const blobs = new LocalBlobStore(join(root, 'blobs'));
    const thumb = (t: number) => `cam/${String(t).padStart(6, '0')}.jpg`;
    const old = syntheticEvent({ start: 0, thumbnails: thumb });
    const recent = syntheticEvent({ start: 40 * 86_400, thumbnails: thumb });
    for (const e of [old, recent]) {
      for (const m of e.moments) {
        const p = join(blobs.root, m.thumbnail!);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, 'jpeg');
      }
      await consolidateEvent(e, deps());
    }
    const now = EPOCH + 41 * 86_400_000;
    const run = await runMaintainMemory({ store, deleteBlobs: (p) => deleteBlobs(blobs, p), summarizer: extractive, llmConfigured: false }, { ...memory, pruneRetentionBelow: 0 }, now);
    expect(run).toMatchObject({ prunedMoments: 10, deletedThumbnails: 9, upgradedSummaries: 0 });
    expect(await store.countEvents()).toBe(2);
    expect(await store.momentsOfEvent(old.id)).toEqual([]);
    expect((await store.momentsOfEvent(recent.id)).length).toBe(10);
    expect(existsSync(join(blobs.root, old.thumbnail!))).toBe(true);
    expect(existsSync(join(blobs.root, thumb(1)))).toBe(false);
    expect((await store.getEvent(old.id))?.thumbnail).toBe(old.thumbnail);

    // Weak memories lose their detail too: after decay the recent event's retention is low.
    const later = await runMaintainMemory({ store, deleteBlobs: (p) => deleteBlobs(blobs, p), summarizer: extractive, llmConfigured: false }, { ...memory, pruneRetentionBelow: 0.5, momentMaxAgeDays: 365 }, now + 5 * 86_400_000);
    expect(later).toMatchObject({ prunedMoments: 10, prunedEvents: 2 });
    expect(await store.countEvents()).toBe(2);
  });

  it('summarises through the LLM when it answers, falls back when it fails, and upgrades later', async () => {
    const server = await startFakeLlm();
    try {
      const llm = new LlmClient({ ...config.llm, baseUrl: server.baseUrl, retries: 1, vision: true }, { backoffMs: 5 });
      const blobs = new LocalBlobStore(join(root, 'blobs'));
      mkdirSync(join(blobs.root, 'cam'), { recursive: true });
      writeFileSync(join(blobs.root, 'cam/0.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
      const summarizer = makeSummarizer(llm, (p) => blobDataUrl(blobs, p), { maxImages: 2 });
      server.respond(() => ({ status: 500, raw: 'down' }));
      const van = { id: 3, label: 'truck', enter: 2, leave: 8, enteredAt: EPOCH + 2000, leftAt: EPOCH + 8000, entered: true, left: true, score: 0.5 };
      const event = { ...syntheticEvent({ start: 0, transcript: 'is the van here', thumbnails: (t) => (t === 0 ? 'cam/0.jpg' : `cam/missing-${t}.jpg`) }), objects: { labels: ['truck'], counts: { truck: { distinct: 1, max: 1 } }, tracks: [van] } };
      await consolidateEvent(event, deps({ summarizer }));
      expect(server.requests.length).toBe(2);
      expect(await store.getEvent(event.id)).toMatchObject({ needsSummary: true, summary: extractiveSummary({ ...event, transcript: 'is the van here', ocr: '', thumbnails: [] }) });
      expect((await store.getEvent(event.id))?.summary).toContain('A truck came into view at 0:02 and left at 0:08.');

      // While the endpoint is known to be failing, later events do not wait on it.
      const guarded = makeSummarizer(llm, (p) => blobDataUrl(blobs, p), { maxImages: 2, failureCooldownMs: 60_000 });
      await consolidateEvent(syntheticEvent({ start: 500, seed: 8 }), deps({ summarizer: guarded }));
      const afterFirst = server.requests.length;
      await consolidateEvent(syntheticEvent({ start: 1000, seed: 9 }), deps({ summarizer: guarded }));
      expect(server.requests.length).toBe(afterFirst);
      expect((await store.getEvent('cam.0001000000'))?.needsSummary).toBe(true);

      server.respond(() => ({ content: JSON.stringify({ summary: 'A white van waits at the gate while someone asks about it.', tags: ['Van', 'gate'] }) }));
      const run = await runMaintainMemory({ store, deleteBlobs: async () => 0, summarizer, llmConfigured: true }, memory, EPOCH + 60_000);
      expect(run.upgradedSummaries).toBe(3);
      expect(await store.getEvent(event.id)).toMatchObject({ needsSummary: false, summary: 'A white van waits at the gate while someone asks about it.' });
      expect((await store.getEvent(event.id))?.tags).toEqual(expect.arrayContaining(['van', 'gate', 'motion-low']));
      // The upgrade of the first event sent its keyframe (the one that exists) to the vision model.
      const upgrade = server.requests.slice(-3).map((r) => JSON.stringify(r.body)).find((b) => b.includes('stream 0.0-10.0 s'));
      expect(upgrade).toContain('data:image/jpeg;base64,/9j/2Q==');
      expect(upgrade?.match(/data:image/g)?.length).toBe(1);
      // ... and what the detector saw, which an upgrade used to leave out.
      expect(upgrade).toContain('truck: 1 distinct, at most 1 at once (#3 entered 0:02, left 0:08)');
      expect((await store.textSearch({ query: 'white van', limit: 3 }))[0]?.row.id).toBe(event.id);
    } finally {
      await server.close();
    }
  });

  it('OptimizeTables compacts and builds a vector index once a table is large enough', async () => {
    for (let i = 0; i < 30; i += 1) await consolidateEvent(syntheticEvent({ start: i * 10, dims: 32, seed: i + 5 }), deps());
    const first = await runOptimizeTables(store, { ...memory, vectorIndexMinRows: 256, ftsIndexMinRows: 10_000 });
    // 300 moments: moments get an index, the 30 events do not yet.
    expect(first.indexes).toEqual(['moments.v_clip']);
    const again = await runOptimizeTables(store, { ...memory, vectorIndexMinRows: 256, ftsIndexMinRows: 10_000 });
    expect(again.indexes).toEqual([]);
    const hits = await store.vectorSearch({ table: 'moments', space: 'clip', vector: unitVector(32, seeded(9)), limit: 5 });
    expect(hits.length).toBe(5);
  });
});
