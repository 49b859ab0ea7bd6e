// Where the wall time of one file ingest goes, for the fixed cost that makes short files slow
// against bare ffmpeg: ffprobe alone, the ingest ffmpeg command alone (its outputs to /dev/null),
// and the phases of a real ingest through the queue (enqueue -> job picked up -> probed and
// ffmpeg started -> first chunk stored -> last chunk stored -> waitUntilProcessed returns).
// Run: npx tsx test/bench/ingest-startup.ts [FILE]   (prints JSON; default car-detection.mp4)
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { buildDecodePlan, fitSize } from '../../pipelines/ingest/decode-plan.js';
import { resolveSource } from '../../pipelines/ingest/source.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { liveChannel } from '../../pipelines/repositories/live.js';
import { localFiles, probe } from '../../pipelines/repositories/media.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { CAR_DETECTION } from '../helpers/media.js';

const file = process.argv[2] ?? CAR_DETECTION;
const runs = 3;
const ms = (n: number) => Number(n.toFixed(0));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(command: string, args: string[], extraFds = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const sinks = Array.from({ length: extraFds }, () => openSync('/dev/null', 'w'));
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore', ...sinks] });
    child.on('error', reject);
    child.on('exit', (code) => {
      for (const fd of sinks) closeSync(fd);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${command} exited with ${code}`));
    });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, ingest: { fileRoots: [dirname(file)] } } });
const context = await EngramContext.open(loaded, silentLogger());
const config = loaded.config.ingest;
const spec = resolveSource(file, { allowedProtocols: config.allowedProtocols, fileRoots: [dirname(file)], timeoutMs: config.probeTimeoutMs, cwd: process.cwd(), files: localFiles });
const info = await probe(spec, { timeoutMs: config.probeTimeoutMs });
const plan = buildDecodePlan(spec, info, { config });

const size = fitSize(info.video?.width ?? 2, info.video?.height ?? 2, config.frameMaxSide);
const bareArgs = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-vf', `fps=1,scale=${size.width}:${size.height}`, '-f', 'null', '-'];
const phases: Record<string, number[]> = { bareFfmpeg: [], ffprobe: [], ingestFfmpegAlone: [], total: [], pickedUp: [], ffmpegStarted: [], firstChunk: [], lastChunk: [], processed: [] };
try {
  const redis = context.redis.connection('bench');
  const streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  const chunks = new ChunkStore(redis, loaded.config.redis.prefix, 600);
  const subscriber = context.redis.connection('bench-live').duplicate();
  await startRoles(context, [Role.Ingest]);
  for (let run = 0; run < runs; run += 1) {
    phases.bareFfmpeg!.push(await timed('ffmpeg', bareArgs));
    phases.ffprobe!.push(await timed('ffprobe', ['-show_streams', '-show_format', ...spec.probeOptions, spec.input]));
    phases.ingestFfmpegAlone!.push(await timed('ffmpeg', plan.args, 3));

    const name = `startup-${run}`;
    const marks: Record<string, number> = {};
    const onMessage = (_: string, text: string) => {
      const message = JSON.parse(text) as { stream?: string; state?: string };
      if (message.stream === name && message.state === 'running') marks.ffmpegStarted ??= performance.now();
    };
    subscriber.on('message', onMessage);
    await subscriber.subscribe(liveChannel(loaded.config.redis.prefix));
    let consumed = 0;
    let consuming = true;
    // An instant perception stage, as in test/bench/ingest.ts.
    const consumer = (async () => {
      while (consuming) {
        const target = (await streams.get(name))?.chunks ?? 0;
        if (target > 0) marks.firstChunk ??= performance.now();
        for (; consumed < target; consumed += 1) {
          await chunks.delete(name, consumed);
          await streams.stageProgress(name, Role.Perceive, -1);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const started = performance.now();
    await streams.add({ name, source: file });
    const result = await streams.waitUntilProcessed(name, { pollMs: 20 });
    marks.processed = performance.now();
    consuming = false;
    await consumer;
    subscriber.off('message', onMessage);
    if (result.state !== 'done') throw new Error(`${name}: ${result.state} ${result.error}`);
    const job = (await context.queues.queue(QueueName.Ingest).getJobs(['completed'])).find((j) => j.data.stream === name)!;
    // Job timestamps are epoch ms; performance.now() marks are relative to `started`.
    const epochStart = Date.now() - (performance.now() - started);
    phases.total!.push(marks.processed - started);
    phases.pickedUp!.push((job.processedOn ?? 0) - epochStart);
    phases.ffmpegStarted!.push((marks.ffmpegStarted ?? NaN) - started);
    phases.firstChunk!.push((marks.firstChunk ?? NaN) - started);
    phases.lastChunk!.push(result.updatedAt - epochStart);
    phases.processed!.push(marks.processed - started);
  }
  subscriber.disconnect();
  const out = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, ms(median(v))]));
  process.stdout.write(
    `${JSON.stringify({ bench: 'ingest-startup', file, runs, medianMs: out, note: 'pickedUp..processed are ms after streams.add of one ingest; lastChunk is the stream\'s last update (its terminal state)' }, null, 2)}\n`,
  );
} finally {
  await context.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
