// Tests and benches compare the converter's ONNX against TF.js itself: this builds small TF.js graph
// models in memory (model.json nodes + weight bytes, the format the converter reads), runs them with
// @tensorflow/tfjs (cpu or wasm backend) and runs ONNX bytes with onnxruntime-node.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { parseModelJson, readTfjsGraph, type TfjsGraph } from '../../models/convert/tfjs-model.js';

export { tf };
export type TfBackend = 'cpu' | 'wasm';

export async function useBackend(name: TfBackend): Promise<void> {
  if (tf.getBackend() !== name) await tf.setBackend(name);
  await tf.ready();
}

type AttrJson = Record<string, unknown>;
export const attr = {
  ints: (v: number[]): AttrJson => ({ list: { i: v.map(String) } }),
  int: (v: number): AttrJson => ({ i: String(v) }),
  str: (v: string): AttrJson => ({ s: Buffer.from(v).toString('base64') }),
  strs: (v: string[]): AttrJson => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  type: (v: 'float32' | 'int32' | 'bool'): AttrJson => ({ type: v === 'float32' ? 'DT_FLOAT' : v === 'int32' ? 'DT_INT32' : 'DT_BOOL' }),
  bool: (v: boolean): AttrJson => ({ b: v }),
  float: (v: number): AttrJson => ({ f: v }),
  shape: (dims: number[]): AttrJson => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } }),
};

/** mulberry32: deterministic test weights. */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** A TF.js graph model under construction. Node names double as tensor names. */
export class TfGraphBuilder {
  readonly nodes: { name: string; op: string; input: string[]; attr: AttrJson }[] = [];
  private readonly weights: WeightSpec[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly r: () => number;

  constructor(seed = 1) {
    this.r = rng(seed);
  }

  input(name: string, shape: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    this.nodes.push({ name, op: 'Placeholder', input: [], attr: { dtype: attr.type(dtype), shape: attr.shape(shape) } });
    return name;
  }

  const(name: string, shape: number[], values: number[] | 'random', dtype: 'float32' | 'int32' = 'float32'): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = values === 'random' ? Array.from({ length: n }, () => this.r() * 2 - 1) : values;
    if (data.length !== n) throw new Error(`const ${name}: ${data.length} values for shape ${JSON.stringify(shape)}`);
    const typed = dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data);
    this.nodes.push({ name, op: 'Const', input: [], attr: { dtype: attr.type(dtype) } });
    this.weights.push({ name, shape, dtype });
    this.bytes.push(new Uint8Array(typed.buffer));
    return name;
  }

  op(op: string, name: string, input: string[], a: AttrJson = {}, dtype: 'float32' | 'int32' | null = 'float32'): string {
    this.nodes.push({ name, op, input, attr: { ...(dtype ? { T: attr.type(dtype) } : {}), ...a } });
    return name;
  }

  /** model.json as TF.js writes it, plus the single shard's bytes. */
  artifacts(outputs: string[]): { json: Record<string, unknown>; shard: Uint8Array; outputs: string[] } {
    const total = this.bytes.reduce((a, b) => a + b.byteLength, 0);
    const shard = new Uint8Array(total);
    let at = 0;
    for (const b of this.bytes) {
      shard.set(b, at);
      at += b.byteLength;
    }
    const signature = { outputs: Object.fromEntries(outputs.map((o) => [o, { name: o }])) };
    return { json: { format: 'graph-model', modelTopology: { node: this.nodes, versions: { producer: 1482 } }, weightsManifest: [{ paths: ['weights.bin'], weights: this.weights }], signature }, shard, outputs };
  }
}

/** The converter's view of an in-memory model (as if read from model.json + weights.bin). */
export function converterGraph(name: string, json: unknown, shard: Uint8Array): TfjsGraph {
  const parsed = parseModelJson(JSON.stringify(json), `${name}/model.json`);
  return readTfjsGraph(name, parsed, () => shard, `${name}/model.json`);
}

export async function loadTfjs(json: Record<string, unknown>, shard: Uint8Array): Promise<GraphModel> {
  const manifest = json['weightsManifest'] as { weights: tf.io.WeightsManifestEntry[] }[];
  const weightData = shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer;
  return loadGraphModel(tf.io.fromMemory({ modelTopology: json['modelTopology'] as object, weightSpecs: manifest.flatMap((g) => g.weights), weightData }));
}

export type Feed = { name: string; shape: number[]; data: Float32Array | Int32Array };

/** Runs a TF.js graph and returns each requested output's values (tensor names without ':0'). */
export function runTfjs(model: GraphModel, feeds: Feed[], outputs: string[]): { data: Float32Array | Int32Array; shape: number[] }[] {
  const inputs = Object.fromEntries(feeds.map((f) => [f.name.replace(/:0$/, ''), tf.tensor(f.data, f.shape, f.data instanceof Int32Array ? 'int32' : 'float32')]));
  const res = model.execute(inputs, outputs.map((o) => o.replace(/:0$/, '')));
  const list = Array.isArray(res) ? res : [res];
  // Read outside tf.tidy: tidy walks its result, element by element for typed arrays.
  const out = list.map((t) => ({ data: t.dataSync() as Float32Array | Int32Array, shape: t.shape }));
  tf.dispose([...Object.values(inputs), ...list]);
  return out;
}

export async function onnxSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { logSeverityLevel: 3, graphOptimizationLevel: 'all' });
}

export async function runOnnx(session: ort.InferenceSession, feeds: Feed[], outputs: string[]): Promise<{ data: Float32Array | Int32Array; shape: number[] }[]> {
  const res = await session.run(Object.fromEntries(feeds.map((f) => [f.name, new ort.Tensor(f.data instanceof Int32Array ? 'int32' : 'float32', f.data, f.shape)])));
  return outputs.map((o) => {
    const t = res[o];
    if (!t) throw new Error(`ONNX output ${o} missing`);
    const data = t.data instanceof BigInt64Array ? Int32Array.from(t.data, Number) : t.data instanceof Uint8Array ? Int32Array.from(t.data) : (t.data as Float32Array | Int32Array);
    return { data, shape: [...t.dims] };
  });
}

/**
 * Largest excess over the tolerance |a - b| <= atol + rtol * max|a| (the reference tensor's scale),
 * with its index; NaN on either side counts as infinite. excess <= 0: every element is within.
 */
export function allclose(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { excess: number; at: number; diff: number } {
  if (a.length !== b.length) return { excess: Number.POSITIVE_INFINITY, at: -1, diff: Number.POSITIVE_INFINITY };
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i] as number));
  const tol = atol + rtol * scale;
  let excess = Number.NEGATIVE_INFINITY;
  let at = -1;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const d = Math.abs(x - (b[i] as number));
    const e = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d - tol;
    if (e > excess) {
      excess = e;
      at = i;
      diff = d;
    }
  }
  return { excess, at, diff };
}

/** Largest absolute difference, with its index; NaN on either side counts as infinite. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number } {
  if (a.length !== b.length) return { max: Number.POSITIVE_INFINITY, at: -1 };
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    const dd = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    if (dd > max) {
      max = dd;
      at = i;
    }
  }
  return { max, at };
}
