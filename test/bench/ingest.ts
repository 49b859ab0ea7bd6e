// Ingest throughput against bare ffmpeg, in the same run: media seconds chunked per wall second on
// car-detection.mp4 and on a generated 10-minute 1280x720 25 fps file, next to
// `ffmpeg -i FILE -vf fps=1,scale=... -f null -`, plus the peak Redis memory of one stream.
// The short clip is measured `--repeat` times (default 3), bare ffmpeg and ingest alternating, and
// reported by the median ratio: on a shared machine one pair swings from 0.35 to 0.95.
// Each run also reports where the CPU went, in CPU seconds per media second: this process (ingest,
// and the stand-in consumer on its worker thread), its child processes (ffmpeg) and redis-server
// (INFO cpu). The timed span is streams.add until the live channel says the stream is done.
// Run: npx tsx test/bench/ingest.ts [--minutes N] [--repeat N] [--short-only]   (prints JSON)
// (--minutes 0 or --short-only: the car clip only.)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../config/load.js';
import { Role } from '../../pipelines/jobs.js';
import { fitSize } from '../../pipelines/ingest/decode-plan.js';
import { LiveSubscriber, LiveType } from '../../pipelines/repositories/live.js';
import { StreamRepository, TERMINAL_STATES, type StreamState } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { CAR_DETECTION, SHARED_MEDIA, ffmpegRun, mediaDuration } from '../helpers/media.js';

const run = promisify(execFile);
const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
const repeatArg = process.argv.indexOf('--repeat');
const repeat = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : 3;
const shortOnly = process.argv.includes('--short-only') || minutes === 0;
const cacheDir = join(tmpdir(), 'engram-bench-media');

/** CPU seconds of this process's finished (waited-for) children: /proc/self/stat cutime + cstime. */
function childrenCpuS(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", field 3 is index 0: cutime and cstime are fields 16 and 17, in clock ticks.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const ownCpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function generated(): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `testsrc2-1280x720-25fps-${minutes}min.mp4`);
  if (!existsSync(file)) {
    // Written under a temporary name, so an interrupted run never leaves a short file in the cache.
    const partial = `${file}.partial.mp4`;
    await ffmpegRun([
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${minutes * 60}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${minutes * 60}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', partial,
    ]);
    renameSync(partial, file);
  }
  return file;
}

async function bareFfmpeg(file: string, width: number, height: number): Promise<{ ms: number; cpuS: number }> {
  const cpu0 = childrenCpuS();
  const started = performance.now();
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-vf', `fps=1,scale=${width}:${height}`, '-f', 'null', '-'], { maxBuffer: 1 << 24 });
  return { ms: performance.now() - started, cpuS: childrenCpuS() - cpu0 };
}

interface IngestRun {
  ms: number;
  chunks: number;
  keyframes: number;
  peakRedisBytes: number;
  /** CPU seconds during the ingest: this process, its ffprobe/ffmpeg children, redis-server. */
  cpuS: { node: number; ffmpeg: number; redis: number };
}

async function ingest(file: string, name: string): Promise<IngestRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' }, ingest: { fileRoots: [SHARED_MEDIA, cacheDir] } } });
  const context = await EngramContext.open(loaded, silentLogger());
  try {
    const redis = context.redis.connection('bench');
    const streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
    await startRoles(context, [Role.Ingest]);
    const memory = async (field: 'used_memory' | 'used_memory_peak') => Number(new RegExp(`${field}:(\\d+)`).exec(await redis.info('memory'))![1]);
    // The peak as redis-server itself tracks it (this context's own server, fresh for this run):
    // polling INFO from the timed process every 20 ms cost ingest's event loop a share of its time.
    const baseline = await memory('used_memory');
    // An instant perception stage (ingest-consumer.ts says why in a thread of its own).
    // Event-driven, like the end below (the live channel's state messages), rather than polling
    // every 20 ms: the polls cost this process CPU and the end up to one poll's latency, neither
    // of them engram's; what engram does (ffmpeg, chunk writes, checkpoints, job adds, state
    // changes) is the same, and the real perceive reads each chunk's bytes once, as this does.
    // Through tsx's API: a worker does not inherit the loader that runs this file as TypeScript.
    const entry = JSON.stringify(new URL('./ingest-consumer.ts', import.meta.url).href);
    const consumer = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); })`, { eval: true, workerData: { socketPath: context.redis.managed!.socketPath, prefix: loaded.config.redis.prefix, stream: name } });
    const consumed = new Promise<number>((resolve, reject) => {
      consumer.on('message', (message: unknown) => typeof message === 'object' && resolve((message as { consumed: number }).consumed));
      consumer.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      consumer.once('message', () => resolve());
      consumer.once('error', reject);
    });
    const live = new LiveSubscriber(context.redis, loaded.config.redis.prefix);
    let ended: () => void = () => undefined;
    const end = new Promise<void>((resolve) => (ended = resolve));
    await live.listen((message) => {
      if (message.type === LiveType.Stream && message.stream === name && TERMINAL_STATES.includes(message.state as StreamState)) ended();
    });
    const redisCpuS = async () => {
      const text = await redis.info('cpu');
      return Number(/used_cpu_user:([\d.]+)/.exec(text)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(text)![1]);
    };
    const cpu0 = { node: ownCpuS(), ffmpeg: childrenCpuS(), redis: await redisCpuS() };
    const started = performance.now();
    await streams.add({ name, source: file });
    await end;
    const info = (await streams.get(name))!;
    const ms = performance.now() - started;
    consumer.postMessage({ total: info.chunks });
    const taken = await consumed;
    await live.close();
    const cpuS = { node: ownCpuS() - cpu0.node, ffmpeg: childrenCpuS() - cpu0.ffmpeg, redis: (await redisCpuS()) - cpu0.redis };
    const peak = (await memory('used_memory_peak')) - baseline;
    if (info.state !== 'done') throw new Error(`${name}: ${info.state} ${info.error}`);
    if (taken !== info.chunks) throw new Error(`${name}: the stand-in consumer took ${taken} of ${info.chunks} chunks`);
    return { ms, chunks: info.chunks, keyframes: info.keyframes, peakRedisBytes: peak, cpuS };
  } finally {
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perMedia = (cpuS: number[], mediaS: number) => Number((median(cpuS) / mediaS).toFixed(4));

async function measure(label: string, file: string, width: number, height: number, runs = 1) {
  const duration = await mediaDuration(file);
  const pairs: { bare: { ms: number; cpuS: number }; ours: IngestRun }[] = [];
  for (let run = 0; run < runs; run += 1) {
    const bare = await bareFfmpeg(file, fitSize(width, height, 640).width, fitSize(width, height, 640).height);
    pairs.push({ bare, ours: await ingest(file, `${label}-${run}`) });
  }
  const ratios = pairs.map((p) => p.bare.ms / p.ours.ms);
  const mid = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  const { bare, ours } = pairs[ratios.indexOf(mid)]!;
  return {
    file: label,
    mediaS: Number(duration.toFixed(2)),
    runs,
    bareFfmpeg: { wallS: Number((bare.ms / 1000).toFixed(2)), mediaSPerWallS: Number((duration / (bare.ms / 1000)).toFixed(1)) },
    ingest: { wallS: Number((ours.ms / 1000).toFixed(2)), mediaSPerWallS: Number((duration / (ours.ms / 1000)).toFixed(1)), chunks: ours.chunks, keyframes: ours.keyframes },
    // Medians over the runs, CPU seconds per media second.
    cpuSPerMediaS: {
      bareFfmpeg: perMedia(pairs.map((p) => p.bare.cpuS), duration),
      ingestNode: perMedia(pairs.map((p) => p.ours.cpuS.node), duration),
      ingestFfmpeg: perMedia(pairs.map((p) => p.ours.cpuS.ffmpeg), duration),
      ingestRedis: perMedia(pairs.map((p) => p.ours.cpuS.redis), duration),
    },
    ratioVsBareFfmpeg: Number(mid.toFixed(2)),
    ...(runs > 1 ? { ratiosPerRun: ratios.map((r) => Number(r.toFixed(2))) } : {}),
    peakRedisMiBPerStream: Number((Math.max(...pairs.map((p) => p.ours.peakRedisBytes)) / (1 << 20)).toFixed(1)),
  };
}

const results = [await measure('car-detection', CAR_DETECTION, 768, 432, repeat)];
if (!shortOnly) results.push(await measure(`testsrc2-720p-${minutes}min`, await generated(), 1280, 720));
process.stdout.write(`${JSON.stringify({ bench: 'ingest', goal: 'ratioVsBareFfmpeg >= 0.8', results }, null, 2)}\n`);
process.exit(0);
