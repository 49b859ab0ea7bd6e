// Does batching across streams pay on CPU? CPU seconds per frame of the detector's backbone and
// heads (centernet-coco converted in memory with a dynamic batch, tower_0/keypoints and
// tower_0/wh: the shipped graph's top-100 decoder fixes its batch at 1), blazeface and faceres at
// batch 1, 4 and 8, on one intra-op thread (models.intraOpThreads' default) and on onnxruntime's
// own thread count, alternating in one process on real keyframes. Prints JSON.
//   npx tsx test/bench/batching.ts [--rounds 3]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { packageRoot } from '../../config/load.js';
import { convertTfjsGraph } from '../../models/convert/convert.js';
import { humanPackageDir, readTfjsFiles } from '../../models/runtime/convert-installed.js';
import { CAR_DETECTION } from '../helpers/media.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const BATCHES = [1, 4, 8];

/** Eight keyframes of real footage at size x size, HWC floats 0..255. */
function frames(size: number): Float32Array {
  const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', CAR_DETECTION, '-vf', `fps=1,scale=${size}:${size}`, '-frames:v', '8', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
  return Float32Array.from(raw);
}

async function measure(name: string, bytes: Uint8Array, size: number, scale: (v: number) => number) {
  const pixels = frames(size).map(scale);
  const per = size * size * 3;
  const out: Record<string, Record<string, number>> = {};
  for (const threads of [1, 0]) {
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, graphOptimizationLevel: 'all', ...(threads > 0 ? { intraOpNumThreads: threads } : {}) });
    const input = session.inputNames[0] as string;
    const feed = (b: number, at: number) => ({ [input]: new ort.Tensor('float32', pixels.slice(at * per, (at + b) * per), [b, size, size, 3]) });
    await session.run(feed(8, 0));
    const samples = new Map<number, number[]>(BATCHES.map((b) => [b, []]));
    for (let r = 0; r < rounds; r += 1) {
      for (const b of BATCHES) {
        // Eight frames either way: 8 calls of one, 2 of four, 1 of eight.
        const before = process.cpuUsage();
        for (let at = 0; at < 8; at += b) await session.run(feed(b, at));
        const used = process.cpuUsage(before);
        samples.get(b)!.push((used.user + used.system) / 1e6 / 8);
      }
    }
    const median = (v: number[]) => +[...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!.toFixed(4);
    out[threads === 1 ? 'oneThread' : 'onnxruntimeThreads'] = Object.fromEntries(BATCHES.map((b) => [`batch${b}`, median(samples.get(b)!)]));
    await session.release();
  }
  return { model: name, cpuSecondsPerFrame: out };
}

const models = join(packageRoot(), 'data/models');
const results = [];
const graph = readTfjsFiles(join(humanPackageDir(), 'models', 'centernet.json'), 'centernet-coco');
results.push(await measure('centernet-coco backbone+heads', convertTfjsGraph(graph, { batch: 'dynamic', outputs: ['tower_0/keypoints', 'tower_0/wh'] }).onnx, 512, (v) => v));
for (const [name, size, scale] of [['blazeface', 256, (v: number) => v / 127.5 - 1], ['faceres', 224, (v: number) => v]] as const) {
  const file = join(models, name, 'model.onnx');
  if (existsSync(file)) results.push(await measure(name, readFileSync(file), size, scale));
}
process.stdout.write(`${JSON.stringify({ loadAverage: loadavg().map((v) => +v.toFixed(1)), rounds, results }, null, 2)}\n`);
