// A small helper to write ONNX graphs with onnx-proto, for the project's own tiny test models.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Dim = number | string;
export interface ValueSpec {
  name: string;
  type: 'float32' | 'int64';
  shape: Dim[];
}

const elem = (t: ValueSpec['type']) => (t === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64);

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: elem(v.type), shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export type Attr = number | number[];

export class GraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private inits: onnxProto.onnx.ITensorProto[] = [];
  private n = 0;

  floatInit(name: string, dims: number[], data: Float32Array): string {
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  intInit(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map(BigInt));
    this.inits.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `t${this.n++}`;
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v } : { name, type: onnx.AttributeProto.AttributeType.INT, i: v },
    );
    this.nodes.push({ opType: op, input: inputs, output: [out], name: `${op}_${this.n++}`, attribute });
    return out;
  }

  build(name: string, inputs: ValueSpec[], outputs: ValueSpec[]): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'engram build-test',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name, node: this.nodes, initializer: this.inits, input: inputs.map(valueInfo), output: outputs.map(valueInfo) },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
