// Live perception capacity with change gating on and off, in the same run, with every model that
// needs no download (visual signature, audio levels, Silero VAD, PaddleOCR) and every converted one
// installed in data/models (the CenterNet detector; `npm run setup` converts it), through the real
// ingest, perceive and segment roles in one process:
//   - live: for each gating mode, the most simultaneous live streams (camera footage with audio,
//     looped, served in real time as MPEG-TS over local TCP, one keyframe per second) that keep p95
//     lag from capture to perception record under 2 s with no keyframe dropped; per trial the
//     fraction of keyframes each gated model ran on, and CPU seconds per stream-second of the
//     engram process (models included), its ingest ffmpeg processes and its redis-server;
//   - costs: each model alone on real keyframes, CPU seconds per call, so per-stream cost =
//     sum(model cost x how often it ran) + ingest can be read on a quiet machine, whatever this
//     one's load was when the live trials ran;
//   - file (optional, --file): one file through ingest+perceive+segment next to bare `ffmpeg -vf fps=1`.
//   - --compare-threads: the per-call costs again with onnxruntime's own intra-op thread count (one per core).
// Run: npx tsx test/bench/perception.ts [--seconds 30] [--max 32] [--modes on,off|none] [--streams N,M] [--file] [--no-costs] [--compare-threads] [--perceive-workers N|auto] [--crops] [--profile-perceive DIR] [--detector centernet-coco-int8]   (prints JSON)
import { execFile, execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, packageRoot } from '../../config/load.js';
import { ModelsSchema } from '../../config/schema.js';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { metricsRegistry } from '../../pipelines/metrics.js';
import { changedArea, changedBox, changedRegions, greyCopy } from '../../pipelines/perceive/change-signal.js';
import { GatingSchema } from '../../config/schema.js';
import { detectionWindow, detectionWindows } from '../../models/runtime/ocr.js';
import type { PerceptionRecord } from '../../pipelines/records/perception.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { perceiveProcessCount, startPerceiveProcesses } from '../../services/runtime/perceive-processes.js';
import { CAR_DETECTION, LiveTsServer, SHARED_MEDIA, ffmpegRun, mediaDuration } from '../helpers/media.js';
import { ENGRAM_BIN } from '../helpers/cli.js';

const run = promisify(execFile);
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const seconds = Number(arg('seconds', '30'));
/** Connection, probing and the first chunks are not steady state. */
const warmupSeconds = 10;
const maxStreams = Number(arg('max', '32'));
/** `--modes none`: the per-call costs only, no live trials. */
const modes = arg('modes', 'on,off').split(',').filter((m): m is 'on' | 'off' => m === 'on' || m === 'off');
const cacheDir = join(tmpdir(), 'engram-bench-media');
const modelsDir = join(packageRoot(), 'data/models');
const GATES_OFF = { detect: { enabled: false }, image: { enabled: false }, ocr: { enabled: false }, faces: { enabled: false }, vad: { enabled: false } };
/** `--streams 4,8`: one trial per count and mode instead of the capacity search (per-stream costs at a load the machine can carry). */
const fixedStreams = arg('streams', '').split(',').filter((v) => v !== '').map(Number);
/**
 * `--perceive-workers N|auto`: perception in N `engram worker perceive` processes (dist/: npm run
 * build) started and supervised by the product's own mechanism, as `engram serve` does
 * (perceive.processes; `auto`, the default, is serve's default: one per core); 0 perceives in the
 * bench's own process. onnxruntime-node runs each graph on the JS thread, so one process does one
 * inference at a time.
 */
const perceiveWorkersArg = arg('perceive-workers', 'auto');
/** `--crops`: gated trials detect on windows of small changes with the 320x320 crop graph (perceive.gating.detect.crops, off by default). */
const crops = process.argv.includes('--crops');
/** `--detector NAME`: the frame detector (models.detector), e.g. centernet-coco-int8 against the default float one. */
const detector = arg('detector', 'centernet-coco');
/** `--profile-perceive DIR`: each perceive worker process writes a V8 CPU profile (node --cpu-prof) into DIR when it stops. */
const profileDir = arg('profile-perceive', '');

/** How many perceive processes: the product's count for `auto` (perceive.processes, models.intraOpThreads). */
function perceiveWorkerCount(): number {
  if (perceiveWorkersArg === 'auto') return perceiveProcessCount(loadConfig({ env: {} }).config);
  const n = Number(perceiveWorkersArg);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--perceive-workers takes a count or auto, not ${perceiveWorkersArg}`);
  return n;
}

/** Supervised `engram worker perceive` children sharing the bench's Redis and data directory, with the mode's gating. */
async function startPerceiveWorkers(context: EngramContext, count: number, dataDir: string, gating: 'on' | 'off'): Promise<void> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENGRAM_') && k !== 'REDIS_URL'));
  Object.assign(env, { REDIS_URL: context.redis.url, ENGRAM_DATA_DIR: dataDir, ENGRAM_MODELS__DIR: modelsDir, ENGRAM_MODELS__DETECTOR: detector, ENGRAM_LOG__LEVEL: 'warn' });
  if (gating === 'off') for (const gate of Object.keys(GATES_OFF)) env[`ENGRAM_PERCEIVE__GATING__${gate.toUpperCase()}__ENABLED`] = 'false';
  if (gating === 'on' && crops) env.ENGRAM_PERCEIVE__GATING__DETECT__CROPS = 'true';
  const processes = startPerceiveProcesses(context, count, { entry: [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ENGRAM_BIN], globalArgs: [], env, cwd: packageRoot() });
  if (!(await processes.whenReady(120_000))) throw new Error(`perceive worker processes not ready within 120 s: ${JSON.stringify(processes.list())}`);
}

async function withEngram<T>(gating: 'on' | 'off', fn: (ctx: { context: EngramContext; streams: StreamRepository; memory: ShortTermMemory }) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const loaded = loadConfig({
    env: {},
    overrides: { dataDir, log: { level: 'silent' }, models: { dir: modelsDir, detector }, ingest: { fileRoots: [SHARED_MEDIA, cacheDir] }, ...(gating === 'off' ? { perceive: { gating: GATES_OFF } } : crops ? { perceive: { gating: { detect: { crops: true } } } } : {}) },
  });
  const context = await EngramContext.open(loaded, silentLogger());
  const perceiveWorkers = perceiveWorkerCount();
  try {
    // As serve: the children first, so they close after the in-process roles.
    if (perceiveWorkers > 0) await startPerceiveWorkers(context, perceiveWorkers, dataDir, gating);
    await startRoles(context, perceiveWorkers > 0 ? [Role.Ingest, Role.Segment] : [Role.Ingest, Role.Perceive, Role.Segment]);
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
  return withEngram('on', async ({ streams, memory }) => {
    const started = performance.now();
    await streams.add({ name: 'file', source: file });
    const info = await streams.waitUntilProcessed('file', { stages: [Role.Perceive, Role.Segment] });
    const ms = performance.now() - started;
    const state = await memory.loadState('file');
    return { file, mediaSeconds: duration, state: info.state, elapsedMs: Math.round(ms), ratioToBareFfmpeg: +(bareMs / ms).toFixed(3), events: state?.eventsClosed ?? 0 };
  });
}

/**
 * The live source: real camera footage (car-detection.mp4, looped, with its audio) remuxed to
 * MPEG-TS, which LiveTsServer plays in real time to every client like a network camera.
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

const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** CPU seconds so far of this process's children, by kind: the ingest ffmpegs (decoding tcp://), redis-server. */
function childCpu(): { ingestFfmpeg: number; redis: number; perceiveWorkers: number } {
  const out = { ingestFfmpeg: 0, redis: 0, perceiveWorkers: 0 };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue; // fields[1] is the parent pid
      const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.includes('redis-server')) out.redis += cpu; // redis rewrites its title: 'redis-server unixsocket:...'
      else if (cmd[0]?.endsWith('ffmpeg') && cmd.some((a) => a.startsWith('tcp://'))) out.ingestFfmpeg += cpu;
      else if (cmd.includes('worker') && cmd.includes('perceive')) out.perceiveWorkers += cpu;
    } catch {
      // a process that ended between the listing and the read
    }
  }
  return out;
}

/** Sum of inference wall seconds per model so far (the runtime's histogram). */
async function inferenceSeconds(): Promise<Record<string, number>> {
  const metric = metricsRegistry.getSingleMetric('engram_inference_seconds');
  const out: Record<string, number> = {};
  for (const v of ((await metric?.get())?.values ?? []) as { value: number; labels: Record<string, unknown>; metricName?: string }[]) if (v.metricName === 'engram_inference_seconds_sum') out[String(v.labels.model)] = v.value;
  return out;
}

/** The gate counter so far (engram_perceive_gate_total), by "gate/outcome". */
async function gateCounts(): Promise<Record<string, number>> {
  const metric = metricsRegistry.getSingleMetric('engram_perceive_gate_total');
  const out: Record<string, number> = {};
  for (const v of ((await metric?.get())?.values ?? []) as { value: number; labels: Record<string, unknown> }[]) out[`${String(v.labels.gate)}/${String(v.labels.outcome)}`] = v.value;
  return out;
}

/** Of the keyframes (or audio chunks) a gated model applied to, the fraction it ran on. */
function ranFractions(records: PerceptionRecord[]) {
  const kfs = records.flatMap((r) => r.keyframes);
  const fraction = (applies: (k: (typeof kfs)[number]) => boolean, gate: string) => {
    const eligible = kfs.filter(applies);
    return eligible.length === 0 ? null : +(eligible.filter((k) => k.carried?.[gate] === undefined).length / eligible.length).toFixed(3);
  };
  const audio = records.filter((r) => r.audio);
  const runsPerKeyframe = (ran: (k: (typeof kfs)[number]) => boolean) => (kfs.length === 0 ? 0 : +(kfs.filter(ran).length / kfs.length).toFixed(3));
  return {
    keyframes: kfs.length,
    detectRunsPerKeyframe: runsPerKeyframe((k) => k.detections !== null && k.detections !== undefined && k.carried?.detect === undefined),
    ocrRunsPerKeyframe: runsPerKeyframe((k) => k.ocr !== null && k.carried?.ocr === undefined),
    facesRunsPerKeyframe: runsPerKeyframe((k) => k.faces !== null && k.faces !== undefined && k.carried?.faces === undefined),
    detect: fraction((k) => k.detections !== null && k.detections !== undefined, 'detect'),
    ocr: fraction((k) => k.ocr !== null, 'ocr'),
    faces: fraction((k) => k.faces !== null && k.faces !== undefined, 'faces'),
    image: fraction((k) => Object.keys(k.vectors).length > 0, 'image'),
    vad: audio.length === 0 ? null : +(audio.filter((r) => !r.audio?.quiet).length / audio.length).toFixed(3),
  };
}

async function liveTrial(gating: 'on' | 'off', n: number, source: string) {
  const servers = Array.from({ length: n }, () => new LiveTsServer(source));
  await Promise.all(servers.map((s) => s.start()));
  try {
    return await withEngram(gating, async ({ context, streams, memory }) => {
      const names = servers.map((_s, i) => `live-${i}`);
      await Promise.all(servers.map((s, i) => streams.add({ name: names[i] as string, source: s.url, live: true })));
      const started = Date.now();
      await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
      const cpu0 = { node: process.cpuUsage(), elu: performance.eventLoopUtilization(), children: childCpu(), inference: await inferenceSeconds(), gates: await gateCounts(), at: performance.now() };
      await new Promise((r) => setTimeout(r, (seconds - warmupSeconds) * 1000));
      const children = childCpu();
      const node = process.cpuUsage(cpu0.node);
      const elu = performance.eventLoopUtilization(cpu0.elu);
      const inference = await inferenceSeconds();
      const gates = await gateCounts();
      const gateDelta = (key: string) => (gates[key] ?? 0) - (cpu0.gates[key] ?? 0);
      const steadySeconds = (performance.now() - cpu0.at) / 1000;
      const streamSeconds = n * steadySeconds;
      const warm = started + warmupSeconds * 1000;
      const lags: number[] = [];
      const ingestLags: number[] = [];
      const queueWaits: number[] = [];
      const perceiveTimes: number[] = [];
      const jobs = await context.queues.queue(QueueName.Perceive).getJobs(['completed']);
      const jobOf = new Map(jobs.map((j) => [`${j.data.stream}/${j.data.seq}`, j]));
      let dropped = 0;
      let records = 0;
      const steady: PerceptionRecord[] = [];
      for (const name of names) {
        for (const entry of await memory.entries(name)) {
          const arrived = Number(entry.id.split('-')[0]);
          const mediaEnd = entry.record.wallStart + (entry.record.end - entry.record.start) * 1000;
          records += 1;
          if (arrived < warm) continue;
          steady.push(entry.record);
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
      const failed = await context.queues.queue(QueueName.Perceive).getJobs(['failed']);
      const streamErrors = [...new Set((await Promise.all(names.map((name) => streams.get(name)))).map((info) => info?.error).filter(Boolean))];
      await Promise.all(names.map((name) => streams.stop(name)));
      const p95 = percentile(lags, 95);
      const expected = n * (seconds - warmupSeconds);
      // Keeping up: late by under 2 s, nothing dropped, and records for (nearly) every second.
      const keptUp = p95 < 2000 && dropped === 0 && lags.length >= expected * 0.8;
      const perStreamSecond = (v: number) => +(v / streamSeconds).toFixed(4);
      return {
        gating,
        streams: n,
        records,
        steadyRecords: lags.length,
        expectedSteadyRecords: expected,
        p50LagMs: Math.round(percentile(lags, 50)),
        p95LagMs: Math.round(p95),
        p50IngestMs: Math.round(percentile(ingestLags, 50)),
        p50QueuedMs: Math.round(percentile(queueWaits, 50)),
        p50PerceiveMs: Math.round(percentile(perceiveTimes, 50)),
        droppedFrames: dropped,
        keptUp,
        ...(failed.length > 0 ? { failedPerceiveJobs: failed.length, failedReason: failed[0]?.failedReason } : {}),
        ...(streamErrors.length > 0 ? { streamErrors } : {}),
        ran: ranFractions(steady),
        // Of the OCR runs (all records since the warm-up, per the gate counter), those that looked only where the picture changed.
        ocrRegionShareOfRuns: gateDelta('ocr/ran') > 0 ? +(gateDelta('ocr/region') / gateDelta('ocr/ran')).toFixed(3) : null,
        // Of the detector runs, those on a window of the change with the 320x320 crop graph.
        detectRegionShareOfRuns: gateDelta('detect/ran') > 0 ? +(gateDelta('detect/region') / gateDelta('detect/ran')).toFixed(3) : null,
        cpuSecondsPerStreamSecond: {
          engramProcess: perStreamSecond((node.user + node.system) / 1e6),
          // onnxruntime-node runs each graph synchronously on the JS thread, so this thread's busy
          // time (models included) is what caps the streams one process can carry: 1 / this.
          engramJsThreadBusy: perStreamSecond(elu.active / 1000),
          ingestFfmpeg: perStreamSecond(children.ingestFfmpeg - cpu0.children.ingestFfmpeg),
          perceiveWorkers: perStreamSecond(children.perceiveWorkers - cpu0.children.perceiveWorkers),
          redis: perStreamSecond(children.redis - cpu0.children.redis),
        },
        inferenceWallSecondsPerStreamSecond: Object.fromEntries(Object.entries(inference).map(([m, v]) => [m, perStreamSecond(v - (cpu0.inference[m] ?? 0))]).filter(([, v]) => (v as number) > 0)),
        loadAverage: +(loadavg()[0] as number).toFixed(1),
      };
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Doubles until a trial fails, then bisects between the last success and the failure (or runs the --streams counts). */
async function capacity(gating: 'on' | 'off', source: string) {
  const trials = [];
  if (fixedStreams.length > 0) {
    for (const n of fixedStreams) {
      const trial = await liveTrial(gating, n, source);
      trials.push(trial);
      process.stderr.write(`${JSON.stringify(trial)}\n`);
    }
    return { gating, maxStreamsKeptUp: Math.max(0, ...trials.filter((t) => t.keptUp).map((t) => t.streams)), trials };
  }
  let best = 0;
  let lo = 0;
  let hi = 0;
  for (let n = 1; n <= maxStreams; n *= 2) {
    const trial = await liveTrial(gating, n, source);
    trials.push(trial);
    process.stderr.write(`${JSON.stringify(trial)}\n`);
    if (!trial.keptUp) {
      hi = n;
      break;
    }
    lo = n;
    best = n;
  }
  while (hi > 0 && hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const trial = await liveTrial(gating, mid, source);
    trials.push(trial);
    process.stderr.write(`${JSON.stringify(trial)}\n`);
    if (trial.keptUp) {
      lo = mid;
      best = mid;
    } else hi = mid;
  }
  return { gating, maxStreamsKeptUp: best, trials };
}

/** CPU seconds per call of each model alone on real keyframes of the footage (640x360, as ingest scales them). */
async function modelCosts(source: string, intraOpThreads?: number) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', source, '-vf', 'fps=1,scale=640:360', '-frames:v', '12', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 28 });
  const frames = Array.from({ length: raw.length / (640 * 360 * 3) }, (_v, i) => ({ rgb: raw.subarray(i * 640 * 360 * 3, (i + 1) * 640 * 360 * 3), width: 640, height: 360 }));
  const pcm = new Float32Array(execFileSync('ffmpeg', ['-v', 'error', '-i', source, '-t', '10', '-ac', '1', '-ar', '16000', '-f', 'f32le', '-'], { maxBuffer: 1 << 26 }).buffer.slice(0));
  const models = await ModelRepository.open({ config: ModelsSchema.parse(intraOpThreads === undefined ? { detector } : { detector, intraOpThreads }), paths: { modelsDir }, log: { info() {}, warn() {} } });
  try {
    await models.warmUp();
    const cost = async (calls: number, fn: (i: number) => unknown) => {
      const before = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < calls; i += 1) await fn(i);
      const used = process.cpuUsage(before);
      return { cpuSecondsPerCall: +((used.user + used.system) / 1e6 / calls).toFixed(4), wallSecondsPerCall: +((performance.now() - t0) / 1000 / calls).toFixed(4) };
    };
    const frame = (i: number) => frames[i % frames.length]!;
    const reads = await Promise.all(frames.map((f) => models.readText(f)));
    // OCR as the gate runs it after a change: each keyframe against the one a second before, where
    // the change signal says it changed, looking only where it changed (a full read when that is most of the frame).
    const gating = GatingSchema.parse({});
    const greys = frames.map((f) => greyCopy(f, gating.width));
    const changed = frames.flatMap((f, i) => {
      const [grey, before, previous] = [greys[i]!, greys[i - 1], reads[i - 1]];
      if (!before || !previous || changedArea(grey, before, gating.pixelThreshold) < gating.minArea) return [];
      const sx = f.width / grey.width;
      const sy = f.height / grey.height;
      const inFrame = (box: [number, number, number, number]): [number, number, number, number] => [Math.floor(box[0] * sx), Math.floor(box[1] * sy), Math.ceil(box[2] * sx), Math.ceil(box[3] * sy)];
      // As perceive asks: each place that changed; and, for comparison, the one box around them all (before 2 December 2026).
      const regions = changedRegions(grey, before, gating.pixelThreshold).map(inFrame);
      const box = inFrame(changedBox(grey, before, gating.pixelThreshold)!);
      const windows = detectionWindows(regions, previous, f, 1);
      const window = detectionWindow(box, previous, f, 1);
      const area = f.width * f.height;
      return [{ frame: f, previous, regions, box, share: windows ? windows.reduce((sum, w) => sum + w.w * w.h, 0) / area : 1, boxShare: window ? (window.w * window.h) / area : 1 }];
    });
    // The two ways alternate call by call, so the machine's load falls on both alike.
    const regionCalls = { regions: [] as number[], box: [] as number[] };
    for (const c of changed) {
      for (const way of ['regions', 'box'] as const) {
        const before = process.cpuUsage();
        await models.readText(c.frame, undefined, c.previous, way === 'regions' ? c.regions : [c.box]);
        const used = process.cpuUsage(before);
        regionCalls[way].push((used.user + used.system) / 1e6);
      }
    }
    const mean = (v: number[]) => +(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)).toFixed(4);
    const out: Record<string, unknown> = {
      changeSignal: await cost(frames.length * 5, (i) => greyCopy(frame(i), 64)),
      visualSignature: await cost(frames.length * 5, (i) => models.visualSignature(frame(i))),
      ocr: await cost(frames.length, (i) => models.readText(frame(i))),
      ocrUnchangedLines: await cost(frames.length, (i) => models.readText(frame(i), undefined, reads[i % reads.length])),
      ...(changed.length > 0
        ? {
            ocrChangedRegion: {
              cpuSecondsPerCall: mean(regionCalls.regions),
              changedKeyframes: changed.length,
              meanShareOfFrameRead: +(changed.reduce((sum, c) => sum + c.share, 0) / changed.length).toFixed(3),
              oneBoxCpuSecondsPerCall: mean(regionCalls.box),
              oneBoxMeanShareOfFrameRead: +(changed.reduce((sum, c) => sum + c.boxShare, 0) / changed.length).toFixed(3),
            },
          }
        : {}),
      vadPerAudioSecond: await cost(10, (i) => models.detectSpeech(pcm.subarray(i * 16_000, (i + 1) * 16_000))),
    };
    // Blazeface, and faceres on the faces it finds (gated: only where the detector sees a person).
    if (models.faceDescriptorSize() !== undefined) out.faces = await cost(frames.length, (i) => models.detectFaces([frame(i)], { minScore: 0.6, nmsIou: 0.3, maxFaces: 10 }));
    const filter = { labels: [], minScore: 0.4, thresholds: {}, nmsIou: 0.5, sameObjectIou: 0.7, maxPerFrame: 50 };
    if (models.detectorLabels()) out.detect = await cost(frames.length, (i) => models.detectObjects([frame(i)], filter));
    // The crop graph on a window the size detect-window.ts picks for a small change on a 640x360 keyframe (352x198).
    if (models.detectorSizes()?.crop) out.detectCrop = await cost(frames.length, (i) => models.detectObjectsIn([{ frame: frame(i), window: { x: 200, y: 100, w: 352, h: 198 } }], filter));
    return out;
  } finally {
    await models.close();
  }
}

const source = await liveSource();
const costs = process.argv.includes('--no-costs') ? undefined : await modelCosts(source);
process.stderr.write(`${JSON.stringify({ costs })}\n`);
// The same costs with onnxruntime choosing its intra-op threads (one per core), the default before models.intraOpThreads 1.
const costsAllCoreThreads = process.argv.includes('--compare-threads') ? await modelCosts(source, 0) : undefined;
if (costsAllCoreThreads) process.stderr.write(`${JSON.stringify({ costsAllCoreThreads })}\n`);
const file = process.argv.includes('--file') ? await fileThroughput(CAR_DETECTION) : undefined;
const live = [];
for (const mode of modes) live.push(await capacity(mode, source));
/**
 * CPU seconds one live stream costs per second, from each model's cost alone times how often it ran
 * per keyframe (or per audio chunk) in that mode's trials, plus the ingest ffmpeg and the rest of
 * engram (JS, Redis, thumbnails: the engram process less its model work) as measured per
 * stream-second; and the streams 2 quiet cores would carry at that cost.
 */
function estimate(mode: Awaited<ReturnType<typeof capacity>>) {
  if (!costs) return undefined;
  const cpu = (name: string) => (costs[name] as { cpuSecondsPerCall: number } | undefined)?.cpuSecondsPerCall ?? 0;
  const trials = mode.trials.filter((t) => t.ran.keyframes > 0);
  if (trials.length === 0) return undefined;
  const keyframes = trials.reduce((s, t) => s + t.ran.keyframes, 0);
  const weighted = (pick: (t: (typeof trials)[number]) => number) => trials.reduce((s, t) => s + pick(t) * t.ran.keyframes, 0) / keyframes;
  const perKeyframe = {
    detect: weighted((t) => t.ran.detectRunsPerKeyframe),
    ocr: weighted((t) => t.ran.ocrRunsPerKeyframe),
    ocrRegionShare: weighted((t) => t.ocrRegionShareOfRuns ?? 0),
    detectRegionShare: weighted((t) => t.detectRegionShareOfRuns ?? 0),
    faces: weighted((t) => t.ran.facesRunsPerKeyframe),
    vad: weighted((t) => t.ran.vad ?? 0),
  };
  const models = {
    changeSignalAndSignature: cpu('changeSignal') + cpu('visualSignature'),
    faces: cpu('faces') * perKeyframe.faces,
    // Detector runs after a small change look at a window with the crop graph; the rest see the whole frame.
    detect: perKeyframe.detect * (perKeyframe.detectRegionShare * (cpu('detectCrop') || cpu('detect')) + (1 - perKeyframe.detectRegionShare) * cpu('detect')),
    // OCR runs after a change look only where it changed (ocrChangedRegion's cost); first reads and refreshes read it all.
    ocr: perKeyframe.ocr * (perKeyframe.ocrRegionShare * (cpu('ocrChangedRegion') || cpu('ocr')) + (1 - perKeyframe.ocrRegionShare) * cpu('ocr')),
    vad: cpu('vadPerAudioSecond') * perKeyframe.vad,
  };
  const modelTotal = Object.values(models).reduce((a, b) => a + b, 0);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const ingestFfmpeg = median(trials.map((t) => t.cpuSecondsPerStreamSecond.ingestFfmpeg));
  const redis = median(trials.map((t) => t.cpuSecondsPerStreamSecond.redis));
  const otherEngram = Math.max(0, median(trials.map((t) => t.cpuSecondsPerStreamSecond.engramProcess + t.cpuSecondsPerStreamSecond.perceiveWorkers)) - modelTotal);
  const total = modelTotal + ingestFfmpeg + redis + otherEngram;
  const round = (v: number) => +v.toFixed(4);
  return {
    runsPerKeyframe: Object.fromEntries(Object.entries(perKeyframe).map(([k, v]) => [k, round(v)])),
    cpuSecondsPerStreamSecond: { ...Object.fromEntries(Object.entries(models).map(([k, v]) => [k, round(v)])), ingestFfmpeg: round(ingestFfmpeg), redis: round(redis), otherEngram: round(otherEngram), total: round(total) },
    streamsOn2QuietCores: Math.floor(2 / total),
    // What one engram process carries whatever the cores: its JS thread (models run on it) is busy this long per stream-second.
    jsThreadBusyPerStreamSecond: round(median(trials.map((t) => t.cpuSecondsPerStreamSecond.engramJsThreadBusy))),
    streamsPerProcessJsThread: Math.floor(1 / Math.max(1e-6, median(trials.map((t) => t.cpuSecondsPerStreamSecond.engramJsThreadBusy)))),
  };
}

const probe = await ModelRepository.open({ config: ModelsSchema.parse({ detector }), paths: { modelsDir }, log: { info() {}, warn() {} } });
const installed = probe.status().filter((m) => m.installed).map((m) => m.name);
await probe.close();
process.stdout.write(
  `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtEnd: loadavg().map((v) => +v.toFixed(1)) }, perceiveProcesses: perceiveWorkerCount(), detector, models: ['visual-signature', 'audio levels', ...installed], costs, ...(costsAllCoreThreads ? { costsAllCoreThreads } : {}), file, live: { keyframesPerSecond: 1, trialSeconds: seconds, modes: live }, estimate: Object.fromEntries(live.map((m) => [m.gating, estimate(m)])) }, null, 2)}\n`,
);
