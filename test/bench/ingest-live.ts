// The ingest path alone for N simultaneous live streams: CPU seconds per stream-second spent by
// ingest's ffmpeg decoders, by this Node process (ingest, and a stand-in perception that takes
// each chunk as soon as it is stored: GET, DEL, settle) and by redis-server, with the lag from
// capture to stored chunk and the keyframes dropped. The cameras are real footage
// (car-detection.mp4 re-encoded with a keyframe every second, looped) played in real time as
// MPEG-TS over local TCP; their own ffmpeg processes are not counted.
// --threads 0,1 runs each stream count once per ingest.liveDecoderThreads value, in that order
// (0 = ffmpeg's default threading), to compare them in one run.
// Run: npx tsx test/bench/ingest-live.ts [--streams 1,4,8] [--seconds 20] [--threads 1]   (prints JSON)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { Role } from '../../pipelines/jobs.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { CAR_DETECTION, LiveTsServer, SHARED_MEDIA, ffmpegRun } from '../helpers/media.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const counts = arg('streams', '1,4,8').split(',').map(Number);
const seconds = Number(arg('seconds', '20'));
const threadChoices = arg('threads', '1').split(',').map(Number);
/** Connecting, probing and the first chunks are not steady state. */
const warmupSeconds = 6;
const cacheDir = join(tmpdir(), 'engram-bench-media');
const TICK_S = 100; // USER_HZ on Linux

async function liveSource(): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, 'car-detection-gop1s.ts');
  if (!existsSync(file)) await ffmpegRun(['-i', CAR_DETECTION, '-c:v', 'libx264', '-preset', 'veryfast', '-g', '12', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mpegts', file]);
  return file;
}

/** CPU seconds so far of this process's live ingest decoders (children whose command has a filter graph). */
function decoderCpuS(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('-filter_complex')) continue;
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICK_S);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const ownCpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function trial(n: number, source: string, liveDecoderThreads: number) {
  const servers = Array.from({ length: n }, () => new LiveTsServer(source));
  await Promise.all(servers.map((s) => s.start()));
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, ingest: { fileRoots: [SHARED_MEDIA], liveDecoderThreads }, recordings: { enabled: false } } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    const redis = context.redis.connection('bench');
    const prefix = loaded.config.redis.prefix;
    const streams = new StreamRepository(redis, prefix, context.queues);
    const chunks = new ChunkStore(redis, prefix, 600);
    await startRoles(context, [Role.Ingest]);
    const names = servers.map((_s, i) => `live-${i}`);
    const consumed = new Map(names.map((name) => [name, 0]));
    const lags: number[] = [];
    let measuring = false;
    let consuming = true;
    // Stand-in perception: takes each stored chunk at once, so ingest never waits or drops.
    const consumer = (async () => {
      while (consuming) {
        for (const name of names) {
          const target = (await streams.get(name))?.chunks ?? 0;
          for (let seq = consumed.get(name)!; seq < target; seq += 1) {
            const chunk = await chunks.get(name, seq);
            if (chunk && measuring) lags.push(Date.now() - (chunk.wallStart + (chunk.end - chunk.start) * 1000));
            await chunks.delete(name, seq);
            await streams.stageProgress(name, Role.Perceive, -1);
            consumed.set(name, seq + 1);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const redisCpuS = async () => {
      const text = await redis.info('cpu');
      return Number(/used_cpu_user:([\d.]+)/.exec(text)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(text)![1]);
    };
    await Promise.all(servers.map((s, i) => streams.add({ name: names[i]!, source: s.url, live: true })));
    await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
    measuring = true;
    const ff0 = decoderCpuS();
    const node0 = ownCpuS();
    const redis0 = await redisCpuS();
    const dropped0 = await Promise.all(names.map(async (name) => (await streams.get(name))?.droppedFrames ?? 0));
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wallS = (performance.now() - started) / 1000;
    const ff1 = decoderCpuS();
    const nodeS = ownCpuS() - node0;
    const redisS = (await redisCpuS()) - redis0;
    measuring = false;
    const dropped = (await Promise.all(names.map(async (name) => (await streams.get(name))?.droppedFrames ?? 0))).reduce((a, b, i) => a + b - dropped0[i]!, 0);
    // Decoders present over the whole window; one that restarted is counted from its start.
    let ffmpegS = 0;
    for (const [pid, cpu] of ff1) ffmpegS += cpu - (ff0.get(pid) ?? 0);
    consuming = false;
    await consumer;
    await Promise.all(names.map((name) => streams.stop(name)));
    const streamSeconds = n * wallS;
    const per = (cpu: number) => Number((cpu / streamSeconds).toFixed(4));
    return {
      streams: n,
      liveDecoderThreads,
      decoders: ff1.size,
      windowS: Number(wallS.toFixed(1)),
      cpuSPerStreamS: { ffmpeg: per(ffmpegS), node: per(nodeS), redis: per(redisS), total: per(ffmpegS + nodeS + redisS) },
      /** How many such streams the ingest path alone would fill 2 cores with, at this cost. */
      streamsPerTwoCores: Number((2 / ((ffmpegS + nodeS + redisS) / streamSeconds)).toFixed(1)),
      p50LagMs: Math.round(percentile(lags, 50)),
      p95LagMs: Math.round(percentile(lags, 95)),
      droppedKeyframes: dropped,
    };
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const source = await liveSource();
const trials = [];
for (const n of counts) for (const threads of threadChoices) trials.push(await trial(n, source, threads));
process.stdout.write(`${JSON.stringify({ bench: 'ingest-live', machine: { cpus: cpus().length, loadAverage: loadavg().map((l) => Number(l.toFixed(1))) }, keyframesPerSecond: 1, trials }, null, 2)}\n`);
process.exit(0);
