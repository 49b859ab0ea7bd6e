// Static int8 quantization of a float ONNX graph, in the QDQ form onnxruntime fuses into int8 kernels
// (DequantizeLinear -> Conv -> QuantizeLinear becomes QLinearConv, likewise QLinearAdd, QLinearMul,
// QLinearConcat, and an int8 Resize). Weights: per output channel, symmetric int8 (zero point 0,
// [-127, 127]: a VNNI dot product then never saturates). Biases: int32 at input scale x weight scale.
// Activations: uint8 with the ranges measured by calibration (activation-ranges.ts), one
// Quantize/Dequantize pair per tensor shared by all its readers. A Relu, or a Clip at 0..6, right
// after an int8 op disappears into its output's range (zero point 0 clamps at zero). Float ops left
// between int8 ones (hard-swish, reductions) read the dequantized tensor; convolutions on 1x1 maps
// (squeeze-excite) stay float: there is nothing to gain there. The last convolution before each graph
// output stays float too: its output is the scores, whose rare peaks are the signal. Every other
// convolution is quantized here, depthwise ones included, per channel: onnxruntime (1.30) quantizes a
// float Conv that reads a DequantizeLinear itself (its WeightBiasQuantization pass), with one scale
// for the whole weight, which for a depthwise conv's unequal channels cost 50 % relative error.
import { ConvertError } from './errors.js';
import { fuseHardSwish } from './fuse-hard-swish.js';
import { DataType, decodeModel, encodeModel, floatValues, GraphIndex, tensor, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-model.js';
import type { ActivationRange } from './activation-ranges.js';

export interface QuantizeInput {
  /** Activation ranges by tensor name (from calibration of the float graph). */
  ranges: Map<string, ActivationRange>;
  /** Elements per tensor seen in calibration (batch 1): ops on smaller inputs stay float. */
  sizes: Map<string, number>;
  /** Ops whose input has fewer elements than this stay float. @defaultValue 4096 */
  minElements?: number;
}

export interface QuantizeReport {
  /** Int8 nodes by op type (before onnxruntime's fusion). */
  int8: Record<string, number>;
  /** Convolutions kept in float, by reason. */
  floatConvs: { small: number; scores: number };
  /** Relu/Clip nodes absorbed into a quantized range. */
  foldedActivations: number;
  fused: { hardSwish: number; hardSigmoid: number };
  /** Bytes of weights before (float) and after (int8 + scales + int32 biases). */
  weightBytes: { float: number; int8: number };
}

export interface Quantized {
  onnx: Uint8Array;
  report: QuantizeReport;
}

const DATA_MOVEMENT = new Set(['Resize']);

/** A tensor calibration must measure; `exact` ones (pixels as fed) take their observed min and max. */
export interface CalibrationTensor {
  name: string;
  exact: boolean;
}

/**
 * The float tensors calibration must measure for `quantizeGraph`: outputs of every node a
 * convolution depends on (the backbone and heads; decoders after them are left alone), and the
 * graph's float inputs, which with their transposes are exact. All of them exist in the unfused
 * graph calibration runs.
 */
export function calibrationTensors(bytes: Uint8Array): CalibrationTensor[] {
  const model = decodeModel(bytes);
  // Fused first, as quantizeGraph does: the insides of hard-swish are never quantized, so never measured.
  fuseHardSwish(model);
  const index = new GraphIndex(model);
  const region = convRegion(index, model);
  const exact = new Set<string>();
  for (const input of model.graph?.input ?? []) if (input.type?.tensorType?.elemType === DataType.FLOAT) exact.add(input.name as string);
  const out: CalibrationTensor[] = [...exact].map((name) => ({ name, exact: true }));
  for (const n of model.graph?.node ?? []) {
    if (!region.all.has(n)) continue;
    const layoutOnly = (n.opType === 'Transpose' || n.opType === 'Reshape') && exact.has(n.input?.[0] as string);
    for (const o of n.output ?? []) {
      if (layoutOnly) exact.add(o);
      out.push({ name: o, exact: layoutOnly });
    }
  }
  return out;
}

/** Every node a Conv reads from, directly or not (`strict`), and with the Convs themselves. */
function convRegion(index: GraphIndex, model: OnnxModel): { all: Set<OnnxNode>; strict: Set<OnnxNode> } {
  const strict = new Set<OnnxNode>();
  const convs = (model.graph?.node ?? []).filter((n) => n.opType === 'Conv');
  const stack = convs.flatMap((c) => (c.input ?? []).map((i) => index.producer.get(i)).filter((p): p is OnnxNode => p !== undefined));
  while (stack.length) {
    const n = stack.pop() as OnnxNode;
    if (strict.has(n)) continue;
    strict.add(n);
    for (const i of n.input ?? []) {
      const p = index.producer.get(i);
      if (p && !strict.has(p)) stack.push(p);
    }
  }
  return { all: new Set([...strict, ...convs]), strict };
}

/** uint8 scale and zero point for a range that includes 0. */
function activationParams(r: ActivationRange): { scale: number; zero: number } {
  const span = r.max - r.min;
  if (!(span > 0)) return { scale: 1, zero: 0 };
  const scale = span / 255;
  return { scale, zero: Math.min(255, Math.max(0, Math.round(-r.min / scale))) };
}

class Rewriter {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxTensor[] = [];
  /** Dequantized name of each quantized tensor. */
  readonly dq = new Map<string, string>();
  readonly params = new Map<string, { scale: string; zero: string; scaleValue: number }>();

  constructor(private readonly index: GraphIndex) {}

  /** Scale and zero point initializers of a tensor's uint8 form. */
  paramsOf(name: string, r: ActivationRange): { scale: string; zero: string; scaleValue: number } {
    let p = this.params.get(name);
    if (!p) {
      const { scale, zero } = activationParams(r);
      p = { scale: `${name}/q_scale`, zero: `${name}/q_zero`, scaleValue: scale };
      this.inits.push(tensor(p.scale, DataType.FLOAT, [], Float32Array.of(scale)), tensor(p.zero, DataType.UINT8, [], Uint8Array.of(zero)));
      this.params.set(name, p);
    }
    return p;
  }

  /** Adds name -> QuantizeLinear -> DequantizeLinear; readers are pointed at the dequantized name later. */
  quantizeActivation(name: string, r: ActivationRange, shareWith?: string): void {
    if (this.dq.has(name)) return;
    const p = shareWith ? (this.params.get(shareWith) as { scale: string; zero: string; scaleValue: number }) : this.paramsOf(name, r);
    if (shareWith) this.params.set(name, p);
    const q = `${name}/quantized`;
    const dq = `${name}/dequantized`;
    this.nodes.push({ opType: 'QuantizeLinear', name: `${name}/QuantizeLinear`, input: [name, p.scale, p.zero], output: [q] });
    this.nodes.push({ opType: 'DequantizeLinear', name: `${name}/DequantizeLinear`, input: [q, p.scale, p.zero], output: [dq] });
    this.dq.set(name, dq);
  }

  /** Replaces a Conv's float weight (and bias) with int8 (int32) initializers and their dequantizers. */
  quantizeConvWeights(node: OnnxNode, inputScale: number): { float: number; int8: number } {
    const wName = node.input?.[1] as string;
    const w = this.index.inits.get(wName) as OnnxTensor;
    const values = floatValues(w) as Float32Array;
    const dims = (w.dims ?? []).map(Number);
    const channels = dims[0] as number;
    const per = values.length / channels;
    const q = new Int8Array(values.length);
    const scales = new Float32Array(channels);
    for (let c = 0; c < channels; c += 1) {
      let max = 0;
      for (let i = c * per; i < (c + 1) * per; i += 1) max = Math.max(max, Math.abs(values[i] as number));
      const s = max > 0 ? max / 127 : 1;
      scales[c] = s;
      for (let i = c * per; i < (c + 1) * per; i += 1) q[i] = Math.round((values[i] as number) / s);
    }
    const base = `${node.name}/weight`;
    this.inits.push(tensor(`${base}/int8`, DataType.INT8, dims, q), tensor(`${base}/scale`, DataType.FLOAT, [channels], scales), tensor(`${base}/zero`, DataType.INT8, [channels], new Int8Array(channels)));
    this.nodes.push({ opType: 'DequantizeLinear', name: `${base}/DequantizeLinear`, input: [`${base}/int8`, `${base}/scale`, `${base}/zero`], output: [`${base}/dequantized`], attribute: [{ name: 'axis', type: 2, i: 0 }] });
    const inputs = [node.input?.[0] as string, `${base}/dequantized`];
    let bytes = q.byteLength + scales.byteLength * 2;
    const bName = node.input?.[2];
    if (bName) {
      const b = floatValues(this.index.inits.get(bName) as OnnxTensor) as Float32Array;
      const bq = new Int32Array(b.length);
      const bs = new Float32Array(b.length);
      for (let c = 0; c < b.length; c += 1) {
        bs[c] = inputScale * (scales[c] as number);
        bq[c] = Math.round((b[c] as number) / (bs[c] as number));
      }
      const bb = `${node.name}/bias`;
      this.inits.push(tensor(`${bb}/int32`, DataType.INT32, [b.length], bq), tensor(`${bb}/scale`, DataType.FLOAT, [b.length], bs), tensor(`${bb}/zero`, DataType.INT32, [b.length], new Int32Array(b.length)));
      this.nodes.push({ opType: 'DequantizeLinear', name: `${bb}/DequantizeLinear`, input: [`${bb}/int32`, `${bb}/scale`, `${bb}/zero`], output: [`${bb}/dequantized`], attribute: [{ name: 'axis', type: 2, i: 0 }] });
      inputs.push(`${bb}/dequantized`);
      bytes += bq.byteLength + bs.byteLength * 2;
    }
    node.input = inputs;
    return { float: values.byteLength + (bName ? channels * 4 : 0), int8: bytes };
  }
}

/**
 * Quantizes a float graph (bytes of a ModelProto) with the calibration's ranges. Throws naming the
 * tensor when a range is missing, so a calibration that did not see part of the graph cannot pass.
 */
export function quantizeGraph(bytes: Uint8Array, input: QuantizeInput): Quantized {
  const model = decodeModel(bytes);
  const fused = fuseHardSwish(model);
  const graph = model.graph!;
  const index = new GraphIndex(model);
  const minElements = input.minElements ?? 4096;
  const range = (name: string): ActivationRange => {
    const r = input.ranges.get(name);
    if (!r) throw new ConvertError(`model ${graph.name}: quantize: no calibration range for tensor ${name}`);
    return r;
  };
  const big = (name: string | undefined) => name !== undefined && (input.sizes.get(name) ?? 0) >= minElements;
  const isAct = (name: string | undefined) => !!name && !index.inits.has(name);
  const nodes = graph.node ?? [];

  // A Conv nobody's Conv depends on produces the scores (or boxes): kept float.
  const feedsConv = convRegion(index, model).strict;
  const report: QuantizeReport = { int8: {}, floatConvs: { small: 0, scores: 0 }, foldedActivations: 0, fused, weightBytes: { float: 0, int8: 0 } };

  const int8 = new Set<OnnxNode>();
  for (const n of nodes) {
    const ins = (n.input ?? []).filter(isAct);
    if (n.opType === 'Conv') {
      if (!index.inits.has(n.input?.[1] as string) || !isAct(n.input?.[0])) continue;
      if (!big(n.input?.[0])) report.floatConvs.small += 1;
      else if (!feedsConv.has(n)) report.floatConvs.scores += 1;
      else int8.add(n);
    } else if ((n.opType === 'Add' || n.opType === 'Mul') && ins.length === 2 && feedsConv.has(n) && big(n.output?.[0])) {
      int8.add(n);
    } else if (n.opType === 'Concat' && ins.length === (n.input ?? []).length && feedsConv.has(n)) {
      int8.add(n);
    } else if (DATA_MOVEMENT.has(n.opType as string) && feedsConv.has(n) && isAct(n.input?.[0])) {
      int8.add(n);
    }
  }

  // Relu / Clip(0, 6) read only from an int8 op's output: fold into that output's range.
  const folded = new Map<OnnxNode, OnnxNode>();
  for (const n of int8) {
    if (DATA_MOVEMENT.has(n.opType as string)) continue;
    const out = n.output?.[0] as string;
    const act = index.onlyReader(out);
    if (!act) continue;
    const relu = act.opType === 'Relu';
    const clip = act.opType === 'Clip' && index.scalar(act.input?.[1]) === 0 && index.scalar(act.input?.[2]) !== undefined;
    if (!relu && !clip) continue;
    folded.set(act, n);
    n.output = [act.output?.[0] as string];
    report.foldedActivations += 1;
  }

  const rw = new Rewriter(index);
  const quantizedInputs = new Set<string>();
  for (const n of int8) {
    const outName = n.output?.[0] as string;
    if (DATA_MOVEMENT.has(n.opType as string)) {
      // A data movement op keeps its input's scale and zero point: onnxruntime then runs it on uint8.
      const src = n.input?.[0] as string;
      quantizedInputs.add(src);
      rw.quantizeActivation(src, range(src));
      if (!index.outputs.has(outName)) rw.quantizeActivation(outName, range(src), src);
      continue;
    }
    const inputs = n.opType === 'Conv' ? [n.input?.[0] as string] : (n.input ?? []).filter(isAct);
    for (const i of inputs) {
      quantizedInputs.add(i);
      rw.quantizeActivation(i, range(i));
    }
    if (!index.outputs.has(outName)) rw.quantizeActivation(outName, range(outName));
    report.int8[n.opType as string] = (report.int8[n.opType as string] ?? 0) + 1;
  }

  for (const n of int8) {
    if (n.opType !== 'Conv') continue;
    const p = rw.params.get(n.input?.[0] as string);
    if (!p) throw new Error(`internal: conv ${n.name} input not quantized`);
    const bytesNow = rw.quantizeConvWeights(n, p.scaleValue);
    report.weightBytes.float += bytesNow.float;
    report.weightBytes.int8 += bytesNow.int8;
  }
  // Rewire: every reader of a quantized tensor (except its own QuantizeLinear) reads the dequantized form.
  const kept = nodes.filter((n) => !folded.has(n));
  for (const n of kept) n.input = (n.input ?? []).map((i) => rw.dq.get(i) ?? i);

  // Order: each Q/DQ pair right after its tensor's producer (graph inputs first), so the list stays topological.
  const pairsBy = new Map<string, OnnxNode[]>();
  for (const q of rw.nodes) {
    const src = q.opType === 'QuantizeLinear' ? (q.input?.[0] as string) : undefined;
    if (src) pairsBy.set(src, [q]);
  }
  for (const dqNode of rw.nodes) {
    if (dqNode.opType !== 'DequantizeLinear') continue;
    const src = [...pairsBy.keys()].find((s) => `${s}/quantized` === dqNode.input?.[0]);
    if (src) (pairsBy.get(src) as OnnxNode[]).push(dqNode);
  }
  const weightDq = rw.nodes.filter((n) => n.opType === 'DequantizeLinear' && !(n.input?.[0] as string).endsWith('/quantized'));
  const ordered: OnnxNode[] = [...weightDq];
  for (const input of graph.input ?? []) ordered.push(...(pairsBy.get(input.name as string) ?? []));
  for (const n of kept) {
    ordered.push(n);
    for (const o of n.output ?? []) ordered.push(...(pairsBy.get(o) ?? []));
  }
  graph.node = ordered;
  const usedInits = new Set(ordered.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => usedInits.has(t.name as string)), ...rw.inits];
  graph.valueInfo = [];
  model.producerName = `${model.producerName ?? ''} + engram int8`;
  // A dangling quantized input would mean an op reads a tensor no pair was made for.
  for (const name of quantizedInputs) if (!rw.dq.has(name)) throw new Error(`internal: ${name} has no quantize pair`);
  return { onnx: encodeModel(model), report };
}
