// Reading and editing a decoded ONNX ModelProto: initializers as typed arrays, who produces and who
// reads each tensor. The int8 pass (quantize.ts) and its fusions edit graphs through this.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type OnnxModel = onnxProto.onnx.ModelProto;
export type OnnxNode = onnxProto.onnx.INodeProto;
export type OnnxTensor = onnxProto.onnx.ITensorProto;
export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): OnnxModel {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A float initializer's values (raw or float_data), or undefined when it is not float32. */
export function floatValues(t: OnnxTensor): Float32Array | undefined {
  if (t.dataType !== DataType.FLOAT) return undefined;
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return Float32Array.from(t.floatData ?? []);
}

export function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): OnnxTensor {
  return { name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The graph's wiring: producers and readers by tensor name, initializers by name. */
export class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly readers = new Map<string, OnnxNode[]>();
  readonly inits = new Map<string, OnnxTensor>();
  readonly outputs: Set<string>;

  constructor(readonly model: OnnxModel) {
    const g = model.graph as onnxProto.onnx.IGraphProto;
    for (const t of g.initializer ?? []) this.inits.set(t.name as string, t);
    for (const n of g.node ?? []) {
      for (const o of n.output ?? []) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.readers.get(i) ?? [];
        list.push(n);
        this.readers.set(i, list);
      }
    }
    this.outputs = new Set((g.output ?? []).map((o) => o.name as string));
  }

  /** A scalar float constant's value, or undefined when the input is not one. */
  scalar(name: string | undefined): number | undefined {
    const t = name === undefined ? undefined : this.inits.get(name);
    const v = t && floatValues(t);
    return v && v.length === 1 ? v[0] : undefined;
  }

  /** The one node reading `tensor`, when it has exactly one reader and is no graph output. */
  onlyReader(tensor: string): OnnxNode | undefined {
    const r = this.readers.get(tensor);
    return r?.length === 1 && !this.outputs.has(tensor) ? r[0] : undefined;
  }
}
