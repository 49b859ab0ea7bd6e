// Element-wise ops. They run in whatever layout their activation input already has: constants are
// permuted to match at conversion time, so a conv -> add -> relu chain stays in NCHW.
import type { Context, DType, Value } from '../context.js';
import { broadcast } from '../context.js';
import type { TfNode } from '../tfjs-model.js';
import { activation } from './activation.js';
import type { OpHandler } from './handler.js';

/** Chooses NCHW when every runtime input is rank 4 (or a scalar) and one of them is already NCHW. */
function layoutFor(ins: Value[]): boolean {
  const runtime = ins.filter((v) => v.onnx !== undefined || !v.data);
  if (!runtime.some((v) => v.nchw)) return false;
  if (!runtime.every((v) => v.shape.length === 4 || v.shape.length === 0)) return false;
  return ins.every((v) => v.shape.length <= 4);
}

function inputsIn(ctx: Context, ins: Value[], nchw: boolean): string[] {
  return ins.map((v) => (nchw && (v.shape.length === 4 || (v.data && !v.onnx)) ? ctx.nchwLayout(v) : ctx.tfLayout(v)));
}

/** out = f(ins) for a binary/n-ary op; `emit` writes the ONNX nodes given the input names. */
function elementwise(ctx: Context, node: TfNode, dtype: DType | 'same', emit: (names: string[], out: string) => string): void {
  const ins = ctx.inputs(node);
  if (ins.length === 0) ctx.fail(node, 'has no input');
  const nchw = layoutFor(ins);
  const out = emit(inputsIn(ctx, ins, nchw), nchw ? `${node.name}/nchw` : node.name);
  const first = ins[0] as Value;
  ctx.set(node.name, { onnx: out, dtype: dtype === 'same' ? first.dtype : dtype, shape: broadcast(ins.map((v) => v.shape)), nchw, tf: node.name });
}

const binary = (op: string, dtype: DType | 'same' = 'same'): OpHandler => (ctx, node) => elementwise(ctx, node, dtype, (n, out) => ctx.b.node(op, n, {}, out));
const unary = (op: string): OpHandler => binary(op);

function floorDiv(ctx: Context, node: TfNode): void {
  const ins = ctx.inputs(node);
  const dtype = ins[0]?.dtype ?? 'float32';
  elementwise(ctx, node, 'same', ([a, b], out) => {
    if (dtype === 'float32') return ctx.b.node('Floor', [ctx.b.node('Div', [a as string, b as string])], {}, out);
    // Integer Div truncates toward zero; TF floors. Exact through float64 for int32 operands.
    const fa = ctx.b.node('Cast', [a as string], { to: 11 });
    const fb = ctx.b.node('Cast', [b as string], { to: 11 });
    return ctx.b.node('Cast', [ctx.b.node('Floor', [ctx.b.node('Div', [fa, fb])])], { to: dtype === 'int64' ? 7 : 6 }, out);
  });
}

function floorMod(ctx: Context, node: TfNode): void {
  const dtype = ctx.inputs(node)[0]?.dtype ?? 'float32';
  elementwise(ctx, node, 'same', ([a, b], out) => {
    // ONNX integer Mod (fmod=0) takes the divisor's sign like TF's FloorMod; floats need it spelled out.
    if (dtype !== 'float32') return ctx.b.node('Mod', [a as string, b as string], { fmod: 0 }, out);
    const q = ctx.b.node('Floor', [ctx.b.node('Div', [a as string, b as string])]);
    return ctx.b.node('Sub', [a as string, ctx.b.node('Mul', [q, b as string])], {}, out);
  });
}

const act = (name: string): OpHandler => (ctx, node) => elementwise(ctx, node, 'same', ([x], out) => activation(ctx, node, name, x as string, out));

export const elementwiseOps: Record<string, OpHandler> = {
  Add: binary('Add'),
  AddV2: binary('Add'),
  BiasAdd: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  Equal: binary('Equal', 'bool'),
  Greater: binary('Greater', 'bool'),
  Less: binary('Less', 'bool'),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  SquaredDifference: (ctx, node) =>
    elementwise(ctx, node, 'same', ([a, b], out) => {
      const d = ctx.b.node('Sub', [a as string, b as string]);
      return ctx.b.node('Mul', [d, d], {}, out);
    }),
  Square: (ctx, node) => elementwise(ctx, node, 'same', ([a], out) => ctx.b.node('Mul', [a as string, a as string], {}, out)),
  Rsqrt: (ctx, node) => elementwise(ctx, node, 'same', ([a], out) => ctx.b.node('Reciprocal', [ctx.b.node('Sqrt', [a as string])], {}, out)),
  Sqrt: unary('Sqrt'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Floor: unary('Floor'),
  Reciprocal: unary('Reciprocal'),
  Relu: act('Relu'),
  Relu6: act('Relu6'),
  Sigmoid: act('Sigmoid'),
  Tanh: act('Tanh'),
  Elu: act('Elu'),
  LeakyRelu: act('LeakyRelu'),
};
