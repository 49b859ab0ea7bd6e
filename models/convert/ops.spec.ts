// Each op the four shipped models use, converted from a small random TF.js graph and run by
// onnxruntime, against TF.js's own cpu backend on the same input.
import { beforeAll, describe, expect, it } from 'vitest';
import { attr, converterGraph, loadTfjs, maxAbsDiff, onnxSession, rng, runOnnx, runTfjs, TfGraphBuilder, useBackend, type Feed } from '../../test/helpers/tfjs.js';
import { convertTfjsGraph } from './convert.js';

const NHWC = { data_format: attr.str('NHWC') };
const conv = (strides: number, padding: string, extra: Record<string, unknown> = {}) => ({ ...NHWC, strides: attr.ints([1, strides, strides, 1]), padding: attr.str(padding), dilations: attr.ints([1, 1, 1, 1]), ...extra });
const fused = (ops: string[]) => ({ fused_ops: attr.strs(ops), num_args: attr.int(ops.includes('BiasAdd') ? 1 : 0), epsilon: attr.float(0) });

function image(shape: number[], seed = 7, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() * 2 - 1) * scale);
}

/** Converts, runs both, and compares every output (values, shape and dtype). */
async function same(g: TfGraphBuilder, feeds: Feed[], outputs: string[], tol = 1e-4): Promise<void> {
  const { json, shard } = g.artifacts(outputs);
  const converted = convertTfjsGraph(converterGraph('op-test', json, shard));
  const expected = runTfjs(await loadTfjs(json, shard), feeds, outputs);
  const actual = await runOnnx(await onnxSession(converted.onnx), feeds, outputs);
  for (const [i, name] of outputs.entries()) {
    const e = expected[i]!;
    const a = actual[i]!;
    expect(a.shape, `${name} shape`).toEqual(e.shape);
    expect(a.data.constructor.name, `${name} dtype`).toBe(e.data.constructor.name === 'Uint8Array' ? 'Int32Array' : e.data.constructor.name);
    const d = maxAbsDiff(e.data, a.data);
    expect(d.max, `${name}: largest difference at flat index ${d.at}: tfjs ${e.data[d.at]} onnx ${a.data[d.at]}`).toBeLessThanOrEqual(tol);
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('convolutions (NCHW inside, fused bias and activation)', () => {
  it.each([
    ['_FusedConv2D SAME stride 2, BiasAdd+Relu, odd input', [1, 9, 9, 3], 3, 2, 'SAME', ['BiasAdd', 'Relu']],
    ['_FusedConv2D SAME stride 2, BiasAdd, even input', [1, 8, 8, 3], 3, 2, 'SAME', ['BiasAdd']],
    ['_FusedConv2D VALID stride 1, BiasAdd+Relu6', [1, 7, 6, 2], 3, 1, 'VALID', ['BiasAdd', 'Relu6']],
    ['_FusedConv2D 1x1', [1, 5, 5, 4], 1, 1, 'VALID', ['BiasAdd']],
  ] as const)('%s', async (_n, shape, k, s, pad, ops) => {
    const g = new TfGraphBuilder(1);
    const x = g.input('x', [...shape]);
    const w = g.const('w', [k, k, shape[3], 5], 'random');
    const b = g.const('b', [5], 'random');
    g.op('_FusedConv2D', 'y', [x, w, b], { ...conv(s, pad), ...fused([...ops]) });
    await same(g, [{ name: 'x', shape: [...shape], data: image([...shape]) }], ['y']);
  });

  it('Conv2D with dilation 2', async () => {
    const g = new TfGraphBuilder(2);
    const x = g.input('x', [1, 9, 9, 2]);
    g.op('Conv2D', 'y', [x, g.const('w', [3, 3, 2, 3], 'random')], { ...conv(1, 'SAME'), dilations: attr.ints([1, 2, 2, 1]) });
    await same(g, [{ name: 'x', shape: [1, 9, 9, 2], data: image([1, 9, 9, 2]) }], ['y']);
  });

  it('DepthwiseConv2dNative SAME stride 2 with channel multiplier 2', async () => {
    const g = new TfGraphBuilder(3);
    const x = g.input('x', [1, 8, 8, 3]);
    g.op('DepthwiseConv2dNative', 'y', [x, g.const('w', [3, 3, 3, 2], 'random')], conv(2, 'SAME'));
    await same(g, [{ name: 'x', shape: [1, 8, 8, 3], data: image([1, 8, 8, 3]) }], ['y']);
  });

  it('FusedDepthwiseConv2dNative BiasAdd+Relu6', async () => {
    const g = new TfGraphBuilder(4);
    const x = g.input('x', [1, 7, 7, 4]);
    g.op('FusedDepthwiseConv2dNative', 'y', [x, g.const('w', [3, 3, 4, 1], 'random'), g.const('b', [4], 'random')], { ...conv(1, 'SAME'), ...fused(['BiasAdd', 'Relu6']) });
    await same(g, [{ name: 'x', shape: [1, 7, 7, 4], data: image([1, 7, 7, 4], 4, 4) }], ['y']);
  });

  it.each([
    [3, 1, [1, 7, 7, 3]],
    [2, 2, [1, 7, 7, 3]],
  ] as const)('MaxPool ksize %i stride %i SAME', async (k, s, shape) => {
    const g = new TfGraphBuilder(5);
    const x = g.input('x', [...shape]);
    const c = g.op('Conv2D', 'c', [x, g.const('w', [1, 1, 3, 3], 'random')], conv(1, 'VALID'));
    g.op('MaxPool', 'y', [c], { ...NHWC, ksize: attr.ints([1, k, k, 1]), strides: attr.ints([1, s, s, 1]), padding: attr.str('SAME') });
    await same(g, [{ name: 'x', shape: [...shape], data: image([...shape]) }], ['y']);
  });
});

describe('element-wise ops on NCHW activations with constants of every rank', () => {
  it('Mul, Add, AddV2, Sub, RealDiv, Maximum, Minimum, SquaredDifference, Sqrt, Sigmoid, Relu, Relu6, Identity', async () => {
    const g = new TfGraphBuilder(6);
    const x = g.input('x', [1, 6, 5, 4]);
    const c = g.op('Conv2D', 'c', [x, g.const('w', [3, 3, 4, 4], 'random')], conv(1, 'SAME'));
    const m = g.op('Mul', 'm', [g.const('s', [], [1.7]), c]);
    const a = g.op('Add', 'a', [m, g.const('bias', [4], 'random')]);
    const a2 = g.op('AddV2', 'a2', [a, g.const('hw', [6, 5, 1], 'random')]);
    const sub = g.op('Sub', 'sub', [a2, g.const('full', [1, 6, 5, 4], 'random')]);
    const div = g.op('RealDiv', 'div', [sub, g.const('d', [1, 1, 1, 4], [2, 3, 4, 5])]);
    const mx = g.op('Maximum', 'mx', [div, g.const('lo', [], [-0.5])]);
    const mn = g.op('Minimum', 'mn', [mx, g.const('hi', [], [0.8])]);
    const sq = g.op('SquaredDifference', 'sq', [mn, c]);
    const rt = g.op('Sqrt', 'rt', [sq]);
    const sg = g.op('Sigmoid', 'sg', [rt]);
    const r6 = g.op('Relu6', 'r6', [g.op('Mul', 'big', [sg, g.const('ten', [], [10])])]);
    const rl = g.op('Relu', 'rl', [g.op('Sub', 'shift', [r6, g.const('seven', [], [7])])]);
    g.op('Identity', 'out', [g.op('Add', 'sum', [rl, r6])]);
    await same(g, [{ name: 'x', shape: [1, 6, 5, 4], data: image([1, 6, 5, 4]) }], ['out', 'sq']);
  });

  it('a runtime rank-3 operand against an NCHW activation goes back to NHWC', async () => {
    const g = new TfGraphBuilder(7);
    const x = g.input('x', [1, 4, 4, 2]);
    const y = g.input('y', [4, 4, 2]);
    const c = g.op('Conv2D', 'c', [x, g.const('w', [1, 1, 2, 2], 'random')], conv(1, 'VALID'));
    g.op('Mul', 'out', [c, y]);
    await same(g, [{ name: 'x', shape: [1, 4, 4, 2], data: image([1, 4, 4, 2]) }, { name: 'y', shape: [4, 4, 2], data: image([4, 4, 2], 9) }], ['out']);
  });
});

describe('reductions, resizing, concat, pad, matmul', () => {
  it('Mean keep_dims (squeeze-excite) and Mean to [N,C] -> _FusedMatMul -> Softmax / Sigmoid', async () => {
    const g = new TfGraphBuilder(8);
    const x = g.input('x', [1, 5, 5, 3]);
    const c = g.op('Conv2D', 'c', [x, g.const('w', [3, 3, 3, 6], 'random')], conv(2, 'SAME'));
    const axes = g.const('axes', [2], [1, 2], 'int32');
    const se = g.op('Mean', 'se', [c, axes], { keep_dims: attr.bool(true), Tidx: attr.type('int32') });
    const scaled = g.op('Mul', 'scaled', [c, g.op('Sigmoid', 'gate', [se])]);
    const pooled = g.op('Mean', 'pooled', [scaled, g.const('axes2', [2], [1, 2], 'int32')], { keep_dims: attr.bool(false), Tidx: attr.type('int32') });
    const fc = g.op('_FusedMatMul', 'fc', [pooled, g.const('fw', [6, 4], 'random'), g.const('fb', [4], 'random')], { transpose_a: attr.bool(false), transpose_b: attr.bool(false), ...fused(['BiasAdd', 'Relu']) });
    g.op('Softmax', 'prob', [fc]);
    await same(g, [{ name: 'x', shape: [1, 5, 5, 3], data: image([1, 5, 5, 3]) }], ['prob', 'pooled', 'scaled']);
  });

  it.each([
    ['asymmetric', false, false],
    ['half pixel centers', false, true],
    ['align corners', true, false],
  ] as const)('ResizeBilinear (%s), upsampling and downsampling', async (_n, align, half) => {
    const g = new TfGraphBuilder(9);
    const x = g.input('x', [1, 5, 6, 3]);
    const c = g.op('Conv2D', 'c', [x, g.const('w', [1, 1, 3, 3], 'random')], conv(1, 'VALID'));
    const ra = { align_corners: attr.bool(align), half_pixel_centers: attr.bool(half) };
    g.op('ResizeBilinear', 'up', [c, g.const('size', [2], [10, 12], 'int32')], ra);
    g.op('ResizeBilinear', 'down', [c, g.const('size2', [2], [3, 4], 'int32')], ra);
    await same(g, [{ name: 'x', shape: [1, 5, 6, 3], data: image([1, 5, 6, 3]) }], ['up', 'down']);
  });

  it('ConcatV2 on the channel axis (-1 and 3) and Pad', async () => {
    const g = new TfGraphBuilder(10);
    const x = g.input('x', [1, 4, 4, 2]);
    const c1 = g.op('Conv2D', 'c1', [x, g.const('w1', [1, 1, 2, 3], 'random')], conv(1, 'VALID'));
    const c2 = g.op('Conv2D', 'c2', [x, g.const('w2', [3, 3, 2, 2], 'random')], conv(1, 'SAME'));
    const cat = g.op('ConcatV2', 'cat', [c1, c2, g.const('ax', [], [-1], 'int32')], { N: attr.int(2), Tidx: attr.type('int32') });
    const cat2 = g.op('ConcatV2', 'cat2', [cat, c1, g.const('ax2', [], [3], 'int32')], { N: attr.int(2), Tidx: attr.type('int32') });
    g.op('Pad', 'padded', [cat2, g.const('pads', [4, 2], [0, 0, 1, 2, 0, 1, 0, 3], 'int32')], { Tpaddings: attr.type('int32') });
    await same(g, [{ name: 'x', shape: [1, 4, 4, 2], data: image([1, 4, 4, 2]) }], ['padded']);
  });
});

describe('index and shape ops (the detection and keypoint decoders)', () => {
  it('Reshape, TopKV2, FloorDiv, FloorMod, Cast, ExpandDims, GatherV2, StridedSlice, Equal (centernet decoder)', async () => {
    const g = new TfGraphBuilder(11);
    const x = g.input('x', [1, 4, 4, 5]);
    const heat = g.op('Sigmoid', 'heat', [g.op('Conv2D', 'c', [x, g.const('w', [1, 1, 5, 5], 'random')], conv(1, 'VALID'))]);
    const peak = g.op('MaxPool', 'peak', [heat], { ...NHWC, ksize: attr.ints([1, 3, 3, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.str('SAME') });
    const keep = g.op('Cast', 'keep', [g.op('Equal', 'eq', [heat, peak])], { SrcT: attr.type('bool'), DstT: attr.type('float32') }, null);
    const flat = g.op('Reshape', 'flat', [g.op('Mul', 'nms', [heat, keep]), g.const('shape', [2], [1, -1], 'int32')], { Tshape: attr.type('int32') });
    g.op('TopKV2', 'top', [flat, g.const('k', [], [6], 'int32')], { sorted: attr.bool(true) });
    const cls = g.op('FloorMod', 'cls', ['top:1', g.const('nc', [], [5], 'int32')], {}, 'int32');
    const cell = g.op('FloorDiv', 'cell', ['top:1', g.const('nc2', [], [5], 'int32')], {}, 'int32');
    const yx = g.op('Cast', 'clsf', [g.op('ExpandDims', 'clse', [cls, g.const('dim', [], [-1], 'int32')], { Tdim: attr.type('int32') })], { SrcT: attr.type('int32'), DstT: attr.type('float32') }, null);
    const boxes = g.op('Reshape', 'boxes', [g.op('Conv2D', 'wh', [x, g.const('w2', [1, 1, 5, 4], 'random')], conv(1, 'VALID')), g.const('bs', [2], [16, 4], 'int32')], { Tshape: attr.type('int32') });
    const picked = g.op('GatherV2', 'picked', [boxes, g.op('Reshape', 'cellf', [cell, g.const('m1', [1], [-1], 'int32')], { Tshape: attr.type('int32') }, 'int32'), g.const('gax', [], [0], 'int32')], { batch_dims: attr.int(0), Taxis: attr.type('int32'), Tindices: attr.type('int32'), Tparams: attr.type('float32') }, null);
    const b3 = g.op('Reshape', 'b3', [picked, g.const('s3', [3], [1, 6, 4], 'int32')], { Tshape: attr.type('int32') });
    const ss = (name: string, begin: number[], end: number[], masks: Record<string, number>) =>
      g.op('StridedSlice', name, [b3, g.const(`${name}/b`, [3], begin, 'int32'), g.const(`${name}/e`, [3], end, 'int32'), g.const(`${name}/s`, [3], [1, 1, 1], 'int32')], {
        begin_mask: attr.int(masks.begin ?? 0), end_mask: attr.int(masks.end ?? 0), shrink_axis_mask: attr.int(masks.shrink ?? 0), ellipsis_mask: attr.int(0), new_axis_mask: attr.int(0), Index: attr.type('int32'),
      });
    ss('x1', [0, 0, 0], [0, 0, 1], { begin: 3, end: 3 });
    ss('last', [0, 0, -1], [0, 0, 0], { begin: 3, end: 3, shrink: 4 });
    ss('mid', [0, 1, 1], [1, 5, 3], {});
    g.op('ConcatV2', 'det', ['x1', yx, g.const('cax', [], [-1], 'int32')], { N: attr.int(2), Tidx: attr.type('int32') });
    await same(g, [{ name: 'x', shape: [1, 4, 4, 5], data: image([1, 4, 4, 5], 12, 3) }], ['top', 'top:1', 'det', 'last', 'mid']);
  });

  it('integer FloorDiv and FloorMod round toward minus infinity like TF', async () => {
    const g = new TfGraphBuilder(12);
    const x = g.input('x', [8], 'int32');
    g.op('FloorDiv', 'q', [x, g.const('three', [], [3], 'int32')], {}, 'int32');
    g.op('FloorMod', 'r', [x, g.const('three2', [], [3], 'int32')], {}, 'int32');
    await same(g, [{ name: 'x', shape: [8], data: Int32Array.from([-7, -6, -5, -1, 0, 1, 5, 7]) }], ['q', 'r'], 0);
  });

  it('Cast, Unpack, ExpandDims, Squeeze, ArgMax, Pack, GatherNd, Sub/Mul on int32 (movenet decoder)', async () => {
    const g = new TfGraphBuilder(13);
    const x = g.input('x', [1, 6, 6, 3], 'int32');
    const f = g.op('Cast', 'f', [x], { SrcT: attr.type('int32'), DstT: attr.type('float32') }, null);
    const un = g.op('Unpack', 'un', [f], { axis: attr.int(0), num: attr.int(1) });
    const e0 = g.op('ExpandDims', 'e0', [un, g.const('z', [], [0], 'int32')], { Tdim: attr.type('int32') });
    const sq = g.op('Squeeze', 'sq', [e0], { squeeze_dims: attr.ints([0]) });
    const back = g.op('ExpandDims', 'back', [sq, g.const('z2', [], [0], 'int32')], { Tdim: attr.type('int32') });
    const heat = g.op('Conv2D', 'heat', [back, g.const('w', [3, 3, 3, 2], 'random')], conv(1, 'SAME'));
    const flat = g.op('Reshape', 'flat', [heat, g.const('fs', [3], [1, -1, 2], 'int32')], { Tshape: attr.type('int32') });
    const am = g.op('ArgMax', 'am', [flat, g.const('ax', [], [1], 'int32')], { output_type: attr.type('int32'), Tidx: attr.type('int32') });
    const row = g.op('FloorDiv', 'row', [am, g.const('six', [], [6], 'int32')], {}, 'int32');
    const col = g.op('Sub', 'col', [am, g.op('Mul', 'rs', [row, g.const('six2', [], [6], 'int32')], {}, 'int32')], {}, 'int32');
    const r1 = g.op('Reshape', 'r1', [row, g.const('m1', [1], [-1], 'int32')], { Tshape: attr.type('int32') }, 'int32');
    const c1 = g.op('Reshape', 'c1', [col, g.const('m2', [1], [-1], 'int32')], { Tshape: attr.type('int32') }, 'int32');
    const idx = g.op('Pack', 'idx', [g.const('zero', [2], [0, 0], 'int32'), r1, c1], { axis: attr.int(1), N: attr.int(3) }, 'int32');
    g.op('GatherNd', 'got', [heat, idx], { Tparams: attr.type('float32'), Tindices: attr.type('int32') }, null);
    const data = Int32Array.from({ length: 108 }, (_, i) => (i * 37) % 256);
    await same(g, [{ name: 'x', shape: [1, 6, 6, 3], data }], ['got', 'am', 'idx']);
  });
});
