// TF.js graph model -> ONNX (opset 17). Walks the nodes needed for the outputs in dependency order and
// hands each to its op converter; the graph keeps TF.js's input/output names and NHWC boundary.
import type { TensorSpec } from '../manifest/schema.js';
import { Context, type Value } from './context.js';
import { ConvertError } from './errors.js';
import { convOps } from './ops/conv.js';
import { elementwiseOps } from './ops/elementwise.js';
import type { OpHandler } from './ops/handler.js';
import { reduceOps } from './ops/reduce.js';
import { shapeOps, tfType } from './ops/shape.js';
import type { TfjsGraph, TfNode } from './tfjs-model.js';

const HANDLERS: Record<string, OpHandler> = { ...convOps, ...elementwiseOps, ...shapeOps, ...reduceOps };
export const SUPPORTED_OPS = ['Const', 'Placeholder', ...Object.keys(HANDLERS)].sort();

export interface ConvertOptions {
  /** 'dynamic' makes dim 0 of the input symbolic; a number fixes it. Default: as model.json says (-1 is dynamic). */
  batch?: 'dynamic' | number;
  /** Output tensor names; default the signature's outputs, else every node nobody reads. */
  outputs?: string[];
  /**
   * [height, width] to fix the image input at instead of the traced size (a fully convolutional
   * graph runs at any size, but the converter needs known sizes for SAME padding). Resize targets,
   * which TF.js stores as constants of the traced size, scale by the same factor; a graph whose
   * constants do not scale (a reshape to the traced map's size) fails where it reads them.
   */
  inputSize?: [number, number];
}

export interface Converted {
  onnx: Uint8Array;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Whether dim 0 is the symbolic 'batch' (the micro-batcher may stack frames). */
  dynamicBatch: boolean;
  /** ONNX node count, for reports. */
  ops: Record<string, number>;
}

const baseName = (ref: string) => {
  const clean = ref.startsWith('^') ? ref.slice(1) : ref;
  const m = /^(.*):(\d+)$/.exec(clean);
  return m ? (m[1] as string) : clean;
};

/** Nodes the outputs depend on, producers first (model.json order is not guaranteed topological). */
function needed(graph: TfjsGraph, outputs: string[]): TfNode[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const order: TfNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string) => {
    if (state.get(name) === 'done') return;
    const node = byName.get(name);
    if (!node) throw new ConvertError(`model ${graph.name}: ${from} reads ${name}, which no node produces`);
    if (state.get(name) === 'visiting') throw new ConvertError(`model ${graph.name}: node ${name} is part of a cycle`);
    state.set(name, 'visiting');
    const stack: [TfNode, number][] = [[node, 0]];
    // Iterative DFS: real graphs are hundreds of nodes deep.
    while (stack.length) {
      const top = stack[stack.length - 1] as [TfNode, number];
      const [n, i] = top;
      const ins = (n.input ?? []).filter((r) => !r.startsWith('^'));
      if (i < ins.length) {
        top[1] = i + 1;
        const dep = baseName(ins[i] as string);
        const s = state.get(dep);
        if (s === 'done') continue;
        const depNode = byName.get(dep);
        if (!depNode) throw new ConvertError(`model ${graph.name}: node ${n.name} (${n.op}) reads ${dep}, which no node produces`);
        if (s === 'visiting') throw new ConvertError(`model ${graph.name}: node ${dep} is part of a cycle`);
        state.set(dep, 'visiting');
        stack.push([depNode, 0]);
      } else {
        stack.pop();
        state.set(n.name, 'done');
        order.push(n);
      }
    }
  };
  for (const o of outputs) visit(baseName(o), 'the output list');
  return order;
}

/** The nodes the graph's outputs (or the given ones) depend on, producers first. */
export function dependencyOrder(graph: TfjsGraph, outputs: string[] = defaultOutputs(graph)): TfNode[] {
  return needed(graph, outputs);
}

function defaultOutputs(graph: TfjsGraph): string[] {
  const sig = graph.signature?.outputs;
  if (sig && Object.keys(sig).length > 0) return Object.values(sig).map((t) => t.name);
  const read = new Set(graph.nodes.flatMap((n) => (n.input ?? []).map(baseName)));
  return graph.nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !read.has(n.name)).map((n) => n.name);
}

const spec = (name: string, v: Value): TensorSpec => ({
  name,
  type: v.dtype === 'float64' ? 'float32' : v.dtype,
  shape: v.shape.map((d, i) => (d === null ? (i === 0 ? 'batch' : `d${i}`) : d)),
});

/** Fixes an NHWC image input at another height and width and tells Resize nodes the scale. */
function resizeInput(ctx: Context, node: TfNode, shape: (number | null)[], [height, width]: [number, number]): void {
  const [traceH, traceW] = [shape[1], shape[2]];
  if (shape.length !== 4 || typeof traceH !== 'number' || typeof traceW !== 'number') ctx.fail(node, `inputSize needs an NHWC input of known height and width, the graph says [${shape.join(',')}]`);
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) ctx.fail(node, `inputSize ${height}x${width} is not a positive whole size`);
  if (ctx.spatialScale) ctx.fail(node, 'inputSize works on a graph with one image input');
  ctx.spatialScale = [height / traceH, width / traceW];
  shape[1] = height;
  shape[2] = width;
}

export function convertTfjsGraph(graph: TfjsGraph, options: ConvertOptions = {}): Converted {
  const ctx = new Context(graph.name);
  const outputs = options.outputs ?? defaultOutputs(graph);
  if (outputs.length === 0) throw new ConvertError(`model ${graph.name}: the graph has no outputs`);
  const order = needed(graph, outputs);
  const sigInputs = new Map(Object.values(graph.signature?.inputs ?? {}).map((t) => [baseName(t.name), t.name]));
  const inputs: TensorSpec[] = [];
  const unsupported = [...new Set(order.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !HANDLERS[n.op]).map((n) => n.op))];
  if (unsupported.length > 0) {
    const first = order.find((n) => n.op === unsupported[0]) as TfNode;
    throw new ConvertError(`model ${graph.name}: node ${first.name}: op ${first.op} is not supported${unsupported.length > 1 ? ` (nor ${unsupported.slice(1).join(', ')})` : ''}; supported ops: ${SUPPORTED_OPS.join(', ')}`);
  }
  for (const node of order) {
    if (node.op === 'Const') {
      const c = graph.consts.get(node.name);
      if (!c) throw new ConvertError(`model ${graph.name}: node ${node.name} (Const) has no entry in the weights manifest`);
      ctx.set(node.name, { dtype: c.dtype, shape: c.shape, data: c.data, nchw: false, tf: node.name });
    } else if (node.op === 'Placeholder') {
      const dims = (node.attr?.shape?.shape as { dim?: { size?: string | number }[] } | undefined)?.dim ?? [];
      const shape = dims.map((d) => Number(d.size ?? -1)).map((d, i) => {
        if (i === 0 && options.batch !== undefined) return options.batch === 'dynamic' ? null : options.batch;
        return d < 0 ? null : d;
      });
      if (options.inputSize) resizeInput(ctx, node, shape, options.inputSize);
      const dtype = tfType(ctx, node, 'dtype');
      const name = sigInputs.get(node.name) ?? node.name;
      ctx.set(node.name, { onnx: name, dtype, shape, nchw: false, tf: node.name });
      inputs.push(spec(name, { dtype, shape, nchw: false, tf: node.name }));
    } else {
      (HANDLERS[node.op] as OpHandler)(ctx, node);
    }
  }
  const outSpecs: TensorSpec[] = [];
  for (const name of outputs) {
    const v = ctx.get(name, { name: '(outputs)', op: 'output' });
    if (v.data && !v.onnx) throw new ConvertError(`model ${graph.name}: output ${name} is a constant`);
    const src = ctx.tfLayout(v);
    if (src !== name) ctx.b.node('Identity', [src], {}, name);
    outSpecs.push(spec(name, v));
  }
  const dynamicBatch = inputs.some((i) => i.shape[0] === 'batch');
  const bytes = ctx.b.build(graph.name, inputs, outSpecs, { producer: 'engram tfjs-to-onnx', opset: 17 });
  return { onnx: bytes, inputs, outputs: outSpecs, dynamicBatch, ops: ctx.opCounts() };
}
