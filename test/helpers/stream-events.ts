// Closed events from several simulated streams, in the order their segmenters would close them
// (interleaved by time), with scenes that last a few events so pattern completion merges some:
// for batch consolidation tests, the two-worker test and test/bench/consolidate.ts.
import type { ClosedEvent } from '../../pipelines/records/event.js';
import type { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { seeded, syntheticEvent, unitVector } from './events.js';

export interface StreamEventsOptions {
  streams: number;
  perStream: number;
  /** Events per scene: consecutive events of one scene continue it and merge. @defaultValue 3 */
  sceneEvents?: number;
  dims?: number;
  /** Stream name prefix. @defaultValue 'cam' */
  prefix?: string;
  /** First stream second. @defaultValue 0 */
  from?: number;
}

export function streamEvents(o: StreamEventsOptions): ClosedEvent[] {
  const dims = o.dims ?? 64;
  const sceneEvents = o.sceneEvents ?? 3;
  const out: ClosedEvent[] = [];
  const rand = seeded(11);
  const scenes = new Map<string, Float32Array>();
  for (let i = 0; i < o.perStream; i += 1) {
    for (let s = 0; s < o.streams; s += 1) {
      const key = `${s}:${Math.floor(i / sceneEvents)}`;
      let scene = scenes.get(key);
      if (!scene) scenes.set(key, (scene = unitVector(dims, rand)));
      // 10 s events 0.5 s apart: inside mergeMaxGapSeconds, so a scene's events continue it.
      out.push(syntheticEvent({ stream: `${o.prefix ?? 'cam'}${s}`, start: (o.from ?? 0) + i * 10.5, dims, scene, noise: 0.2, seed: s * 100_000 + i + 1, transcript: i % 4 === 0 ? `word ${i}` : undefined }));
    }
  }
  return out;
}

/** What memory holds, in a form two runs can be compared by: rows and which events each absorbed. */
export async function memorySnapshot(store: MemoryStore): Promise<{ events: [string, number, number, string][]; moments: number }> {
  const rows = await store.listEvents({ limit: 1_000_000 });
  const details = await Promise.all(rows.map(async (e) => [e.id, e.start, e.end, [...((await store.eventDetail(e.id))?.mergedIds ?? [])].sort().join(' ')] as [string, number, number, string]));
  return { events: details.sort((a, b) => a[0].localeCompare(b[0])), moments: (await store.tableStats()).tables.moments.rows };
}
