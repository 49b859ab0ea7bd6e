// A TF.js graph model as read from model.json plus its weight shards: the node list and every Const's
// value decoded to a typed array (float16 and uint8/uint16 affine quantization undone here).
import { z } from 'zod';
import { ConvertError } from './errors.js';

const AttrValueSchema = z
  .object({
    s: z.string().optional(),
    i: z.union([z.string(), z.number()]).optional(),
    f: z.number().optional(),
    b: z.boolean().optional(),
    type: z.string().optional(),
    shape: z.unknown().optional(),
    tensor: z.unknown().optional(),
    list: z
      .object({ s: z.array(z.string()).optional(), i: z.array(z.union([z.string(), z.number()])).optional(), f: z.array(z.number()).optional() })
      .loose()
      .optional(),
  })
  .loose();
export type AttrValue = z.infer<typeof AttrValueSchema>;

const NodeSchema = z
  .object({
    name: z.string().min(1),
    op: z.string().min(1),
    input: z.array(z.string()).optional(),
    attr: z.record(z.string(), AttrValueSchema).optional(),
    device: z.string().optional(),
  })
  .loose();
export type TfNode = z.infer<typeof NodeSchema>;

const DimSchema = z.object({ size: z.union([z.string(), z.number()]).optional() }).loose();
const SignatureTensorSchema = z
  .object({ name: z.string().min(1), dtype: z.string().optional(), tensorShape: z.object({ dim: z.array(DimSchema).optional() }).loose().optional() })
  .loose();

const WeightEntrySchema = z
  .object({
    name: z.string().min(1),
    shape: z.array(z.number().int().nonnegative()),
    dtype: z.string(),
    quantization: z
      .object({ dtype: z.string(), scale: z.number().optional(), min: z.number().optional(), original_dtype: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();
export type WeightEntry = z.infer<typeof WeightEntrySchema>;

const SignatureSchema = z
  .object({ inputs: z.record(z.string(), SignatureTensorSchema).optional(), outputs: z.record(z.string(), SignatureTensorSchema).optional() })
  .loose();

export const ModelJsonSchema = z
  .object({
    format: z.string().optional(),
    modelTopology: z.object({ node: z.array(NodeSchema).min(1) }).loose(),
    weightsManifest: z.array(z.object({ paths: z.array(z.string().min(1)), weights: z.array(WeightEntrySchema) }).loose()),
    signature: SignatureSchema.optional(),
    /** Some converters (blazeface's) put the signature here instead. */
    userDefinedMetadata: z.object({ signature: SignatureSchema.optional() }).loose().optional(),
  })
  .loose();
export type ModelJson = z.infer<typeof ModelJsonSchema>;

export type ConstData = Float32Array | Int32Array | Uint8Array;
export interface ConstTensor {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: ConstData;
}

export interface TfjsGraph {
  /** Model name used in error messages. */
  name: string;
  nodes: TfNode[];
  consts: Map<string, ConstTensor>;
  signature: ModelJson['signature'];
}

/** Parses model.json text; any problem is one error naming the file. */
export function parseModelJson(text: string, file: string): ModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConvertError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = ModelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConvertError(`${file}: not a TF.js graph model (${first.join('; ')})`);
  }
  if (parsed.data.format !== undefined && parsed.data.format !== 'graph-model') {
    throw new ConvertError(`${file}: format is "${parsed.data.format}", only TF.js graph models ("graph-model") can be converted`);
  }
  return parsed.data;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Decodes the weights of every manifest group from the concatenated bytes of its shards (in the
 * order model.json lists them). `file` names model.json for errors.
 */
export function decodeWeights(json: ModelJson, shards: (path: string) => Uint8Array, file: string): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => shards(p));
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const stored = q ? q.dtype : w.dtype;
      const size = BYTES[stored];
      if (size === undefined) throw new ConvertError(`${file}: weight ${w.name} has dtype ${stored}, which the converter does not read`);
      if (w.dtype !== 'float32' && w.dtype !== 'int32' && w.dtype !== 'bool') {
        throw new ConvertError(`${file}: weight ${w.name} has dtype ${w.dtype}, which the converter does not read`);
      }
      const length = count * size;
      if (offset + length > total) {
        throw new ConvertError(`${file}: weight shards ${group.paths.join(', ')} hold ${total} bytes, but weight ${w.name} needs bytes ${offset}..${offset + length}: a shard is truncated or belongs to another model`);
      }
      let data: ConstData;
      if (w.dtype === 'bool') {
        data = bytes.slice(offset, offset + length);
      } else if (!q) {
        const copy = bytes.slice(offset, offset + length);
        data = w.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
      } else if (stored === 'float16') {
        const f = new Float32Array(count);
        for (let i = 0; i < count; i++) f[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
        data = w.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
      } else {
        // uint8/uint16 affine quantization: value = q * scale + min (TF.js io/weights_loader).
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        const f = new Float32Array(count);
        for (let i = 0; i < count; i++) f[i] = (stored === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true)) * scale + min;
        data = w.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
      }
      out.set(w.name, { dtype: w.dtype, shape: w.shape, data });
      offset += length;
    }
    if (offset !== total) {
      throw new ConvertError(`${file}: weight shards ${group.paths.join(', ')} hold ${total} bytes but the manifest describes ${offset}: a shard belongs to another model`);
    }
  }
  return out;
}

/** A graph ready to convert: nodes, decoded constants, signature. */
export function readTfjsGraph(name: string, json: ModelJson, shards: (path: string) => Uint8Array, file: string): TfjsGraph {
  return { name, nodes: json.modelTopology.node, consts: decodeWeights(json, shards, file), signature: json.signature ?? json.userDefinedMetadata?.signature };
}
