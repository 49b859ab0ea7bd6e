// Where a perceive worker's CPU goes per keyframe, around the models: the footage in ../shared/media
// decoded at 1 keyframe a second (640 px long side, as ingest sends it), one 1 s chunk per keyframe,
// through perceiveChunk with every installed model, default config, gating state in memory (no
// Redis, no BullMQ: those are priced by test/bench/perception.ts). Each model call is timed in CPU
// seconds by a wrapper around the model repository (calls run one at a time here, so the process's
// CPU between a call's start and end is that call's); what is left is perceive's own JavaScript.
// `--dump FILE` writes every keyframe's record (detections, OCR text, change, carried) so a change
// can be shown to leave results as they were: run before and after, and compare the files.
// Run with `node --cpu-prof --import tsx` for a function-level profile.
// Prints JSON.   npx tsx test/bench/perceive-profile.ts [--loops 2] [--clips car,bottle,people] [--dump FILE]
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { perceiveChunk, type PerceptionModels } from '../../pipelines/perceive/perceive-chunk.js';
import type { Chunk, Keyframe } from '../../pipelines/records/chunk.js';
import { MemoryGates } from '../helpers/memory-gates.js';
import { BOTTLE_DETECTION, CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const { values } = parseArgs({ options: { loops: { type: 'string', default: '2' }, clips: { type: 'string', default: 'car,bottle,people' }, dump: { type: 'string' } } });
const loops = Number(values.loops);
const config = ConfigSchema.parse({});

function decode(file: string): { rgb: Uint8Array; width: number; height: number }[] {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]).toString().trim().split(',').map(Number);
  const [w0, h0] = probe as [number, number];
  const scale = Math.min(1, config.ingest.frameMaxSide / Math.max(w0, h0));
  const width = Math.round((w0 * scale) / 2) * 2;
  const height = Math.round((h0 * scale) / 2) * 2;
  const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', file, '-vf', `fps=1,scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  const per = width * height * 3;
  const out: { rgb: Uint8Array; width: number; height: number }[] = [];
  for (let o = 0; o + per <= raw.length; o += per) out.push({ rgb: new Uint8Array(raw.buffer, raw.byteOffset + o, per), width, height });
  return out;
}

const wanted = new Set(values.clips.split(','));
const clips: [string, string][] = [
  ...(wanted.has('car') ? [['car', CAR_DETECTION] as [string, string]] : []),
  ...(wanted.has('bottle') ? [['bottle', BOTTLE_DETECTION] as [string, string]] : []),
  ...(wanted.has('people') ? readdirSync(join(SHARED_MEDIA, 'people')).filter((f) => f.endsWith('.mkv')).sort().slice(0, 3).map((f): [string, string] => [`people-${f.replace('.mkv', '')}`, join(SHARED_MEDIA, 'people', f)]) : []),
];
const decoded = clips.map(([name, file]) => [name, decode(file)] as const);

// onnxruntime-node runs each graph synchronously inside a setImmediate (dist/backend.js), so the
// native run's own CPU is measured there: the session handler's run is wrapped so the callback it
// schedules is timed, per graph (told apart by its input names and shapes).
const graphCpu = new Map<string, { cpu: number; calls: number }>();
{
  const probe = await ort.InferenceSession.create(join(packageRoot(), 'data/models/blazeface/model.onnx'));
  const proto = Object.getPrototypeOf((probe as unknown as { handler: object }).handler) as { run(this: unknown, feeds: Record<string, ort.Tensor>, ...rest: unknown[]): Promise<unknown> };
  const run = proto.run;
  proto.run = function timedRun(this: unknown, feeds: Record<string, ort.Tensor>, ...rest: unknown[]) {
    const dims = Object.values(feeds).map((t) => t.dims.join('x')).join(',');
    const name = Object.keys(feeds).join(',');
    const key = name === 'x' ? (dims.includes('x3x48x') ? 'OCR recognition' : 'OCR detection') : `${name} ${dims}`;
    const schedule = globalThis.setImmediate;
    globalThis.setImmediate = ((callback: () => void) => schedule(() => {
      const from = process.cpuUsage();
      try {
        callback();
      } finally {
        const u = process.cpuUsage(from);
        const g = graphCpu.get(key) ?? { cpu: 0, calls: 0 };
        g.cpu += (u.user + u.system) / 1e6;
        g.calls += 1;
        graphCpu.set(key, g);
      }
    })) as typeof setImmediate;
    try {
      return run.call(this, feeds, ...rest);
    } finally {
      globalThis.setImmediate = schedule;
    }
  };
  await probe.release();
}

const repo = await ModelRepository.open({ config, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn() {} } });
await repo.warmUp();

// CPU seconds per model method, and calls.
const spent = new Map<string, { cpu: number; calls: number; items: number }>();
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function timed<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, items: (...args: A) => number): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const from = cpuNow();
    try {
      return await fn(...args);
    } finally {
      const s = spent.get(name) ?? { cpu: 0, calls: 0, items: 0 };
      s.cpu += cpuNow() - from;
      s.calls += 1;
      s.items += items(...args);
      spent.set(name, s);
    }
  };
}
const models: PerceptionModels = {
  spaces: () => repo.spaces(),
  status: () => repo.status(),
  embedImages: timed('embedImages', (s: string, f: Parameters<PerceptionModels['embedImages']>[1], sig?: AbortSignal) => repo.embedImages(s, f, sig), (_s, f) => f.length),
  embedAudio: (s, w, sig) => repo.embedAudio(s, w, sig),
  visualSignature: (f) => {
    const from = cpuNow();
    const v = repo.visualSignature(f);
    const s = spent.get('visualSignature') ?? { cpu: 0, calls: 0, items: 0 };
    s.cpu += cpuNow() - from;
    s.calls += 1;
    s.items += 1;
    spent.set('visualSignature', s);
    return v;
  },
  audioLevels: (p, r) => repo.audioLevels(p, r),
  detectSpeech: timed('detectSpeech', (p: Float32Array, sig?: AbortSignal) => repo.detectSpeech(p, sig), () => 1),
  transcribe: (p, sig) => repo.transcribe(p, sig),
  readText: timed('readText', (...a: Parameters<PerceptionModels['readText']>) => (repo as PerceptionModels).readText(...a), () => 1),
  detectObjects: timed('detectObjects', (...a: Parameters<NonNullable<PerceptionModels['detectObjects']>>) => repo.detectObjects(...a), (f) => f.length),
  detectObjectsIn: timed('detectObjectsIn', (...a: Parameters<NonNullable<PerceptionModels['detectObjectsIn']>>) => repo.detectObjectsIn(...a), (i) => i.length),
  detectorSizes: () => repo.detectorSizes(),
  detectFaces: timed('detectFaces', (...a: Parameters<NonNullable<PerceptionModels['detectFaces']>>) => repo.detectFaces(...a), (f) => f.length),
  faceDescriptorSize: () => repo.faceDescriptorSize(),
  describeFaces: timed('describeFaces', (...a: Parameters<NonNullable<PerceptionModels['describeFaces']>>) => repo.describeFaces(...a), (c) => c.length),
};

graphCpu.clear();
const jpeg = Buffer.alloc(1);
const dump: Record<string, unknown[]> = {};
let keyframes = 0;
const started = cpuNow();
const wallStarted = performance.now();
for (let loop = 0; loop < loops; loop += 1) {
  for (const [name, frames] of decoded) {
    // A fresh stream per loop: the first keyframe sees no gate state, as a new camera does.
    const stream = `${name}-${loop}`;
    const gates = new MemoryGates();
    const deps = { models, gates, detect: config.detect, faces: config.faces, saveThumbnail: async () => 'thumb.jpg', saveFaceCrop: async (_s: string, wall: number, i: number) => `face-${wall}-${i}.bmp` };
    for (const [seq, f] of frames.entries()) {
      const k: Keyframe = { t: seq, width: f.width, height: f.height, rgb: f.rgb, jpeg, scene: false };
      const chunk: Chunk = { stream, seq, start: seq, end: seq + 1, wallStart: 1_800_000_000_000 + seq * 1000, keyframes: [k], audio: null, droppedKeyframes: 0 };
      const record = await perceiveChunk(chunk, config.perceive, deps);
      keyframes += 1;
      if (loop === 0) {
        const kf = record.keyframes[0];
        (dump[name] ??= []).push({
          t: kf?.t,
          change: kf?.change,
          carried: kf?.carried ?? {},
          detections: (kf?.detections ?? []).map((d) => `${d.label} ${d.score.toFixed(4)} ${d.box.map((v) => v.toFixed(1)).join(',')}`),
          ocr: (kf?.ocr ?? []).map((l) => `${l.text} ${(l.confidence ?? 0).toFixed(4)}`),
          faces: (kf?.faces ?? []).map((face) => `${face.score.toFixed(4)} ${face.box.map((v) => v.toFixed(1)).join(',')} ${Array.from(face.descriptor.slice(0, 4), (v) => v.toFixed(4)).join(',')}`),
          signature: Array.from((kf?.signature ?? new Float32Array()).slice(0, 4), (v) => v.toFixed(5)).join(','),
        });
      }
    }
  }
}
const total = cpuNow() - started;
await repo.close();
if (values.dump) writeFileSync(values.dump, `${JSON.stringify(dump, null, 1)}\n`);
// Model calls overlap (OCR and faces run side by side), so their wrappers' times may add to more than
// the total; the graphs' native runs do not overlap (one JS thread), so they split the total exactly.
const ortCpu = [...graphCpu.values()].reduce((s, g) => s + g.cpu, 0);
const round = (v: number) => Math.round(v * 10_000) / 10_000;
console.log(JSON.stringify({
  loadavg: loadavg().map((v) => Math.round(v * 100) / 100),
  keyframes,
  wallSeconds: round((performance.now() - wallStarted) / 1000),
  cpuSecondsPerKeyframe: round(total / keyframes),
  modelCallsPerKeyframe: Object.fromEntries([...spent].map(([k, v]) => [k, { cpuPerKeyframe: round(v.cpu / keyframes), cpuPerCall: round(v.cpu / v.calls), callsPerKeyframe: round(v.calls / keyframes) }])),
  onnxruntimePerKeyframe: round(ortCpu / keyframes),
  // Everything perceive does around the graphs' native runs: preprocessing, decoding, gating, records.
  outsideOnnxruntimePerKeyframe: round((total - ortCpu) / keyframes),
  graphs: Object.fromEntries([...graphCpu].map(([k, g]) => [k, { cpuPerKeyframe: round(g.cpu / keyframes), cpuPerCall: round(g.cpu / g.calls), callsPerKeyframe: round(g.calls / keyframes) }])),
}, null, 1));
