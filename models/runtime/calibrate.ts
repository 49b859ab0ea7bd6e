// Runs a float graph on calibration inputs with the tensors the int8 pass needs added as outputs, and
// gathers their histograms into ranges (models/convert/activation-ranges.ts) and sizes.
import { RangeCollector, type ActivationRange, type RangeMethod } from '../convert/activation-ranges.js';
import { DataType, decodeModel, encodeModel } from '../convert/onnx-model.js';
import type { CalibrationTensor } from '../convert/quantize.js';
import { ort } from './session.js';

export interface Calibration {
  ranges: Map<string, ActivationRange>;
  /** Elements of each tensor per input (batch 1). */
  sizes: Map<string, number>;
  inputs: number;
}

/**
 * `feeds` yields one input tensor's data per calibration picture (shape `dims`, batch 1). Exact
 * tensors (pixels: every value is real data) get their observed min/max; every other one `method`.
 */
export async function calibrateGraph(bytes: Uint8Array, wanted: CalibrationTensor[], feeds: Iterable<Float32Array>, dims: number[], method: RangeMethod): Promise<Calibration> {
  const tensors = wanted.map((t) => t.name);
  const exact = new Set(wanted.filter((t) => t.exact).map((t) => t.name));
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const inputName = graph.input?.[0]?.name as string;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  for (const t of tensors) if (!existing.has(t) && t !== inputName) graph.output!.push({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } });
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['cpu'], graphOptimizationLevel: 'basic', intraOpNumThreads: 1, logSeverityLevel: 3 });
  const collector = new RangeCollector();
  const sizes = new Map<string, number>();
  let count = 0;
  try {
    const fetch = tensors.filter((t) => t !== inputName);
    for (const data of feeds) {
      const out = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, fetch);
      if (tensors.includes(inputName)) {
        collector.add(inputName, data);
        sizes.set(inputName, data.length);
      }
      for (const t of fetch) {
        const v = out[t];
        if (!v || v.type !== 'float32') continue;
        collector.add(t, v.data as Float32Array);
        sizes.set(t, (v.data as Float32Array).length);
        v.dispose();
      }
      count += 1;
    }
  } finally {
    await session.release();
  }
  return { ranges: collector.ranges((name) => (exact.has(name) ? { kind: 'minmax' } : method)), sizes, inputs: count };
}
