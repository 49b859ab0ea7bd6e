// Converts the TF.js models of the installed @vladmandic/human package into <modelsDir>/<name>/
// (model.onnx + manifest.json): source files verified against the sha256 pinned in the repo first,
// the ONNX digest recorded in the manifest, nothing redone when outputs and hashes already match.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import { convertTfjsGraph } from '../convert/convert.js';
import { ConvertError } from '../convert/errors.js';
import { CONVERTER_VERSION, HUMAN_MODELS, HUMAN_PACKAGE, HUMAN_VERSION, type HumanModel } from '../convert/human-models.js';
import { parseModelJson, readTfjsGraph, type TfjsGraph } from '../convert/tfjs-model.js';
import { ManifestSchema, type Manifest } from '../manifest/schema.js';
import { readManifest, sha256File } from './catalog.js';

export const ONNX_FILE = 'model.onnx';

export interface ConvertResult {
  name: string;
  state: 'converted' | 'up-to-date';
  dir: string;
  sha256: string;
  dynamicBatch: boolean;
  ms: number;
}

export function humanPackageDir(): string {
  return join(packageRoot(), 'node_modules', HUMAN_PACKAGE);
}

function readBytes(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConvertError(`${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** Reads a TF.js graph model from model.json and the weight shards it names (paths relative to it). */
export function readTfjsFiles(jsonPath: string, name: string): TfjsGraph {
  const json = parseModelJson(readBytes(jsonPath, 'model.json').toString('utf8'), jsonPath);
  return readTfjsGraph(name, json, (p) => readBytes(join(dirname(jsonPath), p), `weight shard of ${jsonPath}:`), jsonPath);
}

/** Checks the package version and every pinned source file; returns the digests by package path. */
async function verifiedSources(spec: HumanModel, pkgDir: string, cacheDir: string): Promise<Record<string, string>> {
  const pkgJson = join(pkgDir, 'package.json');
  if (!existsSync(pkgJson)) throw new ConvertError(`${HUMAN_PACKAGE} is not installed (${pkgJson} missing); run npm ci`);
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version;
  if (version !== HUMAN_VERSION) throw new ConvertError(`${HUMAN_PACKAGE} ${version ?? '?'} is installed, engram converts ${HUMAN_VERSION}; run npm ci`);
  const out: Record<string, string> = {};
  for (const [path, expected] of Object.entries(spec.sha256)) {
    const file = join(pkgDir, path);
    if (!existsSync(file)) throw new ConvertError(`model ${spec.name}: source file ${file} is missing; run npm ci`);
    const actual = await sha256File(file, cacheDir);
    if (actual !== expected) throw new ConvertError(`model ${spec.name}: source file ${file} has sha256 ${actual}, expected ${expected} (${HUMAN_PACKAGE}@${HUMAN_VERSION}); run npm ci`);
    out[path] = actual;
  }
  return out;
}

function manifestFor(spec: HumanModel, sources: Record<string, string>, onnxSha: string, converted: ReturnType<typeof convertTfjsGraph>): Manifest {
  return ManifestSchema.parse({
    name: spec.name,
    task: spec.task,
    description: spec.description,
    license: spec.license,
    source: { kind: 'converted', from: 'npm', package: HUMAN_PACKAGE, version: HUMAN_VERSION, path: `models/${spec.source}` },
    checksums: 'converted-at-setup',
    files: [{ path: ONNX_FILE, sha256: onnxSha }],
    graphs: { [spec.role]: { file: ONNX_FILE, inputs: converted.inputs, outputs: converted.outputs } },
    preprocessing: { image: spec.image },
    extra: { ...spec.extra, batch: converted.dynamicBatch ? 'dynamic' : 1, converter: { version: CONVERTER_VERSION, sources } },
  });
}

/** True when the folder holds this converter's output for exactly these sources, unmodified. */
async function upToDate(dir: string, sources: Record<string, string>, cacheDir: string): Promise<string | undefined> {
  const manifestPath = join(dir, 'manifest.json');
  const onnx = join(dir, ONNX_FILE);
  if (!existsSync(manifestPath) || !existsSync(onnx)) return undefined;
  let manifest: Manifest;
  try {
    manifest = readManifest(manifestPath);
  } catch {
    return undefined;
  }
  const conv = manifest.extra['converter'] as { version?: number; sources?: Record<string, string> } | undefined;
  if (conv?.version !== CONVERTER_VERSION || JSON.stringify(conv.sources) !== JSON.stringify(sources)) return undefined;
  const recorded = manifest.files.find((f) => f.path === ONNX_FILE)?.sha256;
  const actual = await sha256File(onnx, cacheDir);
  return recorded === actual ? actual : undefined;
}

export function humanModelNames(): string[] {
  return HUMAN_MODELS.map((m) => m.name);
}

/**
 * Converts the named models (default all of them). `force` converts even when up to date. A failure in one
 * model is thrown after the others were tried, naming each model that failed.
 */
export async function convertInstalled(options: { modelsDir: string; names?: string[]; force?: boolean; packageDir?: string }): Promise<ConvertResult[]> {
  const names = options.names ?? humanModelNames();
  const unknown = names.filter((n) => !HUMAN_MODELS.some((m) => m.name === n));
  if (unknown.length > 0) throw new ConvertError(`cannot convert ${unknown.join(', ')}: convertible models are ${humanModelNames().join(', ')}`);
  const pkgDir = options.packageDir ?? humanPackageDir();
  mkdirSync(options.modelsDir, { recursive: true });
  const results: ConvertResult[] = [];
  const failures: string[] = [];
  for (const spec of HUMAN_MODELS.filter((m) => names.includes(m.name))) {
    const started = performance.now();
    const dir = join(options.modelsDir, spec.name);
    try {
      const sources = await verifiedSources(spec, pkgDir, options.modelsDir);
      const existing = options.force ? undefined : await upToDate(dir, sources, options.modelsDir);
      if (existing) {
        const manifest = readManifest(join(dir, 'manifest.json'));
        results.push({ name: spec.name, state: 'up-to-date', dir, sha256: existing, dynamicBatch: manifest.extra['batch'] === 'dynamic', ms: performance.now() - started });
        continue;
      }
      const graph = readTfjsFiles(join(pkgDir, 'models', `${spec.source}.json`), spec.name);
      const converted = convertTfjsGraph(graph, { batch: spec.batch, ...(spec.outputs ? { outputs: spec.outputs } : {}), ...(spec.inputSize ? { inputSize: spec.inputSize } : {}) });
      mkdirSync(dir, { recursive: true });
      const onnx = join(dir, ONNX_FILE);
      writeFileSync(`${onnx}.part`, converted.onnx);
      renameSync(`${onnx}.part`, onnx);
      const sha = await sha256File(onnx, options.modelsDir);
      const manifest = manifestFor(spec, sources, sha, converted);
      writeFileSync(`${join(dir, 'manifest.json')}.part`, `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(`${join(dir, 'manifest.json')}.part`, join(dir, 'manifest.json'));
      results.push({ name: spec.name, state: 'converted', dir, sha256: sha, dynamicBatch: converted.dynamicBatch, ms: performance.now() - started });
    } catch (error) {
      if (!(error instanceof ConvertError)) throw error;
      failures.push(error.message);
    }
  }
  if (failures.length > 0) throw new ConvertError(failures.join('\n'));
  return results;
}
