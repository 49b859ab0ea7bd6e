// Recording's cost: ingest CPU per stream-second of a live camera with and without recording, in
// the same process and run. The camera is a generated 1280x720 25 fps H.264 + AAC clip with a
// keyframe every 2 s (a typical camera; car-detection.mp4's keyframes are too rare for a viewer
// joining mid-stream to find its picture size in 2 s), served as live MPEG-TS over TCP in real time; ingest runs the real stage (ffmpeg, Redis chunks) with a stand-in
// perceive that takes each chunk as it comes. CPU is this process's (node: ingest, chunk writes,
// the stand-in) plus the ingest ffmpeg's (from /proc), per stream-second decoded. Runs alternate
// off/on `--pairs` times (default 3) for `--seconds` each (default 20); the ratio reported is the
// median of the pairs' on/off ratios (goal: at most 1.05).
// It also reports the live tail: how long after a segment's wall-clock end it is listed in the
// index (what another host can export). With --s3 the recordings go to an s3rver started in this
// process (storage.blobs s3: each closed segment is uploaded before it is listed); the CPU then
// includes the server's, so compare the tail, not the ratio, against a run without --s3.
// Run: npx tsx test/bench/recording.ts [--seconds N] [--pairs N] [--segment S] [--s3]   (prints JSON)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { Role } from '../../pipelines/jobs.js';
import { ingestStream, type IngestDeps } from '../../pipelines/ingest/ingest-stream.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { decode } from '../../pipelines/repositories/media.js';
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { ingestDeps } from '../../services/ingest/main.js';
import { EngramContext } from '../../services/runtime/context.js';
import { LiveTsServer, generateVideo } from '../helpers/media.js';
import { startS3 } from '../helpers/s3-server.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('--seconds', 20);
const pairs = arg('--pairs', 3);
const onS3 = process.argv.includes('--s3');
/** recordings.segmentSeconds; a short one gives more samples of the tail. */
const segmentSeconds = arg('--segment', 10);

/** utime + stime of a process in seconds, or undefined once it is gone. */
function procCpu(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface RunResult {
  recording: boolean;
  streamSeconds: number;
  nodeCpuS: number;
  ffmpegCpuS: number;
  cpuPerStreamSecond: number;
  recordedBytes: number;
  /** Per segment: ms from its wall-clock end until the index listed it (polled every 100 ms). */
  tailMs: number[];
}

async function measure(context: EngramContext, base: IngestDeps, url: string, name: string, recording: boolean): Promise<RunResult> {
  const redis = context.redis.connection('bench');
  const prefix = context.config.redis.prefix;
  const streams = new StreamRepository(redis, prefix, context.queues);
  const chunks = new ChunkStore(redis, prefix, 600);
  const ffmpegCpu = new Map<number, number>();
  const sessions: { pid: number | undefined }[] = [];
  const { recording: recordingDeps, ...withoutRecording } = base;
  const deps: IngestDeps = {
    ...(recording && recordingDeps ? { ...withoutRecording, recording: recordingDeps } : withoutRecording),
    decode: (plan, handlers, signal, threshold) => {
      const session = decode(plan, handlers, signal, threshold);
      sessions.push(session);
      return session;
    },
  };
  // ffmpeg's CPU is read while it runs: /proc forgets a process once it is reaped.
  const sample = setInterval(() => {
    for (const s of sessions) {
      if (s.pid === undefined) continue;
      const cpu = procCpu(s.pid);
      if (cpu !== undefined) ffmpegCpu.set(s.pid, Math.max(cpu, ffmpegCpu.get(s.pid) ?? 0));
    }
  }, 100);
  const recordings = RecordingRepository.local(redis, prefix, context.paths.recordingsDir);
  const listedAt = new Map<string, number>();
  const watch = setInterval(() => {
    void recordings.list(name, 0, Date.now() + 3_600_000).then((segments) => {
      for (const segment of segments) if (!listedAt.has(segment.file)) listedAt.set(segment.file, Date.now() - segment.wallEnd);
    });
  }, 100);
  // The stand-in perceive: takes every chunk as it arrives, so live ingest never drops keyframes.
  let taken = 0;
  const consume = setInterval(() => {
    void (async () => {
      const info = await streams.get(name);
      for (; taken < (info?.chunks ?? 0); taken += 1) {
        await chunks.delete(name, taken);
        await streams.stageProgress(name, Role.Perceive, -1);
      }
    })().catch(() => undefined);
  }, 100);
  await streams.add({ name, source: url, live: true });
  const controller = new AbortController();
  const cpu0 = process.cpuUsage();
  const running = ingestStream(deps, name, undefined, controller.signal);
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  await streams.stop(name);
  await running;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sample);
  clearInterval(consume);
  clearInterval(watch);
  const info = (await streams.get(name))!;
  const recordedBytes = (await recordings.bytes())[name] ?? 0;
  const nodeCpuS = (cpu.user + cpu.system) / 1e6;
  const ffmpegCpuS = [...ffmpegCpu.values()].reduce((a, b) => a + b, 0);
  return { recording, streamSeconds: info.mediaTime, nodeCpuS, ffmpegCpuS, cpuPerStreamSecond: (nodeCpuS + ffmpegCpuS) / Math.max(info.mediaTime, 1e-9), recordedBytes, tailMs: [...listedAt.values()] };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-rec-'));
  const s3 = onS3 ? await startS3() : undefined;
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, recordings: { segmentSeconds }, ...(s3 ? { storage: s3.storage({ prefix: 'blobs/' }) } : {}) } });
  const context = await EngramContext.open(loaded, silentLogger());
  const clip = await generateVideo(dataDir, 'camera', { duration: 60, size: '1280x720', fps: 25, audio: 'sine', outputOptions: ['-g', '50'] });
  const camera = new LiveTsServer(clip);
  await camera.start();
  try {
    const base = ingestDeps(context);
    const runs: RunResult[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < pairs; i += 1) {
      const off = await measure(context, base, camera.url, `off-${i}`, false);
      const on = await measure(context, base, camera.url, `on-${i}`, true);
      runs.push(off, on);
      ratios.push(on.cpuPerStreamSecond / off.cpuPerStreamSecond);
      process.stderr.write(`pair ${i + 1}/${pairs}: off ${off.cpuPerStreamSecond.toFixed(4)} on ${on.cpuPerStreamSecond.toFixed(4)} cpu-s per stream-s\n`);
    }
    const round = (n: number) => Number(n.toFixed(4));
    process.stdout.write(
      `${JSON.stringify(
        {
          source: 'generated 1280x720 25 fps H.264 (keyframe every 2 s) + AAC, as live MPEG-TS over TCP in real time',
          recordingsTo: s3 ? 's3rver (storage.blobs s3), in this process' : 'local recordings.dir',
          // The last segment of each run is listed as the run closes, not as it is written: left out.
          tailMsMedian: round(median(runs.filter((r) => r.recording).flatMap((r) => r.tailMs.slice(0, -1)))),
          tailMsMax: round(Math.max(...runs.filter((r) => r.recording).flatMap((r) => r.tailMs.slice(0, -1)))),
          secondsPerRun: seconds,
          segmentSeconds,
          pairs,
          onOverOffMedian: round(median(ratios)),
          ratios: ratios.map(round),
          goal: 1.05,
          runs: runs.map(({ tailMs: _tail, ...r }) => ({ ...r, nodeCpuS: round(r.nodeCpuS), ffmpegCpuS: round(r.ffmpegCpuS), cpuPerStreamSecond: round(r.cpuPerStreamSecond), streamSeconds: round(r.streamSeconds) })),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await camera.stop();
    await context.close();
    await s3?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
