// A small helper to write ONNX graphs with onnx-proto: the project's own tiny test models and the
// TF.js converter (models/convert/) both emit through it.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Dim = number | string;
export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'float64';
export interface ValueSpec {
  name: string;
  type: ElemType;
  shape: Dim[];
}

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  float64: onnx.TensorProto.DataType.DOUBLE,
};
export const elemTypeCode = (t: ElemType): number => ELEM[t];

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.type], shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** A float attribute; plain numbers are integer attributes (the common case in these graphs). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export type Attr = number | number[] | string | FloatAttr;

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (v instanceof FloatAttr) return { name, type: T.FLOAT, f: v.value };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  return Array.isArray(v) ? { name, type: T.INTS, ints: v } : { name, type: T.INT, i: v };
}

export class GraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private inits: onnxProto.onnx.ITensorProto[] = [];
  private n = 0;

  floatInit(name: string, dims: number[], data: Float32Array): string {
    return this.rawInit(name, 'float32', dims, data);
  }

  intInit(name: string, values: number[]): string {
    return this.rawInit(name, 'int64', [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** An initializer from a typed array whose element type matches `type` (bool as Uint8Array). */
  rawInit(name: string, type: ElemType, dims: number[], data: ArrayBufferView): string {
    this.inits.push({ name, dims, dataType: ELEM[type], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `t${this.n++}`;
    this.nodeMulti(op, inputs, [out], attrs);
    return out;
  }

  /** A node with several outputs (TopK); `name` defaults to a numbered one. */
  nodeMulti(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name?: string): string[] {
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType: op, input: inputs, output: outputs, name: name ?? `${op}_${this.n++}`, attribute: attribute_ });
    return outputs;
  }

  /** Nodes per op type, for reports. */
  opCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.nodes) out[n.opType as string] = (out[n.opType as string] ?? 0) + 1;
    return out;
  }

  build(name: string, inputs: ValueSpec[], outputs: ValueSpec[], meta: { producer?: string; opset?: number; docString?: string } = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: meta.producer ?? 'engram build-test',
      opsetImport: [{ domain: '', version: meta.opset ?? 17 }],
      ...(meta.docString ? { docString: meta.docString } : {}),
      graph: { name, node: this.nodes, initializer: this.inits, input: inputs.map(valueInfo), output: outputs.map(valueInfo) },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
