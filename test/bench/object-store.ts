// LanceDB on object storage against a local directory, in the same process: consolidation
// throughput (closed events from 8 simulated streams through the real consolidate role, BullMQ on
// a managed Redis) and question latency (the reason stage's answerQuestion, as `engram query` and
// the API run it) with lancedbUri a temp directory, then s3://bench/memory on s3rver (the npm S3
// test server, over loopback HTTP) with the Redis commit lock. Blobs stay local in both: this
// measures memory, not thumbnails. The two stores are measured in alternating rounds so a load
// spike on a shared machine hits both; ratios are object store / local directory.
// Run: npx tsx test/bench/object-store.ts [--events 160] [--questions 20] [--rounds 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';
import { openReason } from '../../services/reason/open.js';
import { EngramContext } from '../../services/runtime/context.js';
import { lanceAccess } from '../../services/runtime/storage.js';
import { drainConsolidateBacklog } from '../helpers/consolidate-backlog.js';
import { startS3 } from '../helpers/s3-server.js';
import { streamEvents } from '../helpers/stream-events.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STREAMS = 8;
const total = arg('events', 160);
const questions = arg('questions', 20);
const rounds = arg('rounds', 2);

interface Measured {
  eventsPerSecond: number;
  rows: number;
  questionMs: { median: number; p90: number };
}

const QUESTIONS = ['what happened on cam1?', 'when was word 4 said?', 'what did cam3 see this morning?', 'word 8', 'show me everything on cam5'];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1));
}

async function measure(events: ClosedEvent[], storage: Record<string, unknown>): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-obj-'));
  const loaded: LoadedConfig = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, storage } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    const { t0, t1, roles } = await drainConsolidateBacklog(context, events);
    const seconds = (t1 - t0) / 1000;
    await roles.close();
    const store = await MemoryStore.open(loaded.paths.lancedbUri, lanceAccess(loaded, context.redis));
    const rows = await store.countEvents();
    await store.close();
    const runtime = await openReason(loaded, silentLogger(), context.redis, lanceAccess(loaded, context.redis));
    const latencies: number[] = [];
    try {
      // One question first, unmeasured: opening tables and the first index reads.
      await runtime.ask({ question: QUESTIONS[0]! }, AbortSignal.timeout(60_000));
      for (let i = 0; i < questions; i += 1) {
        const t = performance.now();
        await runtime.ask({ question: QUESTIONS[i % QUESTIONS.length]! }, AbortSignal.timeout(60_000));
        latencies.push(performance.now() - t);
      }
    } finally {
      await runtime.close();
    }
    return { eventsPerSecond: Number((events.length / seconds).toFixed(2)), rows, questionMs: { median: percentile(latencies, 0.5), p90: percentile(latencies, 0.9) } };
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const s3 = await startS3(['bench']);
const events = streamEvents({ streams: STREAMS, perStream: Math.ceil(total / STREAMS), sceneEvents: 4, dims: 512 });
const local: Measured[] = [];
const object: Measured[] = [];
try {
  for (let round = 0; round < rounds; round += 1) {
    local.push(await measure(events, {}));
    object.push(await measure(events, s3.storage({ bucket: 'bench', lancedbUri: `s3://bench/memory-${round}` })));
  }
} finally {
  await s3.close();
}
const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2));
const summary = (runs: Measured[]) => ({
  eventsPerSecond: mean(runs.map((r) => r.eventsPerSecond)),
  questionMedianMs: mean(runs.map((r) => r.questionMs.median)),
  questionP90Ms: mean(runs.map((r) => r.questionMs.p90)),
  rows: runs.map((r) => r.rows),
});
const l = summary(local);
const o = summary(object);
process.stdout.write(
  `${JSON.stringify(
    {
      events: events.length,
      streams: STREAMS,
      questionsPerRun: questions,
      rounds,
      localDirectory: { ...l, runs: local },
      objectStore: { ...o, runs: object },
      ratios: {
        consolidationThroughput: Number((o.eventsPerSecond / l.eventsPerSecond).toFixed(2)),
        questionMedianLatency: Number((o.questionMedianMs / l.questionMedianMs).toFixed(2)),
        questionP90Latency: Number((o.questionP90Ms / l.questionP90Ms).toFixed(2)),
      },
      note: 'object store = s3rver over loopback HTTP with the Redis commit lock; shared 2-core machine, same process, alternating rounds',
    },
    null,
    2,
  )}\n`,
);
