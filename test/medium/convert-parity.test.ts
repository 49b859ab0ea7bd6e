// The converted vision models compute what TF.js computes: each of the four, on real frames from
// ../shared/media, gives every output within 1e-3 of @tensorflow/tfjs's cpu backend (its reference
// kernels) on the same input. A failure bisects to the first TF node whose converted value differs.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsGraph, dependencyOrder, type Converted } from '../../models/convert/convert.js';
import { HUMAN_MODELS, type HumanModel } from '../../models/convert/human-models.js';
import type { TfjsGraph } from '../../models/convert/tfjs-model.js';
import { humanPackageDir, readTfjsFiles } from '../../models/runtime/convert-installed.js';
import { rgbFrame } from '../helpers/frames.js';
import { BOTTLE_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { allclose, loadTfjs, maxAbsDiff, onnxSession, runOnnx, runTfjs, useBackend, type Feed } from '../helpers/tfjs.js';
import { readFileSync } from 'node:fs';
import type { GraphModel } from '@tensorflow/tfjs-converter';

/**
 * 1e-3 absolute, plus 1e-5 of the output's largest magnitude: two float32 implementations summing in
 * different orders differ by about 1e-5 relative, which passes 1e-3 on outputs in pixels (centernet's
 * box sizes reach 300 and its tower_0/mul scales a conv output by 4; blazeface's raw logits reach
 * -500). Unit-scale outputs (scores, heatmaps, descriptors, keypoints) are held to 1e-3 flat. For
 * scale: TF.js's own wasm backend differs from its cpu backend by 0.05 px on centernet's sizes.
 */
const ATOL = 1e-3;
const RTOL = 1e-5;
const BOTTLES: [string, number] = [BOTTLE_DETECTION, 12];
const PERSON: [string, number] = [join(SHARED_MEDIA, 'people', 'book.mkv'), 1.2];
/** TF.js's cpu kernels are plain JS (centernet about 60 s a frame here): one frame each, both for the small blazeface. */
const FRAMES: Record<string, [string, number][]> = {
  'centernet-coco': [BOTTLES],
  blazeface: [BOTTLES, PERSON],
  faceres: [PERSON],
  'movenet-lightning': [PERSON],
};

/** The model's input from an RGB frame, prepared as the human library does (see human-models.ts). */
function feedFor(spec: HumanModel, converted: Converted, rgb: Uint8Array): Feed {
  const input = converted.inputs[0]!;
  const shape = [1, spec.image.size, spec.image.size, 3];
  if (input.type === 'int32') return { name: input.name, shape, data: Int32Array.from(rgb) };
  const { mean, std } = spec.image;
  const data = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) data[i] = ((rgb[i] as number) / 255 - (mean[i % 3] as number)) / (std[i % 3] as number);
  return { name: input.name, shape, data };
}

function tfjsModel(spec: HumanModel): Promise<GraphModel> {
  const dir = join(humanPackageDir(), 'models');
  const json = JSON.parse(readFileSync(join(dir, `${spec.source}.json`), 'utf8')) as Record<string, unknown>;
  return loadTfjs(json, new Uint8Array(readFileSync(join(dir, `${spec.source}.bin`))));
}

/**
 * The first float node, in dependency order, whose ONNX value differs from TF.js's: every ancestor of
 * it comes earlier and matched, so the fault is in that node's conversion. Asks both sides for every
 * node in one run (this holds all activations at once; it only runs after a failure).
 */
async function firstDifferingNode(graph: TfjsGraph, model: GraphModel, feed: Feed): Promise<string> {
  const order = dependencyOrder(graph);
  const names = order.filter((n) => !['Const', 'Placeholder', 'Identity'].includes(n.op) && n.attr?.['T']?.type === 'DT_FLOAT').map((n) => n.name);
  const onnx = await runOnnx(await onnxSession(convertTfjsGraph(graph, { outputs: names, batch: 1 }).onnx), [feed], names);
  const ref = runTfjs(model, [feed], names);
  for (const [i, name] of names.entries()) {
    const d = allclose(ref[i]!.data, onnx[i]!.data, ATOL, RTOL);
    if (d.excess > 0) return `${name} (${order.find((n) => n.name === name)?.op}): tfjs ${ref[i]!.data[d.at]} vs onnx ${onnx[i]!.data[d.at]} at flat index ${d.at}`;
  }
  return 'no single node differs by more than the tolerance';
}

// A graph converted at another input size than traced (centernet-coco-320) has no TF.js reference:
// TF.js runs it only at the traced size (its resize targets are constants of that size). Its ops are
// the 512 conversion's, checked here; its TypeScript decode is checked against the 512 graph's own
// (models/runtime/centernet-maps.spec.ts). The int8 graph (centernet-coco-int8) is centernet-coco's
// conversion, checked here, then quantized: it is measured against the float graph instead
// (test/quality/detect-int8.test.ts, test/bench/detect-int8.ts).
describe.each(HUMAN_MODELS.filter((m) => !m.inputSize && !m.int8).map((m) => [m.name, m] as const))('%s', (_name, spec) => {
  let graph: TfjsGraph;
  let converted: Converted;
  let model: GraphModel;
  const frames: Uint8Array[] = [];
  const sources = FRAMES[spec.name] ?? [];

  beforeAll(async () => {
    graph = readTfjsFiles(join(humanPackageDir(), 'models', `${spec.source}.json`), spec.name);
    converted = convertTfjsGraph(graph, { batch: spec.batch });
    await useBackend('cpu');
    model = await tfjsModel(spec);
    for (const [file, t] of [...sources, BOTTLES]) frames.push(await rgbFrame(file, t, spec.image.size));
  });
  afterAll(() => model?.dispose());

  it('every output matches tfjs (cpu backend) within 1e-3 on real frames', { timeout: 300_000 }, async () => {
    const session = await onnxSession(converted.onnx);
    const names = converted.outputs.map((o) => o.name);
    for (const [f, source] of sources.entries()) {
      const feed = feedFor(spec, converted, frames[f]!);
      const ref = runTfjs(model, [feed], names);
      const got = await runOnnx(session, [feed], names);
      for (const [i, name] of names.entries()) {
        expect(got[i]!.shape, `${name} shape`).toEqual(ref[i]!.shape);
        const d = allclose(ref[i]!.data, got[i]!.data, ATOL, RTOL);
        if (d.excess > 0) {
          const where = await firstDifferingNode(graph, model, feed);
          expect.fail(`${spec.name} on ${source.join(' at ')} s, output ${name}: tfjs ${ref[i]!.data[d.at]} vs onnx ${got[i]!.data[d.at]} at flat index ${d.at}; first differing node: ${where}`);
        }
      }
    }
  });

  it.runIf(spec.batch === 'dynamic')('a batch of two frames gives each frame its batch-of-one result', async () => {
    const session = await onnxSession(converted.onnx);
    const names = converted.outputs.map((o) => o.name);
    const pair = [frames[0]!, frames[frames.length - 1]!];
    const singles = await Promise.all(pair.map((rgb) => runOnnx(session, [feedFor(spec, converted, rgb)], names)));
    const a = feedFor(spec, converted, frames[0]!);
    const b = feedFor(spec, converted, frames[frames.length - 1]!);
    const data = new Float32Array(a.data.length * 2);
    data.set(a.data, 0);
    data.set(b.data, a.data.length);
    const both = await runOnnx(session, [{ name: a.name, shape: [2, ...a.shape.slice(1)], data }], names);
    for (const [i, name] of names.entries()) {
      const per = both[i]!.data.length / 2;
      expect(both[i]!.shape[0], name).toBe(2);
      for (const k of [0, 1]) expect(maxAbsDiff(both[i]!.data.subarray(k * per, (k + 1) * per), singles[k]![i]!.data).max, `${name} item ${k}`).toBeLessThan(1e-4);
    }
  });
});
