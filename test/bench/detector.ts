// Detector benchmark (part of test/bench/models.ts): the converted centernet-coco on onnxruntime CPU
// against @tensorflow/tfjs (wasm backend) on the same real frames in the same process, ms per frame
// at batch 1 and 8. The full graph (with its top-100 decoder) is fixed at batch 1, so batch 8 runs the
// backbone and heads (tower_0/keypoints, tower_0/wh) converted with a dynamic batch, on both sides.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertTfjsGraph } from '../../models/convert/convert.js';
import { humanPackageDir, readTfjsFiles } from '../../models/runtime/convert-installed.js';
import { loadTfjs, runTfjs, tf, useBackend, type Feed } from '../helpers/tfjs.js';

const SIZE = 512;
const HEADS = ['tower_0/keypoints', 'tower_0/wh'];

/** Frames at 1 fps stretched to 512x512, as float 0..255 NHWC (what the model takes). */
function frames(video: string, n: number): Float32Array[] {
  const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', video, '-vf', `fps=1,scale=${SIZE}:${SIZE}`, '-frames:v', String(n), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 256 << 20 });
  const per = SIZE * SIZE * 3;
  return Array.from({ length: Math.floor(raw.length / per) }, (_, i) => Float32Array.from(raw.subarray(i * per, (i + 1) * per)));
}

function stack(list: Float32Array[]): Float32Array {
  const out = new Float32Array(list.reduce((a, f) => a + f.length, 0));
  list.forEach((f, i) => out.set(f, i * f.length));
  return out;
}

/** Best of `rounds` timings of fn, in ms per frame. */
async function best(rounds: number, framesPerCall: number, calls: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let c = 0; c < calls; c++) await fn();
    min = Math.min(min, (performance.now() - t) / (calls * framesPerCall));
  }
  return min;
}

export async function benchDetector(video: string): Promise<Record<string, unknown>> {
  const jsonPath = join(humanPackageDir(), 'models', 'centernet.json');
  const graph = readTfjsFiles(jsonPath, 'centernet-coco');
  const full = convertTfjsGraph(graph, { batch: 1 });
  const heads = convertTfjsGraph(graph, { batch: 'dynamic', outputs: HEADS });
  const imgs = frames(video, 8);
  const batch8 = stack(imgs);
  const feed1 = (i: number): Feed => ({ name: 'tower_0/images', shape: [1, SIZE, SIZE, 3], data: imgs[i % imgs.length]! });
  const feed8: Feed = { name: 'tower_0/images', shape: [imgs.length, SIZE, SIZE, 3], data: batch8 };

  const session = async (bytes: Uint8Array, threads?: number) => ort.InferenceSession.create(bytes, { logSeverityLevel: 3, graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) });
  const runOrt = (s: ort.InferenceSession, f: Feed) => s.run({ [f.name]: new ort.Tensor('float32', f.data as Float32Array, f.shape) });
  const ortFull = await session(full.onnx);
  const ortHeads = await session(heads.onnx);
  // One intra-op thread as well: TF.js-wasm runs on one thread, and on a loaded machine ORT's own
  // threads compete with everything else.
  const ortFull1t = await session(full.onnx, 1);
  const ortHeads1t = await session(heads.onnx, 1);

  await useBackend('wasm');
  const raw = JSON.parse(readFileSync(jsonPath, 'utf8')) as { modelTopology: { node: { op: string; attr?: Record<string, unknown> }[] } };
  const shard = new Uint8Array(readFileSync(join(humanPackageDir(), 'models', 'centernet.bin')));
  const tfFull = await loadTfjs(raw, shard);
  // TF.js checks the input against the placeholder's shape: let the heads-only model take any batch.
  const dyn = structuredClone(raw);
  for (const n of dyn.modelTopology.node) if (n.op === 'Placeholder') n.attr = { ...n.attr, shape: { shape: { dim: [{ size: '-1' }, { size: '512' }, { size: '512' }, { size: '3' }] } } };
  const tfHeads = await loadTfjs(dyn, shard);

  // Warm up every path once, then interleave: the machine is shared, a burst should not hit one side only.
  let i = 0;
  await runOrt(ortFull, feed1(0));
  await runOrt(ortHeads, feed8);
  runTfjs(tfFull, [feed1(0)], ['tower_0/detections']);
  runTfjs(tfHeads, [feed8], HEADS);
  const r = { onnxB1: Infinity, onnxB1OneThread: Infinity, onnxB8: Infinity, onnxB8OneThread: Infinity, tfjsB1: Infinity, tfjsB8: Infinity };
  for (let round = 0; round < 3; round++) {
    r.onnxB1 = Math.min(r.onnxB1, await best(1, 1, imgs.length, () => runOrt(ortFull, feed1(i++))));
    r.tfjsB1 = Math.min(r.tfjsB1, await best(1, 1, imgs.length, () => runTfjs(tfFull, [feed1(i++)], ['tower_0/detections'])));
    r.onnxB1OneThread = Math.min(r.onnxB1OneThread, await best(1, 1, imgs.length, () => runOrt(ortFull1t, feed1(i++))));
    r.onnxB8 = Math.min(r.onnxB8, await best(1, imgs.length, 1, () => runOrt(ortHeads, feed8)));
    r.tfjsB8 = Math.min(r.tfjsB8, await best(1, imgs.length, 1, () => runTfjs(tfHeads, [feed8], HEADS)));
    r.onnxB8OneThread = Math.min(r.onnxB8OneThread, await best(1, imgs.length, 1, () => runOrt(ortHeads1t, feed8)));
  }
  tfFull.dispose();
  tfHeads.dispose();
  await Promise.all([ortFull.release(), ortHeads.release(), ortFull1t.release(), ortHeads1t.release()]);
  const ms = (x: number) => Math.round(x * 10) / 10;
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return {
    model: 'centernet-coco (converted from @vladmandic/human models/centernet)',
    frames: `${imgs.length} frames of ${video.split('/').pop()} at 1 fps, stretched to 512x512`,
    tfjsBackend: tf.getBackend(),
    batch1: { graph: 'full (detections)', onnxMsPerFrame: ms(r.onnxB1), onnxOneThreadMsPerFrame: ms(r.onnxB1OneThread), tfjsMsPerFrame: ms(r.tfjsB1), onnxVsTfjs: ratio(r.onnxB1, r.tfjsB1), onnxOneThreadVsTfjs: ratio(r.onnxB1OneThread, r.tfjsB1) },
    batch8: { graph: 'backbone + heads (keypoints, wh), dynamic batch', onnxMsPerFrame: ms(r.onnxB8), onnxOneThreadMsPerFrame: ms(r.onnxB8OneThread), tfjsMsPerFrame: ms(r.tfjsB8), onnxVsTfjs: ratio(r.onnxB8, r.tfjsB8), onnxOneThreadVsTfjs: ratio(r.onnxB8OneThread, r.tfjsB8) },
    goal: 'ONNX at most half of tfjs-wasm per frame (onnxVsTfjs <= 0.5)',
  };
}
