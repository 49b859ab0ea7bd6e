// Two consolidate workers (two processes, as on two hosts) on one Redis and one LanceDB, fed
// closed events from several streams whose scenes merge: every event ends up in memory exactly
// once, as its own row or absorbed into one, with every moment visible, and both workers did work.
// And two writers racing on one scene: under the write lock they make what one writer would.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { separateMoments } from '../../pipelines/consolidate/completion.js';
import { consolidateBatch, type ConsolidateDeps } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { JobName, QueueName } from '../../pipelines/jobs.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { useTestEnv } from '../helpers/env.js';
import { streamEvents } from '../helpers/stream-events.js';

const env = useTestEnv();

interface Worker {
  child: ChildProcess;
  stderr: string;
  ready: Promise<void>;
  exited: Promise<void>;
}

function startWorker(name: string): Worker {
  // Small batches and few jobs per worker, so the 60 events are shared between the two.
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'test/medium/consolidate-worker-child.ts'), name], {
    env: env.childEnv({ ENGRAM_LOG__LEVEL: 'debug', ENGRAM_MEMORY__CONSOLIDATE_BATCH_EVENTS: '2', ENGRAM_MEMORY__CONSOLIDATE_BATCH_MS: '20', ENGRAM_QUEUES__CONSOLIDATE__CONCURRENCY: '4' }),
    cwd: packageRoot(),
  });
  const worker: Worker = { child, stderr: '', ready: Promise.resolve(), exited: Promise.resolve() };
  worker.ready = new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`worker ${name} exited with ${code}: ${worker.stderr.slice(-2000)}`)));
  });
  // 'close', not 'exit': the last stderr lines may still be in the pipe when the process exits.
  worker.exited = new Promise((resolve) => child.on('close', () => resolve()));
  child.stderr?.on('data', (d: Buffer) => (worker.stderr += d.toString()));
  return worker;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('two consolidate workers', () => {
  let context: EngramContext;
  const workers: Worker[] = [];

  beforeAll(async () => {
    context = await EngramContext.open(env.loaded(), silentLogger());
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await context?.close();
  });

  it('store every event exactly once, sharing the work', async () => {
    const loaded = env.loaded();
    const inbox = new EventInbox(context.redis.connection('test-inbox'), loaded.config.redis.prefix);
    // Long scenes: both workers hold events that continue the same row at the same time, the case
    // where two unserialised writers would each merge into that row and one merge would be lost.
    const events = streamEvents({ streams: 2, perStream: 30, sceneEvents: 30, dims: 32 });
    for (const e of events) await inbox.put(e);
    workers.push(startWorker('a'), startWorker('b'));
    await Promise.all(workers.map((w) => w.ready));
    for (const e of events) await context.queues.add(JobName.ConsolidateEvent, { stream: e.stream, eventId: e.id }, { jobId: e.id });
    const queue = context.queues.queue(QueueName.Consolidate);
    // Per job: the scheduled maintenance jobs complete on the same queue.
    const states = await until(() => Promise.all(events.map((e) => queue.getJobState(e.id))), (s) => s.every((x) => x === 'completed' || x === 'failed'), 120_000);
    expect(states.filter((x) => x === 'failed')).toEqual([]);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));

    // Both processes consolidated some of the events.
    const done = workers.map((w) => w.stderr.split('\n').filter((l) => l.includes('"msg":"consolidated"')).length);
    expect(done.reduce((a, b) => a + b, 0)).toBe(events.length);
    expect(Math.min(...done)).toBeGreaterThan(0);

    const store = await MemoryStore.open(loaded.paths.lancedbUri);
    try {
      const rows = await store.listEvents({ limit: 10_000 });
      const absorbed = (await Promise.all(rows.map(async (r) => (await store.eventDetail(r.id))?.mergedIds ?? []))).flat();
      // Each closed event in exactly one row, none lost, none twice; scenes did merge.
      expect(absorbed.sort()).toEqual(events.map((e) => e.id).sort());
      expect(rows.length).toBeLessThan(events.length);
      // Every kept moment was written once and points at a row that exists.
      const kept = events.reduce((n, e) => n + separateMoments(e.moments, loaded.config.memory.separationSimilarity).length, 0);
      expect(kept).toBeGreaterThan(events.length * 9);
      expect((await store.tableStats()).tables.moments.rows).toBe(kept);
      let visible = 0;
      for (const s of ['cam0', 'cam1']) visible += (await store.momentsInWindow(s, 0, 1e6)).length;
      expect(visible).toBe(kept);
    } finally {
      await store.close();
    }
  });

  it('two writers continuing one scene at once make the memory one writer would: the write lock makes read-merge-write one step', async () => {
    const loaded = env.loaded();
    const dir = mkdtempSync(join(tmpdir(), 'engram-lock-'));
    // Two stores and two locks on their own connections, as two processes would have.
    const [a, b] = await Promise.all([MemoryStore.open(join(dir, 'lancedb')), MemoryStore.open(join(dir, 'lancedb'))]);
    const locks = [new MemoryWriteLock(context.redis.connection('lock-a'), loaded.config.redis.prefix), new MemoryWriteLock(context.redis.connection('lock-b'), loaded.config.redis.prefix)];
    const summarizer = makeSummarizer(new LlmClient(loaded.config.llm), async () => undefined, { maxImages: 0 });
    const deps = (store: MemoryStore): ConsolidateDeps => ({ store, summarizer, memory: loaded.config.memory });
    try {
      const events = streamEvents({ streams: 1, perStream: 5, sceneEvents: 5, dims: 32, prefix: 'gate' });
      await consolidateBatch(events.slice(0, 1), deps(a));
      // One scene: events 1-2 continue the stored first event and 3-4 continue them. Unserialised,
      // the second writer reads memory before the first has written, finds no event it continues,
      // and splits the scene into a second row; serialised, it sees the grown row and merges.
      await Promise.all([
        locks[0]!.run(() => consolidateBatch(events.slice(1, 3), deps(a))),
        locks[1]!.run(() => consolidateBatch(events.slice(3, 5), deps(b))),
      ]);
      const rows = await a.listEvents({});
      expect(rows.map((r) => r.id)).toEqual([events[0]!.id]);
      const absorbed = (await Promise.all(rows.map(async (r) => (await a.eventDetail(r.id))?.mergedIds ?? []))).flat();
      expect(absorbed.sort()).toEqual(events.map((e) => e.id).sort());
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
