// Conversion state: every TF tensor's ONNX name, dtype, TF-order shape and layout. Rank-4 activations
// live in NCHW once a convolution has touched them; a tensor goes back to NHWC (one Transpose, shared
// by all its readers) only where an op needs TF's axis order.
import { GraphBuilder, type ElemType } from '../testing/onnx-builder.js';
import { Attrs } from './attrs.js';
import { ConvertError } from './errors.js';
import type { ConstData, TfNode } from './tfjs-model.js';

/** TF-order dimension; null where it is the dynamic batch or otherwise unknown. */
export type Dim = number | null;
export type DType = 'float32' | 'int32' | 'int64' | 'bool' | 'float64';

export interface Value {
  /** ONNX name of the tensor as it exists in the graph (undefined for a Const not yet used). */
  onnx?: string;
  dtype: DType;
  /** Shape in TF (NHWC) order, whatever the ONNX layout. */
  shape: Dim[];
  /** The ONNX tensor is the TF tensor with axes permuted to NCHW (rank 4 only). */
  nchw: boolean;
  /** Constant value in TF layout, for folding shape arguments and permuting weights. */
  data?: ConstData;
  /** Source TF name, for readable ONNX names. */
  tf: string;
}

export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

/** Permutes a rank-4 array in TF order by `perm` (out axis i = in axis perm[i]). */
export function permute<T extends ConstData | Float32Array>(data: T, shape: number[], perm: number[]): { data: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p] as number);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const [d0, d1, d2, d3] = outShape as [number, number, number, number];
  const [s0, s1, s2, s3] = perm.map((p) => inStrides[p] as number) as [number, number, number, number];
  let o = 0;
  for (let a = 0; a < d0; a++)
    for (let b = 0; b < d1; b++)
      for (let c = 0; c < d2; c++)
        for (let d = 0; d < d3; d++) out[o++] = data[a * s0 + b * s1 + c * s2 + d * s3] as number;
  return { data: out, shape: outShape };
}

export class Context {
  readonly b = new GraphBuilder();
  private readonly values = new Map<string, Value>();
  private readonly layoutCache = new Map<string, string>();
  private readonly scalars = new Map<string, string>();
  private uid = 0;
  /** Set when the input is converted at another size than traced: Resize targets scale by it ([h, w]). */
  spatialScale: [number, number] | undefined;

  constructor(readonly model: string) {}

  fail(node: TfNode, message: string): never {
    throw new ConvertError(`model ${this.model}: node ${node.name} (${node.op}): ${message}`);
  }

  attrs(node: TfNode): Attrs {
    return new Attrs(node, this.model);
  }

  /** A fresh ONNX tensor name derived from a TF name. */
  fresh(base: string): string {
    return `${base}__${this.uid++}`;
  }

  /** Runtime (non-control) inputs of a node. */
  inputs(node: TfNode): Value[] {
    return (node.input ?? []).filter((i) => !i.startsWith('^')).map((ref) => this.get(ref, node));
  }

  get(ref: string, node: TfNode): Value {
    const key = ref.endsWith(':0') ? ref.slice(0, -2) : ref;
    const v = this.values.get(key);
    if (!v) this.fail(node, `input ${ref} is produced by no node before it`);
    return v;
  }

  set(name: string, v: Value, index = 0): void {
    this.values.set(index === 0 ? name : `${name}:${index}`, v);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The constant data of an input that must be known at conversion time (axes, shapes, sizes). */
  constInts(node: TfNode, v: Value, what: string): number[] {
    if (!v.data) this.fail(node, `${what} must be a constant`);
    return Array.from(v.data, Number);
  }

  /** ONNX name of a constant in the given layout, creating the initializer once. */
  private constName(v: Value, nchw: boolean): string {
    const key = `${v.tf}|${nchw ? 'nchw' : 'tf'}`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    let data = v.data as ConstData;
    let shape = v.shape as number[];
    if (nchw && shape.length > 0) {
      // Broadcasting aligns trailing axes in TF order: lift to rank 4, then permute like the activation.
      const four = [...Array<number>(4 - shape.length).fill(1), ...shape];
      ({ data, shape } = permute(data, four, TO_NCHW));
    }
    const name = nchw ? `${v.tf}/nchw` : v.tf;
    const type: ElemType = v.dtype === 'int64' || v.dtype === 'float64' ? v.dtype : v.dtype;
    this.b.rawInit(name, type, shape, data);
    this.layoutCache.set(key, name);
    return name;
  }

  /** ONNX name of v in TF axis order, adding one shared Transpose if it lives in NCHW. */
  tfLayout(v: Value): string {
    if (v.data && !v.onnx) return this.constName(v, false);
    const name = v.onnx as string;
    if (!v.nchw) return name;
    const key = `${name}|nhwc`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    const out = this.b.node('Transpose', [name], { perm: TO_NHWC }, `${v.tf}/nhwc`);
    this.layoutCache.set(key, out);
    return out;
  }

  /** ONNX name of v in NCHW (rank 4, or a constant that broadcasts against an NCHW tensor). */
  nchwLayout(v: Value): string {
    if (v.data && !v.onnx) return this.constName(v, v.shape.length > 0);
    const name = v.onnx as string;
    if (v.nchw) return name;
    if (v.shape.length !== 4) throw new Error(`internal: ${v.tf} has rank ${v.shape.length}, cannot be NCHW`);
    const key = `${name}|nchw`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    const out = this.b.node('Transpose', [name], { perm: TO_NCHW }, `${v.tf}/nchw`);
    this.layoutCache.set(key, out);
    return out;
  }

  opCounts(): Record<string, number> {
    return this.b.opCounts();
  }

  /** A shared scalar (or 1-D) initializer, e.g. Clip bounds. */
  scalar(type: 'float32' | 'int64', value: number | number[]): string {
    const key = `${type}:${JSON.stringify(value)}`;
    const hit = this.scalars.get(key);
    if (hit) return hit;
    const name = `const/${type}/${JSON.stringify(value).replace(/[^0-9a-z.-]+/gi, '_')}`;
    if (type === 'float32') {
      const arr = Array.isArray(value) ? value : [value];
      this.b.rawInit(name, 'float32', Array.isArray(value) ? [arr.length] : [], Float32Array.from(arr));
    } else {
      const arr = Array.isArray(value) ? value : [value];
      this.b.rawInit(name, 'int64', Array.isArray(value) ? [arr.length] : [], BigInt64Array.from(arr.map(BigInt)));
    }
    this.scalars.set(key, name);
    return name;
  }

  /** Fails when the dynamic batch reaches an op that would mix or drop it. */
  staticBatch(node: TfNode, ...vs: Value[]): void {
    for (const v of vs) {
      if (v.shape.length > 0 && v.shape[0] === null && !v.data) {
        this.fail(node, 'fixes the batch size (the graph was traced at batch 1 here); convert this model with a fixed batch of 1');
      }
    }
  }
}

export const sizeOf = (shape: Dim[]): number | null => (shape.some((d) => d === null) ? null : (shape as number[]).reduce((a, b) => a * b, 1));

/** Numpy broadcasting of TF-order shapes; null stays null unless the other side is a known size > 1. */
export function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i];
      if (x === undefined || x === 1) continue;
      d = x === null ? (d === 1 ? null : d) : x;
    }
    out.push(d);
  }
  return out;
}
