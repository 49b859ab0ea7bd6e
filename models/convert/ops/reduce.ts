// Reductions, selection and resizing: Mean/Sum/Max over axes (remapped when the input is NCHW), ArgMax,
// TopKV2, Softmax, ResizeBilinear and (fused) MatMul.
import type { Context, Value } from '../context.js';
import { TO_NCHW } from '../context.js';
import type { TfNode } from '../tfjs-model.js';
import { activation } from './activation.js';
import { fusedOps } from './conv.js';
import type { OpHandler } from './handler.js';

const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function inputs(ctx: Context, node: TfNode, n: number): Value[] {
  const ins = ctx.inputs(node);
  if (ins.length < n) ctx.fail(node, `expects ${n} inputs, has ${ins.length}`);
  return ins;
}

function reduce(op: 'ReduceMean' | 'ReduceSum' | 'ReduceMax'): OpHandler {
  return (ctx, node) => {
    const [x, a] = inputs(ctx, node, 2) as [Value, Value];
    const rank = x.shape.length;
    const axes = [...new Set(ctx.constInts(node, a, 'the axes').map((d) => axisOf(d, rank)))].sort();
    const keep = ctx.attrs(node).bool('keep_dims');
    if (axes.includes(0)) ctx.staticBatch(node, x);
    const kept = [...Array(rank).keys()].filter((i) => !axes.includes(i));
    // In NCHW the result keeps TF's order when dims are kept, or when the survivors stay in order.
    const nchwKept = TO_NCHW.filter((i) => kept.includes(i));
    const nchw = x.nchw && (keep || nchwKept.every((v, i) => v === kept[i]));
    const onnxAxes = nchw ? axes.map((d) => TO_NCHW.indexOf(d)).sort() : axes;
    const out = ctx.b.node(op, [nchw ? ctx.nchwLayout(x) : ctx.tfLayout(x)], { axes: onnxAxes, keepdims: keep ? 1 : 0 }, nchw && keep ? `${node.name}/nchw` : node.name);
    const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: nchw && keep, tf: node.name });
  };
}

function argMax(ctx: Context, node: TfNode): void {
  const [x, a] = inputs(ctx, node, 2) as [Value, Value];
  const axis = axisOf(ctx.constInts(node, a, 'the axis')[0] ?? 0, x.shape.length);
  if (axis === 0) ctx.staticBatch(node, x);
  const outType = ctx.attrs(node).type('output_type') ?? 'DT_INT64';
  ctx.attrs(node).expect('output_type', outType, ['DT_INT32', 'DT_INT64']);
  const idx = ctx.b.node('ArgMax', [ctx.tfLayout(x)], { axis, keepdims: 0 }, outType === 'DT_INT64' ? node.name : ctx.fresh(node.name));
  const out = outType === 'DT_INT64' ? idx : ctx.b.node('Cast', [idx], { to: 6 }, node.name);
  ctx.set(node.name, { onnx: out, dtype: outType === 'DT_INT64' ? 'int64' : 'int32', shape: x.shape.filter((_, i) => i !== axis), nchw: false, tf: node.name });
}

function topK(ctx: Context, node: TfNode): void {
  const [x, k] = inputs(ctx, node, 2) as [Value, Value];
  const kv = ctx.constInts(node, k, 'k')[0] ?? 1;
  if (x.shape.length < 2) ctx.staticBatch(node, x);
  const idx64 = ctx.fresh(`${node.name}:1`);
  const [values] = ctx.b.nodeMulti('TopK', [ctx.tfLayout(x), ctx.scalar('int64', [kv])], [node.name, idx64], { axis: -1, largest: 1, sorted: 1 });
  const idx = ctx.b.node('Cast', [idx64], { to: 6 }, `${node.name}:1`);
  const shape = [...x.shape.slice(0, -1), kv];
  ctx.set(node.name, { onnx: values as string, dtype: x.dtype, shape, nchw: false, tf: node.name });
  ctx.set(node.name, { onnx: idx, dtype: 'int32', shape, nchw: false, tf: `${node.name}:1` }, 1);
}

function softmax(ctx: Context, node: TfNode): void {
  const [x] = inputs(ctx, node, 1) as [Value];
  const out = ctx.b.node('Softmax', [x.nchw ? ctx.nchwLayout(x) : ctx.tfLayout(x)], { axis: x.nchw ? 1 : -1 }, x.nchw ? `${node.name}/nchw` : node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape: x.shape, nchw: x.nchw, tf: node.name });
}

/** A Resize target traced at another input size, scaled to this one; it must come out whole. */
function scaledSize(ctx: Context, node: TfNode, size: number[]): number[] {
  const scale = ctx.spatialScale;
  if (!scale) return size;
  const scaled = size.map((v, i) => v * (scale[i] as number));
  if (!scaled.every((v) => Math.abs(v - Math.round(v)) < 1e-9)) ctx.fail(node, `the traced size ${size.join('x')} does not scale to a whole size at this input size (${scaled.join('x')})`);
  return scaled.map(Math.round);
}

function resize(mode: 'linear' | 'nearest'): OpHandler {
  return (ctx, node) => {
    const [x, s] = inputs(ctx, node, 2) as [Value, Value];
    if (x.shape.length !== 4) ctx.fail(node, `expects a rank-4 image, got rank ${x.shape.length}`);
    const [h, w] = scaledSize(ctx, node, ctx.constInts(node, s, 'the size'));
    const a = ctx.attrs(node);
    const align = a.bool('align_corners');
    const half = a.bool('half_pixel_centers');
    if (align && half) ctx.fail(node, 'align_corners and half_pixel_centers together are not supported');
    // TF's three coordinate conventions map one to one onto ONNX Resize's.
    const coord = align ? 'align_corners' : half ? (mode === 'nearest' ? 'tf_half_pixel_for_nn' : 'half_pixel') : 'asymmetric';
    const attrs = { mode, coordinate_transformation_mode: coord, ...(mode === 'nearest' ? { nearest_mode: align ? 'round_prefer_ceil' : 'floor' } : {}) };
    let sizes: string;
    if (x.shape[0] === null) {
      // Dynamic batch: sizes must include N, so take it from the input's shape at run time.
      const n = ctx.b.node('Slice', [ctx.b.node('Shape', [ctx.nchwLayout(x)]), ctx.scalar('int64', [0]), ctx.scalar('int64', [2])]);
      sizes = ctx.b.node('Concat', [n, ctx.scalar('int64', [h as number, w as number])], { axis: 0 });
    } else {
      sizes = ctx.scalar('int64', [x.shape[0] as number, x.shape[3] as number, h as number, w as number]);
    }
    const out = ctx.b.node('Resize', [ctx.nchwLayout(x), '', '', sizes], attrs, `${node.name}/nchw`);
    ctx.set(node.name, { onnx: out, dtype: x.dtype, shape: [x.shape[0] ?? null, h ?? null, w ?? null, x.shape[3] ?? null], nchw: true, tf: node.name });
  };
}

function matMul(fused: boolean): OpHandler {
  return (ctx, node) => {
    const [a, b, bias] = inputs(ctx, node, 2) as [Value, Value, Value | undefined];
    const at = ctx.attrs(node);
    const ta = at.bool('transpose_a');
    const tb = at.bool('transpose_b');
    if (a.shape.length !== 2 || b.shape.length !== 2) ctx.fail(node, 'only rank-2 MatMul is supported');
    if (ta) ctx.staticBatch(node, a);
    const { bias: hasBias, act } = fused ? fusedOps(ctx, node) : { bias: false, act: undefined };
    const ins = [ctx.tfLayout(a), ctx.tfLayout(b)];
    if (hasBias) {
      if (!bias) return ctx.fail(node, 'the fused bias is missing');
      ins.push(ctx.tfLayout(bias));
    }
    const gemm = ctx.b.node('Gemm', ins, { transA: ta ? 1 : 0, transB: tb ? 1 : 0 }, act ? ctx.fresh(node.name) : node.name);
    const out = act ? activation(ctx, node, act, gemm, node.name) : gemm;
    const shape = [ta ? (a.shape[1] ?? null) : (a.shape[0] ?? null), tb ? (b.shape[0] ?? null) : (b.shape[1] ?? null)];
    ctx.set(node.name, { onnx: out, dtype: 'float32', shape, nchw: false, tf: node.name });
  };
}

export const reduceOps: Record<string, OpHandler> = {
  Mean: reduce('ReduceMean'),
  Sum: reduce('ReduceSum'),
  Max: reduce('ReduceMax'),
  ArgMax: argMax,
  TopKV2: topK,
  Softmax: softmax,
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
  MatMul: matMul(false),
  _FusedMatMul: matMul(true),
};
