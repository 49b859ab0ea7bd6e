// Activations, shared by the plain ops (Relu, Relu6, ...) and the ones TF fused into a conv or matmul.
import { FloatAttr } from '../../testing/onnx-builder.js';
import type { Context } from '../context.js';
import type { TfNode } from '../tfjs-model.js';

export const ACTIVATIONS = ['Relu', 'Relu6', 'Sigmoid', 'Tanh', 'Elu', 'LeakyRelu'] as const;

/** Emits `act` on the ONNX tensor `x`; `out` names the result. */
export function activation(ctx: Context, node: TfNode, act: string, x: string, out: string): string {
  switch (act) {
    case 'Relu':
      return ctx.b.node('Relu', [x], {}, out);
    case 'Relu6':
      return ctx.b.node('Clip', [x, ctx.scalar('float32', 0), ctx.scalar('float32', 6)], {}, out);
    case 'Sigmoid':
      return ctx.b.node('Sigmoid', [x], {}, out);
    case 'Tanh':
      return ctx.b.node('Tanh', [x], {}, out);
    case 'Elu':
      return ctx.b.node('Elu', [x], { alpha: new FloatAttr(1) }, out);
    case 'LeakyRelu':
      return ctx.b.node('LeakyRelu', [x], { alpha: new FloatAttr(ctx.attrs(node).float(node.op === 'LeakyRelu' ? 'alpha' : 'leakyrelu_alpha', 0.2)) }, out);
    default:
      return ctx.fail(node, `fused activation ${act} is not supported (supported: ${ACTIVATIONS.join(', ')})`);
  }
}
