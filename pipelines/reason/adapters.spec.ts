// StoreMemory over a real MemoryStore (LanceDB in a temp directory): open-ended stream-time reads
// look in a bounded stretch first, and must return what the open read returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPOCH } from '../../test/helpers/events.js';
import { MemoryStore, type EventWrite } from '../repositories/memory-store.js';
import { StoreMemory } from './adapters.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-adapters-'));

function event(start: number): EventWrite {
  const id = `cam.${String(start * 1000).padStart(10, '0')}`;
  return {
    id, stream: 'cam', start, end: start + 10, startedAt: EPOCH + start * 1000, endedAt: EPOCH + (start + 10) * 1000, summary: `scene at ${start}`,
    transcript: '', ocr: '', tags: [], thumbnail: null, strength: 1, recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true,
    vectors: {}, salience: 0.2, novelty: 0.5, momentCount: 0, mergedIds: [id], closedBy: 'surprise', consolidatedAt: EPOCH,
  };
}

describe('StoreMemory reads open-ended stream time in bounded stretches', () => {
  let store: MemoryStore;
  let memory: StoreMemory;
  const starts = (events: { start: number }[]) => events.map((e) => e.start);

  beforeAll(async () => {
    store = await MemoryStore.open(join(dir, 'lancedb'));
    memory = new StoreMemory(store);
    // A busy stretch, then a day-long gap, then months later a few more events: the gaps are
    // wider than the first stretches looked at.
    const at = [...Array.from({ length: 30 }, (_, i) => i * 10), 100_000, 100_010, 100_020, 100_030, 100_040, 5_000_000, 5_000_010, 5_000_020];
    await store.upsertEvents(at.map(event));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('"after" reads return the open read\'s first events, across gaps wider than the first stretch', async () => {
    const few = await memory.listEvents({ streams: ['cam'], streamTime: { start: 285, end: Number.POSITIVE_INFINITY } }, 4);
    expect(starts(few)).toEqual([280, 290, 100_000, 100_010]);
    expect(few).toEqual(await store.listEvents({ streams: ['cam'], streamTime: { start: 285, end: Infinity }, limit: 4 }));
    // More than the widened stretches hold: the open read decides.
    const many = await memory.listEvents({ streams: ['cam'], streamTime: { start: 285, end: Number.POSITIVE_INFINITY } }, 12);
    expect(starts(many)).toEqual([280, 290, 100_000, 100_010, 100_020, 100_030, 100_040, 5_000_000, 5_000_010, 5_000_020]);
    expect(many).toEqual(await store.listEvents({ streams: ['cam'], streamTime: { start: 285, end: Infinity }, limit: 12 }));
  });

  it('"before" reads (newest first) and neighbours do the same', async () => {
    const before = await memory.listEvents({ streams: ['cam'], streamTime: { start: 0, end: 5_000_000 } }, 3, true);
    expect(starts(before)).toEqual([5_000_000, 100_040, 100_030]);
    expect(before).toEqual(await store.listEvents({ streams: ['cam'], streamTime: { start: -Infinity, end: 5_000_000 }, limit: 3, descending: true }));
    const anchor = (await store.getEvent('cam.0100000000'))!;
    expect(starts(await memory.neighbours(anchor, 2, 2))).toEqual([280, 290, 100_010, 100_020]);
    const last = (await store.getEvent('cam.5000020000'))!;
    expect(starts(await memory.neighbours(last, 1, 1))).toEqual([5_000_010]);
  });
});
