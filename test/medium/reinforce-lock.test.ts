// Recall reinforcement from question-answering processes (the API, the reason role, `engram query`)
// while a consolidate worker grows the very event they reinforce: consolidation reads the event,
// merges into it and writes the whole row back, so without the memory write lock a reinforcement
// committed in between is overwritten with the old recall count. Real Redis lock, real LanceDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidateBatch, type ConsolidateDeps } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { StoreMemory } from '../../pipelines/reason/adapters.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { useTestEnv } from '../helpers/env.js';
import { EPOCH } from '../helpers/events.js';
import { streamEvents } from '../helpers/stream-events.js';

const env = useTestEnv();

describe('reinforcement beside a consolidate worker', () => {
  let context: EngramContext;

  beforeAll(async () => {
    context = await EngramContext.open(env.loaded(), silentLogger());
  });
  afterAll(async () => {
    await context?.close();
  });

  it('counts every recall from two answering processes while the recalled event keeps growing', async () => {
    const loaded = env.loaded();
    const dir = mkdtempSync(join(tmpdir(), 'engram-reinforce-'));
    // Three stores and three locks on their own connections, as three processes would have.
    const open = () => MemoryStore.open(join(dir, 'lancedb'));
    const [writer, apiA, apiB] = await Promise.all([open(), open(), open()]);
    const lock = (name: string, waitMs?: number) => new MemoryWriteLock(context.redis.connection(name), loaded.config.redis.prefix, waitMs ? { waitMs } : {});
    const summarizer = makeSummarizer(new LlmClient(loaded.config.llm), async () => undefined, { maxImages: 0 });
    const deps = (store: MemoryStore): ConsolidateDeps => ({ store, summarizer, memory: loaded.config.memory });
    try {
      // One long scene: every later event continues (is merged into) the first one's row.
      const events = streamEvents({ streams: 1, perStream: 9, sceneEvents: 9, dims: 32, prefix: 'recall' });
      const first = events[0]!;
      await consolidateBatch([first], deps(writer));
      const answering = [new StoreMemory(apiA, { writeLock: lock('api-a', loaded.config.reason.reinforceLockWaitMs) }), new StoreMemory(apiB, { writeLock: lock('api-b', loaded.config.reason.reinforceLockWaitMs) })];
      const writerLock = lock('consolidate');
      const recalls = 6;
      await Promise.all([
        (async () => {
          for (let i = 1; i < events.length; i += 2) await writerLock.run(() => consolidateBatch(events.slice(i, i + 2), deps(writer)));
        })(),
        ...answering.map(async (memory, k) => {
          for (let r = 0; r < recalls; r += 1) await memory.reinforce([first.id], EPOCH + 60_000 * (1 + r * 2 + k));
        }),
      ]);
      const [row] = await writer.getEvents([first.id]);
      // Every recall of both processes counted, and every event of the scene absorbed into the row.
      expect(row?.recallCount).toBe(2 * recalls);
      expect([...((await writer.eventDetail(first.id))?.mergedIds ?? [])].sort()).toEqual(events.map((e) => e.id).sort());
    } finally {
      await Promise.all([writer.close(), apiA.close(), apiB.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reinforcement that cannot get the lock in time says it was not made, and changes nothing', async () => {
    const loaded = env.loaded();
    const dir = mkdtempSync(join(tmpdir(), 'engram-reinforce-'));
    const store = await MemoryStore.open(join(dir, 'lancedb'));
    const summarizer = makeSummarizer(new LlmClient(loaded.config.llm), async () => undefined, { maxImages: 0 });
    try {
      const [event] = streamEvents({ streams: 1, perStream: 1, sceneEvents: 1, dims: 32, prefix: 'held' });
      await consolidateBatch([event!], { store, summarizer, memory: loaded.config.memory });
      const holder = new MemoryWriteLock(context.redis.connection('holder'), loaded.config.redis.prefix);
      const answering = new StoreMemory(store, { writeLock: new MemoryWriteLock(context.redis.connection('waiter'), loaded.config.redis.prefix, { waitMs: 1000 }) });
      let release = () => {};
      const held = holder.run(() => new Promise<void>((resolve) => (release = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Not "will retry": nothing retries a reinforcement.
      await expect(answering.reinforce([event!.id], EPOCH + 60_000)).rejects.toThrow(/stayed locked by another writer for 1 s; gave up waiting, so this write was not made/);
      release();
      await held;
      expect((await store.getEvents([event!.id]))[0]?.recallCount).toBe(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
