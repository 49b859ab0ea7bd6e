// The int8 pass on a small generated graph with the shapes of a MobileNetV3 block (conv, relu,
// hard-swish, depthwise conv, residual add, a final score conv): the file really holds int8 weights,
// onnxruntime really fuses it into int8 kernels, and its output stays close to the float graph's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { rng } from '../../test/helpers/tfjs.js';
import { calibrateGraph } from '../runtime/calibrate.js';
import { GraphBuilder } from '../testing/onnx-builder.js';
import { ConvertError } from './errors.js';
import { DataType, decodeModel } from './onnx-model.js';
import { calibrationTensors, quantizeGraph, type Quantized } from './quantize.js';

const SHAPE = [1, 8, 32, 32];
const tmp = mkdtempSync(join(tmpdir(), 'engram-quantize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function randoms(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** x -> conv3x3 -> relu -> conv1x1 -> hard-swish -> depthwise 3x3 -> relu -> conv1x1 (+ residual) -> conv1x1 scores. */
function blockGraph(): Uint8Array {
  const b = new GraphBuilder();
  let seed = 1;
  const conv = (input: string, cin: number, cout: number, k: number, group = 1) => {
    const w = b.floatInit(`w${seed}`, [cout, cin / group, k, k], randoms((cout * cin * k * k) / group, seed, 1 / Math.sqrt((cin / group) * k * k)));
    const bias = b.floatInit(`b${seed}`, [cout], randoms(cout, seed + 100, 0.2));
    seed += 1;
    return b.node('Conv', [input, w, bias], { group, kernel_shape: [k, k], pads: [k >> 1, k >> 1, k >> 1, k >> 1], strides: [1, 1], dilations: [1, 1] });
  };
  const c1 = b.node('Relu', [conv('x', 8, 16, 3)]);
  const c2 = conv(c1, 16, 16, 1);
  // hard-swish as TF.js writes it: x * (1/6) * clip(x + 3, 0, 6)
  const sixth = b.floatInit('sixth', [], Float32Array.of(0.1666259765625));
  const three = b.floatInit('three', [], Float32Array.of(3));
  const zero = b.floatInit('zero', [], Float32Array.of(0));
  const six = b.floatInit('six', [], Float32Array.of(6));
  const hs = b.node('Mul', [b.node('Mul', [sixth, c2]), b.node('Clip', [b.node('Add', [c2, three]), zero, six])]);
  const dw = b.node('Relu', [conv(hs, 16, 16, 3, 16)]);
  const res = b.node('Add', [conv(dw, 16, 16, 1), hs]);
  b.node('Conv', [res, b.floatInit('ws', [4, 16, 1, 1], randoms(64, 77, 0.25)), b.floatInit('bs', [4], randoms(4, 78, 0.1))], { group: 1, kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1] }, 'y');
  return b.build('block', [{ name: 'x', type: 'float32', shape: SHAPE }], [{ name: 'y', type: 'float32', shape: [1, 4, 32, 32] }]);
}

const inputs = (from: number, count: number) => Array.from({ length: count }, (_, i) => randoms(SHAPE.reduce((a, c) => a * c, 1), from + i, 2));
const options = (extra: ort.InferenceSession.SessionOptions = {}): ort.InferenceSession.SessionOptions => ({ graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3, ...extra });

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, options());
  const out = await s.run({ x: new ort.Tensor('float32', x, SHAPE) });
  await s.release();
  return out['y']!.data as Float32Array;
}

describe('quantizeGraph', () => {
  const float = blockGraph();
  let q: Quantized;

  beforeAll(async () => {
    const calibration = await calibrateGraph(float, calibrationTensors(float), inputs(1000, 16), SHAPE, { kind: 'percentile', tail: 1e-4 });
    q = quantizeGraph(float, { ranges: calibration.ranges, sizes: calibration.sizes });
  });

  it('stores int8 weights per output channel for every conv but the scores conv', () => {
    const model = decodeModel(q.onnx);
    const inits = new Map(model.graph!.initializer!.map((t) => [t.name as string, t]));
    const convs = model.graph!.node!.filter((n) => n.opType === 'Conv');
    const weightOf = (conv: (typeof convs)[number]) => {
      const dq = model.graph!.node!.find((n) => n.output?.[0] === conv.input?.[1]);
      return dq ? inits.get(dq.input![0]!) : inits.get(conv.input![1]!);
    };
    const int8 = convs.filter((c) => weightOf(c)?.dataType === DataType.INT8);
    expect(int8).toHaveLength(4);
    expect(convs.filter((c) => weightOf(c)?.dataType === DataType.FLOAT).map((c) => c.output?.[0])).toEqual(['y']);
    // the float weights of the quantized convs are gone from the file
    expect([...inits.keys()].filter((k) => /^w\d$/.test(k))).toEqual([]);
    const scale = inits.get(`${int8[0]!.name}/weight/scale`)!;
    expect(scale.dims?.map(Number)).toEqual([16]);
    expect(q.report).toMatchObject({ int8: { Conv: 4, Add: 1 }, floatConvs: { scores: 1 }, fused: { hardSwish: 1 }, foldedActivations: 2 });
    expect(q.report.weightBytes.int8).toBeLessThan(q.report.weightBytes.float / 2);
  });

  it('onnxruntime runs it on int8 kernels, with no quantize/dequantize left between them', async () => {
    const file = join(tmp, 'optimized.onnx');
    const s = await ort.InferenceSession.create(q.onnx, options({ optimizedModelFilePath: file }));
    await s.release();
    const ops = decodeModel(readFileSync(file)).graph!.node!.map((n) => n.opType as string);
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect(count('QLinearConv')).toBe(4);
    expect(count('QLinearAdd')).toBe(1);
    expect(count('Conv')).toBe(1); // the float scores conv
    // One pair in (the float input), one around the float hard-swish, one out to the float scores conv.
    expect(count('QuantizeLinear')).toBe(2);
    expect(count('DequantizeLinear')).toBe(2);
  });

  it('gives outputs close to the float graph on inputs it was not calibrated on', async () => {
    for (const x of inputs(5000, 4)) {
      const [a, b] = [await run(float, x), await run(q.onnx, x)];
      let err = 0;
      let ref = 0;
      for (let i = 0; i < a.length; i += 1) {
        err += ((a[i] as number) - (b[i] as number)) ** 2;
        ref += (a[i] as number) ** 2;
      }
      expect(Math.sqrt(err / ref)).toBeLessThan(0.05);
    }
  });

  it('a tensor calibration did not measure fails naming it', async () => {
    const calibration = await calibrateGraph(float, calibrationTensors(float), inputs(1000, 2), SHAPE, { kind: 'minmax' });
    const ranges = new Map([...calibration.ranges].filter(([name]) => name !== 'x'));
    expect(() => quantizeGraph(float, { ranges, sizes: calibration.sizes })).toThrow(ConvertError);
    expect(() => quantizeGraph(float, { ranges, sizes: calibration.sizes })).toThrow(/no calibration range for tensor x/);
  });
});
