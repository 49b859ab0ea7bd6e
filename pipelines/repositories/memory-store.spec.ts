// MemoryStore against real LanceDB in a temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPOCH, near, seeded, unitVector } from '../../test/helpers/events.js';
import { MemoryStore, SCHEMA_VERSION, toEvent, type EventWrite } from './memory-store.js';

const dirs: string[] = [];
function tempUri(): string {
  const dir = mkdtempSync(join(tmpdir(), 'engram-mem-'));
  dirs.push(dir);
  return join(dir, 'lancedb');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function event(over: Partial<EventWrite> & { id: string; start: number }): EventWrite {
  const start = over.start;
  return {
    stream: 'cam',
    end: start + 10,
    startedAt: EPOCH + start * 1000,
    endedAt: EPOCH + (start + 10) * 1000,
    summary: `scene at ${start}`,
    transcript: '',
    ocr: '',
    tags: ['motion-low'],
    thumbnail: null,
    strength: 1,
    recallCount: 0,
    lastRecalledAt: null,
    level: 0,
    needsSummary: true,
    vectors: {},
    salience: 0.2,
    novelty: 0.5,
    momentCount: 10,
    mergedIds: [over.id],
    closedBy: 'surprise',
    consolidatedAt: EPOCH,
    ...over,
  };
}

describe('MemoryStore', () => {
  let store: MemoryStore;
  let uri: string;
  const rand = seeded(7);
  const red = unitVector(16, rand);
  const blue = unitVector(16, rand);

  beforeAll(async () => {
    uri = tempUri();
    store = await MemoryStore.open(uri);
    await store.upsertEvents([
      event({ id: 'cam.0000000000', start: 0, summary: 'a red car drives past the gate', vectors: { clip: near(red, 0.1, rand) } }),
      event({ id: 'cam.0000010000', start: 10, summary: 'quiet street', transcript: 'hello delivery for number twelve', vectors: { clip: near(blue, 0.1, rand) } }),
      event({ id: 'cam.0000020000', start: 20, summary: 'a blue van stops', ocr: 'PARCEL EXPRESS', vectors: { clip: near(blue, 0.1, rand) } }),
      event({ id: 'door.0000005000', stream: 'door', start: 5, summary: "someone says 'drop table' at the door", vectors: { clip: near(red, 0.1, rand) } }),
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  it('writing the same event three times leaves one row with the last values', async () => {
    for (let i = 0; i < 3; i += 1) await store.upsertEvent(event({ id: 'cam.0000030000', start: 30, summary: `try ${i}` }));
    expect(await store.countEvents({ streams: ['cam'] })).toBe(4);
    expect((await store.getEvent('cam.0000030000'))?.summary).toBe('try 2');
  });

  it('lists events in time order with stream, wall-clock and stream-time filters and paging', async () => {
    const all = await store.listEvents({});
    expect(all.map((e) => e.id)).toEqual(['cam.0000000000', 'door.0000005000', 'cam.0000010000', 'cam.0000020000', 'cam.0000030000']);
    expect((await store.listEvents({ streams: ['cam'], limit: 2, offset: 1 })).map((e) => e.start)).toEqual([10, 20]);
    expect((await store.listEvents({ wall: { from: EPOCH + 25_000, to: EPOCH + 31_000 } })).map((e) => e.start)).toEqual([20, 30]);
    expect((await store.listEvents({ streams: ['cam'], streamTime: { start: 12, end: 20 } })).map((e) => e.start)).toEqual([10, 20]);
  });

  it('reads a stream\'s events and moments in several stretches of stream time with one query each', async () => {
    const moment = (eventId: string, t: number) => ({ id: `${eventId}.m${t}`, eventId, stream: 'cam', kind: 'keyframe' as const, t, startedAt: EPOCH + t * 1000, thumbnail: `k/${t}.jpg`, vectors: {} });
    await store.upsertMoments([moment('cam.0000000000', 1), moment('cam.0000000000', 5), moment('cam.0000010000', 12), moment('cam.0000020000', 22), moment('cam.0000020000', 25)]);
    const stretches = [{ start: 0, end: 3 }, { start: 21, end: 23 }];
    // Events overlapping either stretch, not the one between them; moments inside either, in time order.
    expect((await store.listEventSpans({ streams: ['cam'], streamTimes: stretches })).map((e) => e.id)).toEqual(['cam.0000000000', 'cam.0000020000']);
    expect((await store.momentsInWindows('cam', stretches)).map((m) => m.t)).toEqual([1, 22]);
    expect(await store.momentsInWindows('cam', [])).toEqual([]);
    expect((await store.momentsInWindow('cam', 4, 12)).map((m) => m.t)).toEqual([5, 12]);
  });

  it('lists the streams that have events', async () => {
    expect(await store.streams()).toEqual(['cam', 'door']);
    const empty = await MemoryStore.open(tempUri());
    expect(await empty.streams()).toEqual([]);
    await empty.close();
  });

  it('finds neighbours in the same stream', async () => {
    const n = await store.neighbours('cam.0000010000', { before: 2, after: 1 });
    expect(n.before.map((e) => e.id)).toEqual(['cam.0000000000']);
    expect(n.after.map((e) => e.id)).toEqual(['cam.0000020000']);
  });

  it('vector search ranks by cosine and honours filters', async () => {
    const hits = await store.vectorSearch({ table: 'events', space: 'clip', vector: red, limit: 3 });
    expect(hits[0]?.row.summary).toMatch(/red car|drop table/);
    expect(hits[0]?.score).toBeGreaterThan(0.9);
    const camOnly = await store.vectorSearch({ table: 'events', space: 'clip', vector: red, limit: 5, filter: { streams: ['cam'] } });
    expect(camOnly.map((h) => h.row.stream)).not.toContain('door');
    expect(camOnly[0]?.row.id).toBe('cam.0000000000');
    await expect(store.vectorSearch({ table: 'events', space: 'clip', vector: new Float32Array(3), limit: 1 })).rejects.toThrow(/16-d vectors; query has 3/);
    await expect(store.vectorSearch({ table: 'events', space: 'clap', vector: red, limit: 1 })).rejects.toThrow(/no vectors stored for embedding space "clap"/);
  });

  it('full-text search covers summary, transcript and OCR before and after the index exists', async () => {
    const before = await store.textSearch({ query: 'delivery', limit: 5 });
    expect(before.map((h) => h.row.id)).toEqual(['cam.0000010000']);
    expect((await store.textSearch({ query: 'parcel', limit: 5 })).map((h) => h.row.id)).toEqual(['cam.0000020000']);
    const built = await store.buildIndexes({ vectorMinRows: 1_000_000, ftsMinRows: 1, growth: 2 });
    expect(built).toEqual(['events.summary', 'events.transcript', 'events.ocr', 'events.labels']);
    await store.upsertEvent(event({ id: 'cam.0000040000', start: 40, summary: 'second delivery van' }));
    const after = await store.textSearch({ query: 'delivery', limit: 5 });
    expect(after.map((h) => h.row.id).sort()).toEqual(['cam.0000010000', 'cam.0000040000']);
    expect((await store.textSearch({ query: 'van', limit: 5, filter: { wall: { from: EPOCH + 45_000, to: Infinity } } })).map((h) => h.row.id)).toEqual(['cam.0000040000']);
  });

  it('filter values with quotes and SQL keywords are data, not SQL', async () => {
    const evil = ["' OR 1=1 --", "x'; DROP TABLE events; --", 'cam" OR "1"="1', "drop table"];
    for (const text of evil) {
      expect(await store.getEvent(text)).toBeUndefined();
      expect((await store.textSearch({ query: text, limit: 10 })).every((h) => typeof h.row.id === 'string')).toBe(true);
      await expect(store.listEvents({ streams: [text] })).rejects.toThrow(/not a stream name/);
      expect(await store.momentsOfEvent(text)).toEqual([]);
      await store.reinforce([text], EPOCH);
    }
    expect((await store.textSearch({ query: "'drop table'", limit: 5 })).map((h) => h.row.id)).toContain('door.0000005000');
    await expect(store.listEvents({ wall: { from: Number.NaN, to: Infinity } })).rejects.toThrow(/not a finite number/);
    // Every row is still there and unchanged by the reinforce calls above.
    expect(await store.countEvents()).toBe(6);
    expect((await store.listEvents({})).every((e) => e.recallCount === 0)).toBe(true);
  });

  it('reinforce adds strength and a recall; decay lowers retention with time', async () => {
    await store.reinforce(['cam.0000000000', 'cam.0000000000'], EPOCH + 60_000);
    const e = await store.getEvent('cam.0000000000');
    expect(e).toMatchObject({ recallCount: 1, strength: 2, lastRecalledAt: EPOCH + 60_000 });
    await store.decay(EPOCH + 3 * 86_400_000);
    const pruned = await store.pruneMoments({ olderThan: 0, retentionBelow: 0.1, now: EPOCH });
    // strength 1 day, 3 days later: retention e^-3 = 0.05 < 0.1; strength 2: e^-1.5 = 0.22 stays.
    expect(pruned.events).toBe(5);
  });

  it('a new embedding space adds a column to every table and keeps the rows', async () => {
    const rowsBefore = await store.countEvents();
    const clap = unitVector(8, rand);
    await store.upsertEvent(event({ id: 'cam.0000050000', start: 50, summary: 'a dog barks', vectors: { clap, clip: near(red, 0.1, rand) } }));
    expect((await store.spaces()).map((s) => [s.space, s.dims])).toEqual([['clap', 8], ['clip', 16]]);
    expect(await store.countEvents()).toBe(rowsBefore + 1);
    expect((await store.getEvent('cam.0000000000'))?.summary).toBe('a red car drives past the gate');
    const hits = await store.vectorSearch({ table: 'events', space: 'clap', vector: clap, limit: 5 });
    // Only the row that has a clap vector can match; old rows read null there.
    expect(hits.map((h) => h.row.id)).toEqual(['cam.0000050000']);
    expect((await store.vectorSearch({ table: 'events', space: 'clip', vector: red, limit: 10 })).length).toBe(5);
    await expect(store.upsertEvent(event({ id: 'x.1', start: 60, vectors: { clap: new Float32Array(9) } }))).rejects.toThrow(/8-d vectors; got 9-d/);
    // A second process opening the same data sees the new space and the schema version.
    const other = await MemoryStore.open(uri);
    const stats = await other.tableStats();
    expect(stats.schemaVersion).toBe(SCHEMA_VERSION);
    expect(stats.spaces.map((s) => s.space)).toEqual(['clap', 'clip']);
    expect(stats.tables.events.rows).toBe(rowsBefore + 1);
    expect(stats.diskBytes).toBeGreaterThan(stats.tables.events.bytes);
    await other.close();
  });

  it('refuses data written by a newer schema version', async () => {
    const u = tempUri();
    const s = await MemoryStore.open(u);
    await s.close();
    const db = await lancedb.connect(u);
    const meta = await db.openTable('meta');
    await meta.update({ where: `key = 'schemaVersion'`, values: { value: String(SCHEMA_VERSION + 1) } });
    meta.close();
    db.close();
    await expect(MemoryStore.open(u)).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this engram understands`));
  });
});

describe('MemoryStore vector search over rows without a vector', () => {
  // Rows lack a space's vector when they were stored before the space existed, or when its model
  // did not apply (no audio). They must never come back as hits, with or without the vector index.
  const rand = seeded(11);
  const dims = 16;
  const withClip = new Set<string>();
  const withoutClip = new Set<string>();
  let store: MemoryStore;

  const write = async (from: number, count: number, clipEvery: number) => {
    const rows: EventWrite[] = [];
    for (let i = from; i < from + count; i += 1) {
      const id = `cam.${String(i * 10_000).padStart(10, '0')}`;
      const hasClip = i % clipEvery !== 0;
      (hasClip ? withClip : withoutClip).add(id);
      rows.push(event({ id, start: i * 10, vectors: hasClip ? { clip: unitVector(dims, rand) } : { clap: unitVector(8, rand) } }));
    }
    await store.upsertEvents(rows);
  };

  const allHits = async (limit = 2_000) => (await store.vectorSearch({ table: 'events', space: 'clip', vector: unitVector(dims, rand), limit })).map((h) => h.row.id);

  beforeAll(async () => {
    store = await MemoryStore.open(tempUri());
    // Written before any space exists: these rows read null in every vector column added later.
    for (let i = 0; i < 40; i += 1) {
      const id = `cam.${String(i * 10_000).padStart(10, '0')}`;
      withoutClip.add(id);
      await store.upsertEvents([event({ id, start: i * 10 })]);
    }
    await write(40, 560, 4);
  });
  afterAll(async () => {
    await store.close();
  });

  it('a flat scan returns exactly the rows that have the vector, filtered or not', async () => {
    expect(withClip.size).toBe(420);
    expect(withoutClip.size).toBe(180);
    expect((await allHits()).sort()).toEqual([...withClip].sort());
    const since = EPOCH + 3_000_000;
    const filtered = await store.vectorSearch({ table: 'events', space: 'clip', vector: unitVector(dims, rand), limit: 2_000, filter: { streams: ['cam'], wall: { from: since, to: Infinity } } });
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((h) => withClip.has(h.row.id) && h.row.endedAt >= since && Number.isFinite(h.score))).toBe(true);
  });

  it('an IVF-PQ search, and rows added after the index, never return rows without the vector', async () => {
    expect(await store.buildIndexes({ vectorMinRows: 300, ftsMinRows: 1_000_000, growth: 2 })).toContain('events.v_clip');
    const indexed = await allHits();
    expect(indexed.length).toBeGreaterThan(100);
    expect(indexed.filter((id) => !withClip.has(id))).toEqual([]);
    // A stored vector finds itself first, with full limit of real hits.
    const [own] = (await store.vectorSearch({ table: 'events', space: 'clip', vector: unitVector(dims, rand), limit: 1 })).map((h) => h.row.id);
    const ownVector = (await store.eventVectors(own as string)).clip as Float32Array;
    const top = await store.vectorSearch({ table: 'events', space: 'clip', vector: ownVector, limit: 10 });
    expect(top).toHaveLength(10);
    expect(top[0]?.row.id).toBe(own);
    expect(top[0]?.score).toBeGreaterThan(0.999);
    // New rows are not in the index yet (searched flat next to it): half of them lack the vector.
    await write(600, 40, 2);
    const mixed = await allHits();
    expect(mixed.filter((id) => !withClip.has(id))).toEqual([]);
    expect(mixed).toEqual(expect.arrayContaining([...withClip].filter((id) => Number(id.slice(4)) >= 6_000_000)));
  });
});

describe('MemoryStore records', () => {
  it('records read with their own columns only equal records built from every column', async () => {
    const uri = tempUri();
    const store = await MemoryStore.open(uri);
    await store.upsertEvents([
      event({ id: 'cam.0009990000', start: 999, transcript: 'hello', ocr: 'EXIT', thumbnail: 'k/1.jpg', lastRecalledAt: EPOCH, labels: ['car', 'person'], counts: { car: { distinct: 2, max: 1 } }, tracks: [{ id: 1, label: 'car', enter: 999, leave: 1001, enteredAt: EPOCH, leftAt: EPOCH + 2000, entered: true, left: true, score: 0.9 }], people: ['p-1'] }),
    ]);
    const db = await lancedb.connect(uri);
    const full = (await (await db.openTable('events')).query().where("id = 'cam.0009990000'").toArray()) as Record<string, unknown>[];
    db.close();
    const [read] = await store.getEvents(['cam.0009990000']);
    expect(read).toEqual(toEvent(full[0] as Record<string, unknown>));
    expect(read).toMatchObject({ labels: ['car', 'person'], people: ['p-1'], lastRecalledAt: EPOCH, thumbnail: 'k/1.jpg', counts: { car: { distinct: 2, max: 1 } } });
    expect((await store.textSearch({ query: 'hello', limit: 1 }))[0]?.row).toEqual(read);
    await store.close();
  });
});
