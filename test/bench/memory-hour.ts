// Bytes of long-term memory per stream-hour, through the whole pipeline: car-detection.mp4 looped
// to --minutes (default 60) of media is ingested with `engram ingest` (every role in-process, the
// shipped models only), then the hour's episodes are built and the maintenance run prunes moments
// as it would a month later. Prints JSON: LanceDB bytes and rows before and after pruning, scaled
// to one stream-hour when --minutes is not 60, beside the pipeline's own elapsed time.
// Run: npm run build && npx tsx test/bench/memory-hour.ts [--minutes 60]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigSchema } from '../../config/schema.js';
import { packageRoot } from '../../config/load.js';
import { runBuildEpisodes, runMaintainMemory } from '../../pipelines/consolidate/maintenance.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '60' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const DAY_MS = 86_400_000;

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'engram-bench-hour-'));
const looped = join(dir, 'car-detection-looped.mp4');
// Stream copy: the loop costs no decoding, so ingest sees the original frames over and over.
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-stream_loop', '-1', '-i', join(root, '../shared/media/car-detection.mp4'), '-t', String(minutes * 60), '-c', 'copy', looped]);

const dataDir = join(dir, 'data');
const started = performance.now();
const ingest = spawnSync(process.execPath, [join(root, 'bin/engram.js'), 'ingest', looped, '--name', 'road', '--json'], {
  env: { ...process.env, ENGRAM_DATA_DIR: dataDir, ENGRAM_LOG__LEVEL: 'warn', REDIS_URL: '' },
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const elapsedS = (performance.now() - started) / 1000;
if (ingest.status !== 0) throw new Error(`engram ingest failed (${ingest.status}): ${ingest.stderr.slice(-2000)}`);
const result = JSON.parse(ingest.stdout) as { chunks: number; events: number; durationS: number };

const config = ConfigSchema.parse({});
const store = await MemoryStore.open(join(dataDir, 'lancedb'));
const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });
const now = Date.now() + 3_600_000;
await runBuildEpisodes(store, config.memory, now);
await store.compact({ keepVersionsMs: 0 });
const before = await store.tableStats();
// A month later: moments past memory.momentMaxAgeDays (or too weak) go, events and episodes stay.
const pruned = await runMaintainMemory({ store, deleteBlobs: async () => 0, summarizer, llmConfigured: false }, config.memory, now + 31 * DAY_MS);
await store.compact({ keepVersionsMs: 0 });
const after = await store.tableStats();
await store.close();
rmSync(dir, { recursive: true, force: true });

const perHour = (bytes: number | null | undefined) => Math.round(((bytes ?? 0) * 60) / minutes);
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'memory-hour',
      source: `car-detection.mp4 looped to ${minutes} min`,
      ingest: { mediaS: result.durationS, chunks: result.chunks, events: result.events, elapsedS: Number(elapsedS.toFixed(1)), realtimeFactor: Number((result.durationS / elapsedS).toFixed(2)) },
      beforePruning: { bytes: before.diskBytes, bytesPerStreamHour: perHour(before.diskBytes), events: before.tables.events.rows, moments: before.tables.moments.rows, episodes: before.tables.episodes.rows },
      afterPruning: { bytes: after.diskBytes, bytesPerStreamHour: perHour(after.diskBytes), events: after.tables.events.rows, moments: after.tables.moments.rows, episodes: after.tables.episodes.rows },
      pruned,
      note: 'LanceDB directory only; thumbnails are JPEG blobs beside it and are pruned with their moments',
    },
    null,
    2,
  )}\n`,
);
