// Consolidation throughput: closed events from 16 simulated streams (10 s events with ten 512-d
// keyframe moments each, scenes that continue over a few events) through the real consolidate
// role (BullMQ on a managed Redis, LanceDB in a temp directory), written one at a time (batches of
// one, one job at a time: the old behaviour) and in batches (the defaults), in the same process.
// Each run starts from an empty store and works through a backlog of queued events, so its rate
// is what the role sustains; the first and second half of the batched run are reported apart to
// show the rate holds as the tables grow. Also the cost of the memory write lock per batch.
// Run: npx tsx test/bench/consolidate.ts [--events 640] [--baseline-events 64]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { drainConsolidateBacklog } from '../helpers/consolidate-backlog.js';
import { streamEvents } from '../helpers/stream-events.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = 16;
const total = arg('events', 640);
const baselineTotal = arg('baseline-events', 64);

interface Run {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  rows: number;
  halves?: { eventsPerSecond: number }[];
}

async function run(events: ClosedEvent[], overrides: Record<string, unknown>): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-cons-'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, ...overrides } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    // The backlog is queued before the role starts; the clock starts when the first job is taken.
    const { t0, half, t1, roles } = await drainConsolidateBacklog(context, events);
    const store = await MemoryStore.open(loaded.paths.lancedbUri);
    const rows = await store.countEvents();
    await store.close();
    await roles.close();
    const seconds = (t1 - t0) / 1000;
    const out: Run = { events: events.length, seconds: Number(seconds.toFixed(2)), eventsPerSecond: Number((events.length / seconds).toFixed(2)), rows };
    if (half) {
      out.halves = [
        { eventsPerSecond: Number((events.length / 2 / ((half - t0) / 1000)).toFixed(2)) },
        { eventsPerSecond: Number((events.length / 2 / ((t1 - half) / 1000)).toFixed(2)) },
      ];
    }
    return out;
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function lockCost(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-lock-'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' } } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    const lock = new MemoryWriteLock(context.redis.connection('bench-lock'), loaded.config.redis.prefix);
    const n = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1) await lock.run(async () => undefined);
    return Number(((performance.now() - t0) / n).toFixed(3));
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const perStream = Math.ceil(total / STREAMS);
const all = streamEvents({ streams: STREAMS, perStream, sceneEvents: 4, dims: 512 });
// The baseline gets fewer events of the same kind (it is slow); rates are per second either way.
const baselineEvents = streamEvents({ streams: STREAMS, perStream: Math.ceil(baselineTotal / STREAMS), sceneEvents: 4, dims: 512 });
const oneAtATime = await run(baselineEvents, { memory: { consolidateBatchEvents: 1, consolidateBatchMs: 0 }, queues: { consolidate: { concurrency: 1 } } });
const batched = await run(all, {});
process.stdout.write(
  `${JSON.stringify(
    {
      streams: STREAMS,
      momentsPerEvent: 10,
      dims: 512,
      oneAtATime,
      batched,
      speedup: Number((batched.eventsPerSecond / oneAtATime.eventsPerSecond).toFixed(2)),
      lockMsPerBatch: await lockCost(),
      note: 'shared 2-core machine; rates from a queued backlog through the real consolidate role',
    },
    null,
    2,
  )}\n`,
);
