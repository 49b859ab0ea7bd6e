// Converts the TF.js models of the installed @vladmandic/human package into <modelsDir>/<name>/
// (model.onnx + manifest.json): source files verified against the sha256 pinned in the repo first,
// the ONNX digest recorded in the manifest, nothing redone when outputs and hashes already match.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import { convertTfjsGraph } from '../convert/convert.js';
import { ConvertError } from '../convert/errors.js';
import { CALIBRATION_TAIL, CONVERTER_VERSION, HUMAN_MODELS, HUMAN_PACKAGE, HUMAN_VERSION, QUANTIZER_VERSION, type HumanModel } from '../convert/human-models.js';
import { calibrationTensors, quantizeGraph, type QuantizeReport } from '../convert/quantize.js';
import { parseModelJson, readTfjsGraph, type TfjsGraph } from '../convert/tfjs-model.js';
import { ManifestSchema, type Manifest } from '../manifest/schema.js';
import { calibrateGraph } from './calibrate.js';
import { CALIBRATION_PHOTOS, CALIBRATION_VIEWS, calibrationImages } from './calibration-images.js';
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

/** What the manifest of an int8 graph says about how it was made. */
interface Int8Record {
  report: QuantizeReport;
  calibrationInputs: number;
}

/** The converter record in a manifest: what made the graph, so setup redoes it when that changes. */
function converterRecord(spec: HumanModel, sources: Record<string, string>): Record<string, unknown> {
  return { version: CONVERTER_VERSION, ...(spec.int8 ? { quantizer: QUANTIZER_VERSION } : {}), sources };
}

function manifestFor(spec: HumanModel, sources: Record<string, string>, onnxSha: string, converted: ReturnType<typeof convertTfjsGraph>, int8?: Int8Record): Manifest {
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
    extra: {
      ...spec.extra,
      batch: converted.dynamicBatch ? 'dynamic' : 1,
      converter: converterRecord(spec, sources),
      ...(int8
        ? {
            quantization: {
              scheme: 'static int8, QDQ: convolution weights int8 per output channel, symmetric (zero point 0, -127..127); biases int32; activations uint8 per tensor; Relu and Clip(0,6) folded into their producer\'s range; hard-swish and hard-sigmoid fused to HardSwish/HardSigmoid and run in float; convolutions on 1x1 maps and the last convolution before each output stay float',
              calibration: {
                method: `percentile: all but ${CALIBRATION_TAIL} of each activation's values on either side (histogram over every calibration input); pixels at their observed min and max`,
                inputs: calibrationInputs(int8.calibrationInputs),
              },
              nodes: int8.report,
            },
          }
        : {}),
    },
  });
}

function calibrationInputs(count: number): string {
  return `${count} pictures: ${CALIBRATION_PHOTOS.map((p) => `${HUMAN_PACKAGE}/${p}`).join(', ')}, each ${Object.keys(CALIBRATION_VIEWS).join(', ')} (ffmpeg), stretched to the input size; no footage engram is measured on`;
}

/** The float graph calibrated on the package's photos and quantized to int8. */
async function quantized(spec: HumanModel, converted: ReturnType<typeof convertTfjsGraph>, pkgDir: string): Promise<{ onnx: Uint8Array; record: Int8Record }> {
  const size = spec.image.size;
  const images = await calibrationImages(pkgDir, size);
  const calibration = await calibrateGraph(converted.onnx, calibrationTensors(converted.onnx), images.map((i) => Float32Array.from(i.rgb)), [1, size, size, 3], { kind: 'percentile', tail: CALIBRATION_TAIL });
  const q = quantizeGraph(converted.onnx, { ranges: calibration.ranges, sizes: calibration.sizes });
  return { onnx: q.onnx, record: { report: q.report, calibrationInputs: calibration.inputs } };
}

/** True when the folder holds this converter's output for exactly these sources, unmodified. */
async function upToDate(dir: string, expected: Record<string, unknown>, cacheDir: string): Promise<string | undefined> {
  const manifestPath = join(dir, 'manifest.json');
  const onnx = join(dir, ONNX_FILE);
  if (!existsSync(manifestPath) || !existsSync(onnx)) return undefined;
  let manifest: Manifest;
  try {
    manifest = readManifest(manifestPath);
  } catch {
    return undefined;
  }
  if (JSON.stringify(manifest.extra['converter']) !== JSON.stringify(expected)) return undefined;
  const recorded = manifest.files.find((f) => f.path === ONNX_FILE)?.sha256;
  const actual = await sha256File(onnx, cacheDir);
  return recorded === actual ? actual : undefined;
}

export function humanModelNames(): string[] {
  return HUMAN_MODELS.map((m) => m.name);
}

/**
 * What a plain `engram models convert` (and so setup) converts: every model but those made on request,
 * plus any of those that `selected` names (the configured detector), so a config that chose one gets it.
 */
export function defaultConversions(selected: readonly string[]): string[] {
  return HUMAN_MODELS.filter((m) => !m.onRequest || selected.includes(m.name)).map((m) => m.name);
}

/**
 * Converts the named models (default: defaultConversions([])). `force` converts even when up to date. A failure in one
 * model is thrown after the others were tried, naming each model that failed.
 */
export async function convertInstalled(options: { modelsDir: string; names?: string[]; force?: boolean; packageDir?: string }): Promise<ConvertResult[]> {
  const names = options.names ?? defaultConversions([]);
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
      const existing = options.force ? undefined : await upToDate(dir, converterRecord(spec, sources), options.modelsDir);
      if (existing) {
        const manifest = readManifest(join(dir, 'manifest.json'));
        results.push({ name: spec.name, state: 'up-to-date', dir, sha256: existing, dynamicBatch: manifest.extra['batch'] === 'dynamic', ms: performance.now() - started });
        continue;
      }
      const graph = readTfjsFiles(join(pkgDir, 'models', `${spec.source}.json`), spec.name);
      const converted = convertTfjsGraph(graph, { batch: spec.batch, ...(spec.outputs ? { outputs: spec.outputs } : {}), ...(spec.inputSize ? { inputSize: spec.inputSize } : {}) });
      const int8 = spec.int8 ? await quantized(spec, converted, pkgDir) : undefined;
      mkdirSync(dir, { recursive: true });
      const onnx = join(dir, ONNX_FILE);
      writeFileSync(`${onnx}.part`, int8?.onnx ?? converted.onnx);
      renameSync(`${onnx}.part`, onnx);
      const sha = await sha256File(onnx, options.modelsDir);
      const manifest = manifestFor(spec, sources, sha, converted, int8?.record);
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
