// A small long-term memory written the way consolidate writes it, for the `engram query` CLI tests:
// a garage stream (a car, the doorbell, a parcel spoken about, a delivery notice) and a porch stream.
import { join } from 'node:path';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';

export function storedEvent(epoch: number, stream: string, start: number, fields: Partial<EventWrite>): EventWrite {
  const id = `${stream}.${String(start * 1000).padStart(10, '0')}`;
  return {
    id, stream, start, end: start + 10, startedAt: epoch + start * 1000, endedAt: epoch + (start + 10) * 1000,
    summary: '', transcript: '', ocr: '', tags: [], thumbnail: `thumbs/${id}.jpg`, strength: 1, recallCount: 0,
    lastRecalledAt: null, level: 0, needsSummary: true, vectors: {}, salience: 0.5, novelty: 0.5, momentCount: 0,
    mergedIds: [id], closedBy: 'surprise', consolidatedAt: epoch, ...fields,
  };
}

/** Writes the garage/porch events into <dataDir>/lancedb, stream time 0 at `epoch`. */
export async function seedGarageMemory(dataDir: string, epoch: number): Promise<void> {
  const store = await MemoryStore.open(join(dataDir, 'lancedb'));
  await store.upsertEvents([
    storedEvent(epoch, 'garage', 0, { summary: 'A car parks', tags: ['motion-medium'] }),
    storedEvent(epoch, 'garage', 10, { transcript: 'Ding dong, the doorbell rang.', summary: 'Speech: the doorbell rang', tags: ['speech'] }),
    storedEvent(epoch, 'garage', 20, { transcript: 'Your parcel is waiting at the front door.', summary: 'Speech about a parcel', tags: ['speech'] }),
    storedEvent(epoch, 'garage', 30, { ocr: 'DELIVERY NOTICE', summary: 'Text on screen: DELIVERY NOTICE', tags: ['text'] }),
    storedEvent(epoch, 'porch', 0, { summary: 'A cat crosses the porch', tags: ['motion-low'] }),
  ]);
  await store.close();
}
