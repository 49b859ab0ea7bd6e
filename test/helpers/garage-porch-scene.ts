// The stored events the reason read tests (stretch listing, sequel guess) reason over: a garage
// camera with 12 s events back to back, one 400 s merged event at 1000 s and a gap after 1800 s,
// and a porch camera with 20 s events every `porchEvery` seconds up to `porchUntil`.
import { join } from 'node:path';
import { eventId, type StoredEvent } from '../../pipelines/records/event.js';
import { StoreMemory } from '../../pipelines/reason/adapters.js';
import type { ReasonMemory } from '../../pipelines/reason/ports.js';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';

export const SCENE_EPOCH = Date.UTC(2026, 10, 28, 9, 0, 0);

export function garagePorchScene(porch: { every: number; until: number }): EventWrite[] {
  const spans: { stream: string; start: number; end: number }[] = [];
  for (let t = 0; t < 1000; t += 12) spans.push({ stream: 'garage', start: t, end: t + 12 });
  spans.push({ stream: 'garage', start: 1000, end: 1400 });
  for (let t = 1400; t < 1800; t += 12) spans.push({ stream: 'garage', start: t, end: t + 12 });
  spans.push({ stream: 'garage', start: 2600, end: 2610 });
  for (let t = 0; t < porch.until; t += porch.every) spans.push({ stream: 'porch', start: t, end: t + 20 });
  return spans.map(({ stream, start, end }, i) => {
    const id = eventId(stream, start);
    const speech = i % 3 === 0;
    return {
      id, stream, start, end, startedAt: SCENE_EPOCH + start * 1000, endedAt: SCENE_EPOCH + end * 1000, summary: `scene ${i} on ${stream}`,
      transcript: speech ? `words number ${i}` : '', ocr: i % 5 === 0 ? `SIGN ${i}` : '', tags: speech ? ['speech'] : ['silence'],
      thumbnail: `thumbs/${id}.jpg`, strength: 1, recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true, vectors: {},
      salience: 0.5, novelty: 0.5, momentCount: 0, mergedIds: [id], closedBy: 'surprise', consolidatedAt: SCENE_EPOCH,
    };
  });
}

/** The scene stored in a fresh LanceDB memory under `dir`, with its rows by id as the store reads them back. */
export async function storeScene(dir: string, rows: EventWrite[]): Promise<{ store: MemoryStore; memory: StoreMemory; events: Map<string, StoredEvent> }> {
  const store = await MemoryStore.open(join(dir, 'lancedb'));
  await store.upsertEvents(rows);
  const events = new Map<string, StoredEvent>();
  for (const e of await store.listEvents({ limit: 1000 })) events.set(e.id, e);
  if (events.size !== rows.length) throw new Error(`stored ${rows.length} events, read back ${events.size}`);
  return { store, memory: new StoreMemory(store), events };
}

/** `memory` with each read it makes counted by method name into `calls`. */
export function countedReads(memory: ReasonMemory, calls: Map<string, number>): ReasonMemory {
  return new Proxy(memory, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
