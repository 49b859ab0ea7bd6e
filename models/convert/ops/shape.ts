// Ops that move elements between axes (Reshape, slicing, gathering, stacking). They follow TF's axis
// order, so an NCHW input is transposed back first; constant inputs are folded where they can be.
import type { Context, Dim, DType, Value } from '../context.js';
import { sizeOf, TO_NCHW } from '../context.js';
import type { TfNode } from '../tfjs-model.js';
import type { OpHandler } from './handler.js';

const BIG = 2 ** 53 - 1;
const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const TF_TYPES: Record<string, DType> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_INT64: 'int64', DT_DOUBLE: 'float64' };
const ONNX_TYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export function tfType(ctx: Context, node: TfNode, attr: string): DType {
  const t = ctx.attrs(node).type(attr);
  const d = t ? TF_TYPES[t] : undefined;
  if (!d) ctx.fail(node, `attribute ${attr} = ${t ?? '(missing)'} is not a supported dtype (supported: ${Object.keys(TF_TYPES).join(', ')})`);
  return d;
}

function one(ctx: Context, node: TfNode, n = 1): Value[] {
  const ins = ctx.inputs(node);
  if (ins.length < n) ctx.fail(node, `expects ${n} inputs, has ${ins.length}`);
  return ins;
}

const isConst = (v: Value) => v.data !== undefined && v.onnx === undefined;

function reshape(ctx: Context, node: TfNode): void {
  const [x, s] = one(ctx, node, 2) as [Value, Value];
  const target = ctx.constInts(node, s, 'the target shape');
  const shape: Dim[] = [];
  const dynamic = x.shape[0] === null && !isConst(x);
  if (dynamic) {
    // A leading 1 in a shape traced at batch 1 is the batch: ONNX's 0 copies it from the input.
    if (target[0] !== 1) ctx.staticBatch(node, x);
    target[0] = 0;
  }
  const total = sizeOf(dynamic ? x.shape.slice(1) : x.shape);
  const known = target.reduce((a, d) => (d > 0 ? a * d : a), 1);
  for (const [i, d] of target.entries()) {
    if (i === 0 && dynamic) shape.push(null);
    else if (d === -1) shape.push(total === null ? null : total / known);
    else shape.push(d);
  }
  if (isConst(x)) {
    ctx.set(node.name, { ...x, shape, tf: node.name });
    return;
  }
  const out = ctx.b.node('Reshape', [ctx.tfLayout(x), ctx.scalar('int64', target)], {}, node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: false, tf: node.name });
}

function unsqueezeShape(shape: Dim[], axes: number[]): Dim[] {
  const out = [...shape];
  for (const a of [...axes].sort((p, q) => p - q)) out.splice(a, 0, 1);
  return out;
}

function expandDims(ctx: Context, node: TfNode): void {
  const [x, a] = one(ctx, node, 2) as [Value, Value];
  const axis = axisOf(ctx.constInts(node, a, 'the axis')[0] ?? 0, x.shape.length + 1);
  const shape = unsqueezeShape(x.shape, [axis]);
  if (isConst(x)) return ctx.set(node.name, { ...x, shape, tf: node.name });
  if (axis === 0) ctx.staticBatch(node, x);
  const out = ctx.b.node('Unsqueeze', [ctx.tfLayout(x), ctx.scalar('int64', [axis])], {}, node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: false, tf: node.name });
}

function squeeze(ctx: Context, node: TfNode): void {
  const [x] = one(ctx, node) as [Value];
  let axes = ctx.attrs(node).ints('squeeze_dims', []).map((d) => axisOf(d, x.shape.length));
  if (axes.length === 0) axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  if (isConst(x)) return ctx.set(node.name, { ...x, shape, tf: node.name });
  if (axes.includes(0)) ctx.staticBatch(node, x);
  const out = ctx.b.node('Squeeze', [ctx.tfLayout(x), ctx.scalar('int64', axes)], {}, node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: false, tf: node.name });
}

function stridedSlice(ctx: Context, node: TfNode): void {
  const [x, b, e, s] = one(ctx, node, 4) as [Value, Value, Value, Value];
  const a = ctx.attrs(node);
  a.expect('ellipsis_mask', a.int('ellipsis_mask', 0), [0]);
  a.expect('new_axis_mask', a.int('new_axis_mask', 0), [0]);
  const beginMask = a.int('begin_mask', 0);
  const endMask = a.int('end_mask', 0);
  const shrinkMask = a.int('shrink_axis_mask', 0);
  const begin = ctx.constInts(node, b, 'begin');
  const end = ctx.constInts(node, e, 'end');
  const strides = ctx.constInts(node, s, 'strides');
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const shrink: number[] = [];
  const shape = [...x.shape];
  for (let i = 0; i < begin.length; i++) {
    const step = strides[i] ?? 1;
    let st = beginMask & (1 << i) ? (step > 0 ? 0 : BIG) : (begin[i] ?? 0);
    let en = endMask & (1 << i) ? (step > 0 ? BIG : -BIG) : (end[i] ?? 0);
    if (shrinkMask & (1 << i)) {
      st = begin[i] ?? 0;
      en = st === -1 ? BIG : st + 1;
      shrink.push(i);
    }
    const dim = shape[i];
    const full = step === 1 && st === 0 && en >= (dim ?? BIG) && !(shrinkMask & (1 << i));
    if (full) continue;
    if (i === 0) ctx.staticBatch(node, x);
    starts.push(st);
    ends.push(en);
    axes.push(i);
    steps.push(step);
    if (dim !== null && dim !== undefined) {
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
      const s0 = step > 0 ? clamp(st, 0, dim) : clamp(st, -1, dim - 1);
      const e0 = step > 0 ? clamp(en, 0, dim) : clamp(en, -1, dim - 1);
      shape[i] = Math.max(0, Math.ceil((e0 - s0) / step));
    }
  }
  let out = ctx.tfLayout(x);
  if (axes.length > 0) {
    out = ctx.b.node('Slice', [out, ctx.scalar('int64', starts), ctx.scalar('int64', ends), ctx.scalar('int64', axes), ctx.scalar('int64', steps)], {}, shrink.length ? ctx.fresh(node.name) : node.name);
  }
  if (shrink.length) out = ctx.b.node('Squeeze', [out, ctx.scalar('int64', shrink)], {}, node.name);
  else if (axes.length === 0) out = ctx.b.node('Identity', [out], {}, node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape: shape.filter((_, i) => !shrink.includes(i)), nchw: false, tf: node.name });
}

function concat(ctx: Context, node: TfNode): void {
  const ins = ctx.inputs(node);
  const axisV = ins.pop();
  if (!axisV || ins.length === 0) return ctx.fail(node, 'expects values and an axis');
  const rank = (ins[0] as Value).shape.length;
  const axis = axisOf(ctx.constInts(node, axisV, 'the axis')[0] ?? 0, rank);
  const runtime = ins.filter((v) => !isConst(v));
  const nchw = rank === 4 && runtime.some((v) => v.nchw) && runtime.every((v) => v.shape.length === 4);
  if (axis === 0) ctx.staticBatch(node, ...ins);
  const names = ins.map((v) => (nchw ? ctx.nchwLayout(v) : ctx.tfLayout(v)));
  const onnxAxis = nchw ? TO_NCHW.indexOf(axis) : axis;
  const out = ctx.b.node('Concat', names, { axis: onnxAxis }, nchw ? `${node.name}/nchw` : node.name);
  const shape = [...(ins[0] as Value).shape];
  const sizes = ins.map((v) => v.shape[axis] ?? null);
  shape[axis] = sizes.some((d) => d === null) ? null : (sizes as number[]).reduce((p, q) => p + q, 0);
  ctx.set(node.name, { onnx: out, dtype: (ins[0] as Value).dtype, shape, nchw, tf: node.name });
}

function pack(ctx: Context, node: TfNode): void {
  const ins = ctx.inputs(node);
  if (ins.length === 0) return ctx.fail(node, 'has no input');
  const rank = (ins[0] as Value).shape.length;
  const axis = axisOf(ctx.attrs(node).int('axis', 0), rank + 1);
  if (axis === 0) ctx.staticBatch(node, ...ins);
  const axesName = ctx.scalar('int64', [axis]);
  const names = ins.map((v) => ctx.b.node('Unsqueeze', [ctx.tfLayout(v), axesName]));
  const out = ctx.b.node('Concat', names, { axis }, node.name);
  const shape = unsqueezeShape((ins[0] as Value).shape, [axis]);
  shape[axis] = ins.length;
  ctx.set(node.name, { onnx: out, dtype: (ins[0] as Value).dtype, shape, nchw: false, tf: node.name });
}

function unpack(ctx: Context, node: TfNode): void {
  const [x] = one(ctx, node) as [Value];
  const axis = axisOf(ctx.attrs(node).int('axis', 0), x.shape.length);
  const num = ctx.attrs(node).int('num', x.shape[axis] ?? 0);
  if (axis === 0) ctx.staticBatch(node, x);
  const src = ctx.tfLayout(x);
  const shape = x.shape.filter((_, i) => i !== axis);
  for (let i = 0; i < num; i++) {
    // Gather with a scalar index drops the axis, which is what each Unpack output is.
    const name = i === 0 ? node.name : `${node.name}:${i}`;
    const out = ctx.b.node('Gather', [src, ctx.scalar('int64', i)], { axis }, name);
    ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: false, tf: name }, i);
  }
}

function pad(ctx: Context, node: TfNode): void {
  const [x, p, c] = one(ctx, node, 2) as [Value, Value, Value | undefined];
  const pads = ctx.constInts(node, p, 'the paddings');
  const rank = x.shape.length;
  if (pads.length !== 2 * rank) ctx.fail(node, `paddings hold ${pads.length} numbers for a rank-${rank} tensor`);
  if (x.shape[0] === null && (pads[0] !== 0 || pads[1] !== 0)) ctx.staticBatch(node, x);
  const nchw = x.nchw;
  const order = nchw ? TO_NCHW : [...Array(rank).keys()];
  const onnxPads = [...order.map((a) => pads[2 * a] as number), ...order.map((a) => pads[2 * a + 1] as number)];
  if (c && !c.data) ctx.fail(node, 'the pad value must be a constant');
  const value = c?.data ? ctx.scalar('float32', Number(c.data[0])) : '';
  const ins = [nchw ? ctx.nchwLayout(x) : ctx.tfLayout(x), ctx.scalar('int64', onnxPads), ...(value ? [value] : [])];
  const out = ctx.b.node('Pad', ins, { mode: 'constant' }, nchw ? `${node.name}/nchw` : node.name);
  const shape = x.shape.map((d, i) => (d === null ? null : d + (pads[2 * i] as number) + (pads[2 * i + 1] as number)));
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw, tf: node.name });
}

function gather(ctx: Context, node: TfNode): void {
  const [x, idx, a] = one(ctx, node, 3) as [Value, Value, Value];
  ctx.attrs(node).expect('batch_dims', ctx.attrs(node).int('batch_dims', 0), [0]);
  const axis = axisOf(ctx.constInts(node, a, 'the axis')[0] ?? 0, x.shape.length);
  ctx.staticBatch(node, x, idx);
  const out = ctx.b.node('Gather', [ctx.tfLayout(x), ctx.tfLayout(idx)], { axis }, node.name);
  const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape, nchw: false, tf: node.name });
}

function gatherNd(ctx: Context, node: TfNode): void {
  const [x, idx] = one(ctx, node, 2) as [Value, Value];
  ctx.staticBatch(node, x, idx);
  const depth = idx.shape[idx.shape.length - 1];
  if (typeof depth !== 'number') return ctx.fail(node, 'needs a known index depth');
  const i64 = ctx.b.node('Cast', [ctx.tfLayout(idx)], { to: 7 });
  const out = ctx.b.node('GatherND', [ctx.tfLayout(x), i64], {}, node.name);
  ctx.set(node.name, { onnx: out, dtype: x.dtype, shape: [...idx.shape.slice(0, -1), ...x.shape.slice(depth)], nchw: false, tf: node.name });
}

function cast(ctx: Context, node: TfNode): void {
  const [x] = one(ctx, node) as [Value];
  const to = tfType(ctx, node, 'DstT');
  if (ctx.attrs(node).bool('Truncate')) ctx.fail(node, 'attribute Truncate = true is not supported');
  const src = x.nchw ? ctx.nchwLayout(x) : ctx.tfLayout(x);
  const out = ctx.b.node('Cast', [src], { to: ONNX_TYPE[to] }, x.nchw ? `${node.name}/nchw` : node.name);
  ctx.set(node.name, { onnx: out, dtype: to, shape: x.shape, nchw: x.nchw, tf: node.name });
}

export const shapeOps: Record<string, OpHandler> = {
  Reshape: reshape,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  StridedSlice: stridedSlice,
  ConcatV2: concat,
  Pack: pack,
  Unpack: unpack,
  Pad: pad,
  PadV2: pad,
  GatherV2: gather,
  GatherNd: gatherNd,
  Cast: cast,
  Identity: (ctx, node) => ctx.set(node.name, one(ctx, node)[0] as Value),
  StopGradient: (ctx, node) => ctx.set(node.name, one(ctx, node)[0] as Value),
};
