// What the detector saw, in long-term memory (real LanceDB in a temp directory): labels, counts and
// tracks stored with events and read back, the label filter, labels in full-text search,
// detections on moments, and a version-1 store migrated to carry them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPOCH } from '../../test/helpers/events.js';
import type { EventObjects } from '../records/event.js';
import { arrow, baseFields, MemoryStore, objectFields, peopleFields, SCHEMA_VERSION, type EventWrite } from './memory-store.js';

const dirs: string[] = [];
function tempUri(): string {
  const dir = mkdtempSync(join(tmpdir(), 'engram-objects-'));
  dirs.push(dir);
  return join(dir, 'lancedb');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function event(id: string, start: number, summary: string, objects?: EventObjects): EventWrite {
  return {
    id, stream: 'room', start, end: start + 10, startedAt: EPOCH + start * 1000, endedAt: EPOCH + (start + 10) * 1000,
    summary, transcript: '', ocr: '', tags: [], thumbnail: null, strength: 1, recallCount: 0, lastRecalledAt: null,
    level: 0, needsSummary: true, vectors: {}, salience: 0.2, novelty: 0.5, momentCount: 1, mergedIds: [id],
    closedBy: 'presence', consolidatedAt: EPOCH, ...objects,
  };
}

const person: EventObjects = {
  labels: ['person'],
  counts: { person: { distinct: 2, max: 1 } },
  tracks: [
    { id: 1, label: 'person', enter: 1, leave: 4, enteredAt: EPOCH + 1000, leftAt: EPOCH + 4000, entered: true, left: true, score: 0.7 },
    { id: 2, label: 'person', enter: 5, leave: 9, enteredAt: EPOCH + 5000, leftAt: EPOCH + 9000, entered: true, left: false, score: 0.6 },
  ],
};

describe('MemoryStore with detector objects', () => {
  let store: MemoryStore;
  beforeAll(async () => {
    store = await MemoryStore.open(tempUri());
    await store.upsertEvents([
      event('room.0000000000', 0, 'a visit', person),
      event('room.0000010000', 10, 'vegetables on the table', { labels: ['carrot', 'traffic light'], counts: { carrot: { distinct: 3, max: 3 }, 'traffic light': { distinct: 1, max: 1 } }, tracks: [] }),
      event('room.0000020000', 20, 'an empty room'),
    ]);
    await store.upsertMoments([
      { id: 'room.0000000000.k1000', eventId: 'room.0000000000', stream: 'room', kind: 'keyframe', t: 1, startedAt: EPOCH + 1000, thumbnail: null, vectors: {}, detections: [{ label: 'person', score: 0.7, box: [10, 20, 110, 220], track: 1 }] },
    ]);
  });
  afterAll(() => store.close());

  it('reads back labels, counts and tracks; an event written without them saw nothing', async () => {
    const got = await store.getEvent('room.0000000000');
    expect(got?.labels).toEqual(['person']);
    expect(got?.counts).toEqual({ person: { distinct: 2, max: 1 } });
    expect(got?.tracks.map((t) => [t.id, t.enter, t.leave, t.entered, t.left])).toEqual([[1, 1, 4, true, true], [2, 5, 9, true, false]]);
    const empty = await store.getEvent('room.0000020000');
    expect(empty).toMatchObject({ labels: [], counts: {}, tracks: [] });
  });

  it('filters events by whole labels: "car" does not find carrots; several labels mean any of them', async () => {
    const ids = async (labels: string[]) => (await store.listEvents({ labels })).map((e) => e.id);
    expect(await ids(['person'])).toEqual(['room.0000000000']);
    expect(await ids(['car'])).toEqual([]);
    expect(await ids(['traffic light'])).toEqual(['room.0000010000']);
    expect(await ids(['person', 'carrot'])).toEqual(['room.0000000000', 'room.0000010000']);
    expect(await store.countEvents({ labels: ['person'] })).toBe(1);
    await expect(store.listEvents({ labels: ["person' OR 1=1 --"] })).rejects.toThrow(/not a detector label/);
  });

  it('finds an event by a label in full-text search, though its summary does not say it', async () => {
    const hits = await store.textSearch({ query: 'person' });
    expect(hits.map((h) => h.row.id)).toEqual(['room.0000000000']);
  });

  it('keeps a keyframe moment’s detections with their track ids', async () => {
    const moments = await store.momentsOfEvent('room.0000000000');
    expect(moments[0]?.detections).toEqual([{ label: 'person', score: 0.7, box: [10, 20, 110, 220], track: 1 }]);
  });
});

describe('a version-1 store', () => {
  it('is migrated: old rows read as having seen nothing and no one, new rows carry labels and people', async () => {
    const uri = tempUri();
    const db = await lancedb.connect(uri);
    const added = new Set([...objectFields.events(), ...objectFields.moments(), ...peopleFields.events()].map((x) => x.name));
    for (const name of ['events', 'moments', 'episodes'] as const) {
      await db.createEmptyTable(name, new arrow.Schema(baseFields(name).filter((x) => !added.has(x.name))));
    }
    const meta = await db.createEmptyTable('meta', new arrow.Schema([new arrow.Field('key', new arrow.Utf8()), new arrow.Field('value', new arrow.Utf8())]));
    await meta.add([{ key: 'schemaVersion', value: '1' }]);
    const events = await db.openTable('events');
    const { labels: _l, counts: _c, tracks: _t, vectors: _v, ...old } = event('room.0000000000', 0, 'old');
    await events.add([{ ...old, tags: '', mergedIds: old.id, retention: 1, prunedAt: null }]);
    db.close();

    const store = await MemoryStore.open(uri);
    expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await store.getEvent('room.0000000000')).toMatchObject({ summary: 'old', labels: [], tracks: [], people: [] });
    await store.upsertEvents([{ ...event('room.0000010000', 10, 'new', person), people: ['b-2', 'a-1'] }]);
    expect((await store.listEvents({ labels: ['person'] })).map((e) => e.id)).toEqual(['room.0000010000']);
    expect((await store.getEvent('room.0000010000'))?.people).toEqual(['a-1', 'b-2']);
    expect((await store.listEvents({ people: ['b-2'] })).map((e) => e.id)).toEqual(['room.0000010000']);
    expect(await store.listEvents({ people: ['b'] })).toEqual([]);
    await expect(store.listEvents({ people: ["x' OR 1=1 --"] })).rejects.toThrow(/not a person id/);
    await store.close();
  });
});
