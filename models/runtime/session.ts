// Opens onnxruntime sessions with the configured provider, threads and optimisation level, and
// checks each graph against its manifest so a wrong file fails at load with its name, not mid-run.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelsConfig } from '../../config/schema.js';
import type { GraphSpec, TensorSpec } from '../manifest/schema.js';
import { ModelError } from './errors.js';
import type { Log } from '../../pipelines/log.js';

export type Provider = 'cpu' | 'cuda';

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
}

function options(config: ModelsConfig, provider: Provider): ort.InferenceSession.SessionOptions {
  const out: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: config.graphOptimization,
    logSeverityLevel: 3,
  };
  if (config.intraOpThreads > 0) out.intraOpNumThreads = config.intraOpThreads;
  if (config.interOpThreads > 0) out.interOpNumThreads = config.interOpThreads;
  return out;
}

/** Opens one graph file; with provider 'cuda', falls back to CPU (and says so) when CUDA cannot start. */
export async function openSession(model: string, file: string, config: ModelsConfig, log: Pick<Log, 'info' | 'warn'>): Promise<OpenedSession> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ModelError(`model ${model}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); run \`engram models fetch ${model}\``);
  }
  const create = async (provider: Provider) => ({ session: await ort.InferenceSession.create(bytes, options(config, provider)), provider });
  try {
    if (config.provider === 'cuda') {
      try {
        const opened = await create('cuda');
        log.info({ model, file, provider: 'cuda' }, 'model runs on CUDA');
        return opened;
      } catch (error) {
        log.warn({ model, file, provider: 'cpu', reason: (error as Error).message.split('\n')[0] }, 'CUDA provider unavailable (install with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci); model runs on CPU');
      }
    }
    const opened = await create('cpu');
    log.info({ model, file, provider: 'cpu' }, 'model runs on CPU');
    return opened;
  } catch (error) {
    throw new ModelError(`model ${model}: ${file} is not a loadable ONNX model (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
}

const shown = (shape: readonly (number | string)[]) => `[${shape.map((d) => (typeof d === 'number' ? String(d) : d || '?')).join(',')}]`;

function checkTensors(model: string, file: string, kind: 'input' | 'output', specs: TensorSpec[], meta: readonly ort.InferenceSession.ValueMetadata[]): string[] {
  const problems: string[] = [];
  for (const spec of specs) {
    const found = meta.find((m) => m.name === spec.name);
    if (!found) {
      problems.push(`${kind} ${spec.name} is in the manifest but the file has ${kind}s ${meta.map((m) => m.name).join(', ')}`);
      continue;
    }
    if (!found.isTensor) continue;
    const shape = found.shape as readonly (number | string)[];
    const typeOk = found.type === spec.type;
    const rankOk = shape.length === spec.shape.length;
    const dimsOk = rankOk && spec.shape.every((d, i) => typeof d !== 'number' || typeof shape[i] !== 'number' || shape[i] === d);
    if (!typeOk || !dimsOk) {
      problems.push(`${kind} ${spec.name} is ${spec.type}${shown(spec.shape)} in the manifest but ${found.type}${shown(shape)} in the file`);
    }
  }
  return problems.map((p) => `model ${model}: ${file}: ${p}`);
}

/** Throws a ModelError listing every place the graph differs from the manifest. */
export function checkSignature(model: string, file: string, session: ort.InferenceSession, graph: GraphSpec): void {
  const problems = [
    ...checkTensors(model, file, 'input', graph.inputs, session.inputMetadata),
    ...checkTensors(model, file, 'output', graph.outputs, session.outputMetadata),
  ];
  if (problems.length > 0) throw new ModelError(problems.join('\n'));
}

export { ort };
