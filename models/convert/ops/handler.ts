// The shape of one op converter: reads its inputs from the context, emits ONNX nodes, sets its outputs.
import type { Context } from '../context.js';
import type { TfNode } from '../tfjs-model.js';

export type OpHandler = (ctx: Context, node: TfNode) => void;
