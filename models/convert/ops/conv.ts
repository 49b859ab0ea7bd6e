// Convolutions and pooling in NCHW: TF's HWIO filters are transposed to OIHW once, here, and bias and
// activation that TF fused into the op stay fused (Conv's bias input, then the activation).
import type { Context, Dim, Value } from '../context.js';
import { permute } from '../context.js';
import type { TfNode } from '../tfjs-model.js';
import { activation } from './activation.js';
import type { OpHandler } from './handler.js';

interface Spatial {
  pads: number[];
  out: [Dim, Dim];
  strides: [number, number];
  dilations: [number, number];
}

/** Explicit ONNX pads for TF's SAME/VALID/EXPLICIT padding (SAME puts the odd pixel at the end). */
function spatial(ctx: Context, node: TfNode, x: Value, kh: number, kw: number): Spatial {
  const a = ctx.attrs(node);
  a.expect('data_format', a.string('data_format', 'NHWC'), ['NHWC']);
  const strides = a.ints('strides', [1, 1, 1, 1]);
  const dilations = a.ints('dilations', [1, 1, 1, 1]);
  if (strides[0] !== 1 || strides[3] !== 1) ctx.fail(node, `strides ${JSON.stringify(strides)} over batch or channels are not supported`);
  const s: [number, number] = [strides[1] ?? 1, strides[2] ?? 1];
  const d: [number, number] = [dilations[1] ?? 1, dilations[2] ?? 1];
  const padding = a.expect('padding', a.string('padding'), ['SAME', 'VALID', 'EXPLICIT']);
  const ins: [Dim, Dim] = [x.shape[1] ?? null, x.shape[2] ?? null];
  const k = [kh, kw];
  const begin = [0, 0];
  const end = [0, 0];
  const out: [Dim, Dim] = [null, null];
  for (const i of [0, 1] as const) {
    const size = ins[i];
    const eff = ((k[i] as number) - 1) * d[i] + 1;
    if (size === null || size === undefined) ctx.fail(node, 'needs a known input height and width');
    if (padding === 'SAME') {
      const o = Math.ceil(size / s[i]);
      const total = Math.max((o - 1) * s[i] + eff - size, 0);
      begin[i] = Math.floor(total / 2);
      end[i] = total - (begin[i] as number);
      out[i] = o;
    } else if (padding === 'VALID') {
      out[i] = Math.floor((size - eff) / s[i]) + 1;
    } else {
      const ep = a.ints('explicit_paddings');
      begin[i] = ep[2 + 2 * i] ?? 0;
      end[i] = ep[3 + 2 * i] ?? 0;
      out[i] = Math.floor((size + (begin[i] as number) + (end[i] as number) - eff) / s[i]) + 1;
    }
  }
  return { pads: [begin[0] as number, begin[1] as number, end[0] as number, end[1] as number], out, strides: s, dilations: d };
}

function filterOf(ctx: Context, node: TfNode, v: Value | undefined): { data: Float32Array; shape: number[] } {
  if (!v?.data || v.shape.length !== 4 || !(v.data instanceof Float32Array)) ctx.fail(node, 'the filter must be a constant float32 rank-4 tensor');
  return { data: v.data, shape: v.shape as number[] };
}

/** Fused ops after the conv/matmul: BiasAdd first (Conv/Gemm's bias input), then at most one activation. */
export function fusedOps(ctx: Context, node: TfNode): { bias: boolean; act?: string } {
  const ops = ctx.attrs(node).strings('fused_ops');
  let bias = false;
  let act: string | undefined;
  for (const [i, op] of ops.entries()) {
    if (op === 'BiasAdd' && i === 0) bias = true;
    else if (i === ops.length - 1 && op !== 'BiasAdd' && op !== 'FusedBatchNorm' && op !== 'Prelu') act = op;
    else ctx.fail(node, `fused op ${op} (in ${JSON.stringify(ops)}) is not supported; supported: BiasAdd followed by one activation`);
  }
  const numArgs = ctx.attrs(node).int('num_args', 0);
  if (numArgs !== (bias ? 1 : 0)) ctx.fail(node, `num_args ${numArgs} does not match fused ops ${JSON.stringify(ops)}`);
  return { bias, ...(act ? { act } : {}) };
}

function conv(ctx: Context, node: TfNode, depthwise: boolean, fused: boolean): void {
  const [x, f, b] = ctx.inputs(node);
  if (!x) return ctx.fail(node, 'has no input');
  const { data, shape } = filterOf(ctx, node, f);
  const [kh, kw, cin, cm] = shape as [number, number, number, number];
  const sp = spatial(ctx, node, x, kh, kw);
  // HWIO -> OIHW; depthwise HW(C)(M) -> (C*M)1HW, which is the same memory order as C,M,H,W.
  const w = depthwise ? permute(data, shape, [2, 3, 0, 1]) : permute(data, shape, [3, 2, 0, 1]);
  const cout = depthwise ? cin * cm : cm;
  const wShape = depthwise ? [cout, 1, kh, kw] : [cout, cin, kh, kw];
  const wName = ctx.b.rawInit(ctx.fresh(`${f?.tf}/oihw`), 'float32', wShape, w.data);
  const ins = [ctx.nchwLayout(x), wName];
  const { bias, act } = fused ? fusedOps(ctx, node) : { bias: false, act: undefined };
  if (bias) {
    if (!b?.data || b.shape.length !== 1) ctx.fail(node, 'the fused bias must be a constant rank-1 tensor');
    ins.push(ctx.tfLayout(b));
  }
  const convOut = act ? ctx.fresh(`${node.name}/conv`) : `${node.name}/nchw`;
  ctx.b.node('Conv', ins, { group: depthwise ? cin : 1, kernel_shape: [kh, kw], pads: sp.pads, strides: sp.strides, dilations: sp.dilations }, convOut);
  const out = act ? activation(ctx, node, act, convOut, `${node.name}/nchw`) : convOut;
  ctx.set(node.name, { onnx: out, dtype: 'float32', shape: [x.shape[0] ?? null, sp.out[0], sp.out[1], cout], nchw: true, tf: node.name });
}

function pool(op: 'MaxPool' | 'AveragePool'): OpHandler {
  return (ctx, node) => {
    const [x] = ctx.inputs(node);
    if (!x) return ctx.fail(node, 'has no input');
    const k = ctx.attrs(node).ints('ksize');
    if (k[0] !== 1 || k[3] !== 1) ctx.fail(node, `ksize ${JSON.stringify(k)} over batch or channels is not supported`);
    const kh = k[1] ?? 1;
    const kw = k[2] ?? 1;
    const sp = spatial(ctx, node, x, kh, kw);
    const attrs = { kernel_shape: [kh, kw], pads: sp.pads, strides: sp.strides, ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}) };
    const out = ctx.b.node(op, [ctx.nchwLayout(x)], attrs, `${node.name}/nchw`);
    ctx.set(node.name, { onnx: out, dtype: 'float32', shape: [x.shape[0] ?? null, sp.out[0], sp.out[1], x.shape[3] ?? null], nchw: true, tf: node.name });
  };
}

export const convOps: Record<string, OpHandler> = {
  Conv2D: (ctx, node) => conv(ctx, node, false, false),
  _FusedConv2D: (ctx, node) => conv(ctx, node, false, true),
  DepthwiseConv2dNative: (ctx, node) => conv(ctx, node, true, false),
  FusedDepthwiseConv2dNative: (ctx, node) => conv(ctx, node, true, true),
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
};
