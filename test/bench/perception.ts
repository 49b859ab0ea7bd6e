// Perception throughput with the models that need no download (visual signature, audio levels,
// Silero VAD, PaddleOCR), through the real ingest, perceive and segment roles in one process:
//   - file: media seconds per wall second for one file, next to bare `ffmpeg -vf fps=1` decoding
//     of the same file in the same run (the ratio is the number to compare across machines);
//   - live: the most simultaneous live streams (camera footage served in real time over TCP,
//     one keyframe per second) this machine keeps up with: p95 lag from capture to perception record
//     under 2 s and no keyframe dropped.
// Run: npx tsx test/bench/perception.ts [--seconds 30] [--max 32]   (prints JSON)
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { CAR_DETECTION, LiveTsServer, SHARED_MEDIA, ffmpegRun, mediaDuration } from '../helpers/media.js';

const run = promisify(execFile);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 30);
/** Connection, probing and the first chunks are not steady state. */
const warmupSeconds = 10;
const maxStreams = arg('max', 32);
const cacheDir = join(tmpdir(), 'engram-bench-media');

async function withEngram<T>(fn: (ctx: { context: EngramContext; streams: StreamRepository; memory: ShortTermMemory }) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, ingest: { fileRoots: [SHARED_MEDIA, cacheDir] } } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    await startRoles(context, [Role.Ingest, Role.Perceive, Role.Segment]);
    const redis = context.redis.connection('bench');
    const streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
    const memory = new ShortTermMemory(redis, loaded.config.redis.prefix, { spanSeconds: 3600 });
    return await fn({ context, streams, memory });
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function fileThroughput(file: string) {
  const duration = await mediaDuration(file);
  const bareStarted = performance.now();
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-vf', 'fps=1', '-f', 'null', '-']);
  const bareMs = performance.now() - bareStarted;
  return withEngram(async ({ streams, memory }) => {
    const started = performance.now();
    await streams.add({ name: 'file', source: file });
    const info = await streams.waitUntilProcessed('file', { stages: [Role.Perceive, Role.Segment] });
    const ms = performance.now() - started;
    const state = await memory.loadState('file');
    return {
      file,
      mediaSeconds: duration,
      state: info.state,
      elapsedMs: Math.round(ms),
      mediaSecondsPerSecond: +(duration / (ms / 1000)).toFixed(2),
      bareFfmpegMediaSecondsPerSecond: +(duration / (bareMs / 1000)).toFixed(2),
      ratioToBareFfmpeg: +(bareMs / ms).toFixed(3),
      events: state?.eventsClosed ?? 0,
    };
  });
}

/**
 * The live source: real camera footage (car-detection.mp4, looped) remuxed to MPEG-TS, which
 * LiveTsServer plays in real time to every client like a network camera.
 */
async function liveSource(): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, 'car-detection-gop1s.ts');
  // Re-encoded with a keyframe every second, as cameras send them: a client joining mid-stream
  // (each engram stream connects at a random point of the loop) must find one soon.
  if (!existsSync(file)) await ffmpegRun(['-i', CAR_DETECTION, '-c:v', 'libx264', '-preset', 'veryfast', '-g', '12', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mpegts', file]);
  return file;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Infinity;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function liveTrial(n: number, source: string) {
  const servers = Array.from({ length: n }, () => new LiveTsServer(source));
  await Promise.all(servers.map((s) => s.start()));
  try {
    return await withEngram(async ({ context, streams, memory }) => {
      const names = servers.map((_s, i) => `live-${i}`);
      await Promise.all(servers.map((s, i) => streams.add({ name: names[i] as string, source: s.url, live: true })));
      const started = Date.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const warm = started + warmupSeconds * 1000;
      const lags: number[] = [];
      // Where the lag comes from: ingest (media end to chunk queued), waiting in the perceive
      // queue, and perception itself (BullMQ's job timestamps).
      const ingestLags: number[] = [];
      const queueWaits: number[] = [];
      const perceiveTimes: number[] = [];
      const jobs = await context.queues.queue(QueueName.Perceive).getJobs(['completed']);
      const jobOf = new Map(jobs.map((j) => [`${j.data.stream}/${j.data.seq}`, j]));
      let dropped = 0;
      let records = 0;
      for (const name of names) {
        for (const entry of await memory.entries(name)) {
          const arrived = Number(entry.id.split('-')[0]);
          const mediaEnd = entry.record.wallStart + (entry.record.end - entry.record.start) * 1000;
          records += 1;
          if (arrived < warm) continue;
          lags.push(arrived - mediaEnd);
          const job = jobOf.get(`${name}/${entry.record.seq}`);
          if (job?.processedOn && job.finishedOn) {
            ingestLags.push(job.timestamp - mediaEnd);
            queueWaits.push(job.processedOn - job.timestamp);
            perceiveTimes.push(job.finishedOn - job.processedOn);
          }
        }
        dropped += (await streams.get(name))?.droppedFrames ?? 0;
      }
      await Promise.all(names.map((name) => streams.stop(name)));
      const p95 = percentile(lags, 95);
      const expected = n * (seconds - warmupSeconds);
      // Keeping up: late by under 2 s, nothing dropped, and records for (nearly) every second.
      const keptUp = p95 < 2000 && dropped === 0 && lags.length >= expected * 0.8;
      return { streams: n, records, steadyRecords: lags.length, expectedSteadyRecords: expected, p50LagMs: Math.round(percentile(lags, 50)), p95LagMs: Math.round(p95), p50IngestMs: Math.round(percentile(ingestLags, 50)), p50QueuedMs: Math.round(percentile(queueWaits, 50)), p50PerceiveMs: Math.round(percentile(perceiveTimes, 50)), droppedFrames: dropped, keptUp };
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const file = await fileThroughput(CAR_DETECTION);
const source = await liveSource();
const trials = [];
let best = 0;
let lo = 0;
let hi = 0;
// Double until a trial fails, then bisect between the last success and the failure.
for (let n = 1; n <= maxStreams; n *= 2) {
  const trial = await liveTrial(n, source);
  trials.push(trial);
  if (!trial.keptUp) {
    hi = n;
    break;
  }
  lo = n;
  best = n;
}
while (hi > 0 && hi - lo > 1) {
  const mid = Math.floor((lo + hi) / 2);
  const trial = await liveTrial(mid, source);
  trials.push(trial);
  if (trial.keptUp) {
    lo = mid;
    best = mid;
  } else hi = mid;
}
process.stdout.write(
  `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model }, models: 'no-download (visual signature, levels, silero-vad-v5, paddleocr-v4)', file, live: { keyframesPerSecond: 1, trialSeconds: seconds, maxStreamsKeptUp: best, trials } }, null, 2)}\n`,
);
