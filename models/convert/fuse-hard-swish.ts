// MobileNetV3's hard-swish and hard-sigmoid come out of TF.js as four and three elementwise nodes
// (x * c, x + 3, clip 0..6, product). Before the int8 pass they become one HardSwish / HardSigmoid
// node each: onnxruntime has no int8 kernel for them, so each runs in float between a dequantize and
// a quantize, and one fused pass over the tensor costs a quarter of four. The TF.js constant c is
// 0.1666259765625 (1/6 rounded by the weights' storage), which HardSigmoid's alpha keeps; only the
// upper clip moves from 6c = 0.99976 to 1, far inside int8's step of 1/255.
import { GraphIndex, type OnnxModel, type OnnxNode } from './onnx-model.js';

const near = (a: number | undefined, b: number, tol = 1e-3) => a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** The non-constant input of a binary node whose other input is the scalar `value`. */
function withScalar(index: GraphIndex, node: OnnxNode | undefined, op: string, value: number, tol?: number): string | undefined {
  if (!node || node.opType !== op || node.input?.length !== 2) return undefined;
  const [a, b] = node.input as [string, string];
  if (near(index.scalar(b), value, tol) && index.scalar(a) === undefined) return a;
  if (near(index.scalar(a), value, tol) && index.scalar(b) === undefined) return b;
  return undefined;
}

/** x when `clip` is Clip(x + 3, 0, 6) with the Add read only by the Clip. */
function relu6OfPlus3(index: GraphIndex, clip: OnnxNode | undefined): { x: string; add: OnnxNode } | undefined {
  if (!clip || clip.opType !== 'Clip' || !near(index.scalar(clip.input?.[1]), 0) || !near(index.scalar(clip.input?.[2]), 6)) return undefined;
  const add = index.producer.get(clip.input?.[0] as string);
  const x = withScalar(index, add, 'Add', 3);
  return x !== undefined && add && index.onlyReader(add.output?.[0] as string) === clip ? { x, add } : undefined;
}

export interface FusedCounts {
  hardSwish: number;
  hardSigmoid: number;
}

/** Rewrites the patterns in place (output names kept, so calibration names stay valid). */
export function fuseHardSwish(model: OnnxModel): FusedCounts {
  const index = new GraphIndex(model);
  const graph = model.graph!;
  const removed = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode>();
  const counts: FusedCounts = { hardSwish: 0, hardSigmoid: 0 };
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Mul' || node.input?.length !== 2 || removed.has(node)) continue;
    const out = node.output?.[0] as string;
    const [a, b] = node.input as [string, string];
    // hard-swish: Mul(Mul(x, c), Clip(x + 3, 0, 6)), either operand order.
    for (const [scaledName, clipName] of [[a, b], [b, a]] as const) {
      const scaled = index.producer.get(scaledName);
      const clip = index.producer.get(clipName);
      const x = scaled && withScalar(index, scaled, 'Mul', 1 / 6, 2e-3);
      const inner = relu6OfPlus3(index, clip);
      if (x === undefined || !inner || inner.x !== x || !scaled || !clip) continue;
      if (index.onlyReader(scaledName) !== node || index.onlyReader(clipName) !== node) continue;
      [scaled, clip, inner.add].forEach((n) => removed.add(n));
      replaced.set(node, { opType: 'HardSwish', name: `${node.name}/hard_swish`, input: [x], output: [out] });
      counts.hardSwish += 1;
      break;
    }
    if (replaced.has(node)) continue;
    // hard-sigmoid: Mul(Clip(x + 3, 0, 6), c).
    const clipIn = withScalar(index, node, 'Mul', 1 / 6, 2e-3);
    const clip = clipIn === undefined ? undefined : index.producer.get(clipIn);
    const inner = relu6OfPlus3(index, clip);
    if (!inner || !clip || index.onlyReader(clipIn as string) !== node) continue;
    const c = index.scalar(node.input?.find((i) => i !== clipIn)) as number;
    removed.add(clip).add(inner.add);
    replaced.set(node, {
      opType: 'HardSigmoid',
      name: `${node.name}/hard_sigmoid`,
      input: [inner.x],
      output: [out],
      attribute: [
        { name: 'alpha', type: 1, f: c },
        { name: 'beta', type: 1, f: 3 * c },
      ],
    });
    counts.hardSigmoid += 1;
  }
  graph.node = (graph.node ?? []).filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return counts;
}
