// Long-term memory of the real car footage for API and UI tests: three events of a stream "road"
// whose thumbnails are real frames cut from car-detection.mp4 by ffmpeg, stored through the real
// consolidate stage into LanceDB (extractive summaries; no LLM configured).
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadedConfig } from '../../config/load.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import type { StoredEvent } from '../../pipelines/records/event.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { EPOCH, syntheticEvent } from './events.js';
import { CAR_DETECTION } from './media.js';

const run = promisify(execFile);

/** When cars pass in the footage, and what a person would have said about each. */
export const ROAD_EVENTS = [
  { start: 5, length: 3, transcript: 'a red car passes the junction', ocr: 'ROAD WORKS' },
  { start: 14, length: 4, transcript: 'a white van turns left at the corner', ocr: '' },
  { start: 25, length: 2, transcript: 'a grey car drives away quickly', ocr: '' },
] as const;

export const ROAD_STREAM = 'road';

async function frame(t: number, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await run('ffmpeg', ['-v', 'error', '-y', '-ss', String(t), '-i', CAR_DETECTION, '-frames:v', '1', '-vf', 'scale=320:-2', path]);
}

export interface RoadEvent {
  stream?: string;
  start: number;
  length: number;
  transcript: string;
  ocr?: string;
}

/** Stores the road events (and any extra ones) and returns them as memory gives them back. */
export async function seedRoadMemory(loaded: LoadedConfig, extra: readonly RoadEvent[] = []): Promise<StoredEvent[]> {
  const { config, paths } = loaded;
  const store = await MemoryStore.open(paths.lancedbUri, { reinforceDays: config.memory.reinforceDays });
  try {
    const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });
    for (const [i, e] of [...ROAD_EVENTS, ...extra].entries()) {
      const stream = ('stream' in e && e.stream) || ROAD_STREAM;
      const thumbnails = (t: number) => `thumbs/${stream}/${Math.round(t * 1000)}.jpg`;
      for (let t = e.start; t < e.start + e.length; t += 1) await frame(t, join(paths.blobsDir, thumbnails(t)));
      const closed = syntheticEvent({ stream, start: e.start, length: e.length, epoch: EPOCH, transcript: e.transcript, ...('ocr' in e && e.ocr ? { ocr: e.ocr } : {}), tags: ['motion-high'], thumbnails, seed: 100 + i, dims: 64 });
      const outcome = await consolidateEvent(closed, { store, summarizer, memory: config.memory });
      if (outcome.status !== 'stored') throw new Error(`seeding ${closed.id}: ${outcome.status}`);
    }
    return await store.listEvents({ limit: 1000 });
  } finally {
    await store.close();
  }
}
