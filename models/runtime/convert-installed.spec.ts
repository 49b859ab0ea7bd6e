// Converting the shipped TF.js models: bad input gives one error naming the file, node or op; setup's
// conversion verifies the pinned sources, records the ONNX digest and skips work already done.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attr, TfGraphBuilder } from '../../test/helpers/tfjs.js';
import { convertTfjsGraph } from '../convert/convert.js';
import { ConvertError } from '../convert/errors.js';
import { readManifest } from './catalog.js';
import { ModelsSchema } from '../../config/schema.js';
import { convertInstalled, defaultConversions, humanPackageDir, readTfjsFiles } from './convert-installed.js';
import { checkSignature, openSession } from './session.js';

const tmp = mkdtempSync(join(tmpdir(), 'engram-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny valid model on disk: conv + relu, one shard. */
function writeModel(dir: string, mutate: (json: Record<string, unknown>) => void = () => {}): string {
  mkdirSync(dir, { recursive: true });
  const g = new TfGraphBuilder(3);
  const x = g.input('x', [1, 4, 4, 2]);
  const c = g.op('Conv2D', 'conv', [x, g.const('w', [3, 3, 2, 2], 'random')], { data_format: attr.str('NHWC'), strides: attr.ints([1, 1, 1, 1]), padding: attr.str('SAME') });
  g.op('Relu', 'y', [c]);
  const { json, shard } = g.artifacts(['y']);
  mutate(json);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'weights.bin'), shard);
  return join(dir, 'model.json');
}

const convertFile = (path: string) => convertTfjsGraph(readTfjsFiles(path, 'tiny'));
const errorOf = (fn: () => unknown): ConvertError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConvertError) return error;
    throw error;
  }
  throw new Error('expected a ConvertError');
};

describe('errors a person can act on', () => {
  it('converts the valid tiny model (so the failures below are the mutations)', () => {
    expect(convertFile(writeModel(join(tmp, 'ok'))).outputs.map((o) => o.name)).toEqual(['y']);
  });

  it('a corrupt model.json names the file', () => {
    const path = writeModel(join(tmp, 'corrupt'));
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 100));
    const e = errorOf(() => convertFile(path));
    expect(e.message).toContain(path);
    expect(e.message).toContain('not valid JSON');
  });

  it('JSON that is not a graph model names the file and the missing part', () => {
    const path = writeModel(join(tmp, 'not-graph'), (j) => delete j['modelTopology']);
    const e = errorOf(() => convertFile(path));
    expect(e.message).toContain(path);
    expect(e.message).toContain('modelTopology');
  });

  it('a missing weight shard names the shard file', () => {
    const path = writeModel(join(tmp, 'no-shard'));
    rmSync(join(tmp, 'no-shard', 'weights.bin'));
    const e = errorOf(() => convertFile(path));
    expect(e.message).toContain(join(tmp, 'no-shard', 'weights.bin'));
    expect(e.message).toContain('ENOENT');
  });

  it('a truncated weight shard names the shards and the weight that does not fit', () => {
    const path = writeModel(join(tmp, 'short'));
    const bin = join(tmp, 'short', 'weights.bin');
    writeFileSync(bin, readFileSync(bin).subarray(0, 40));
    const e = errorOf(() => convertFile(path));
    expect(e.message).toContain('weights.bin');
    expect(e.message).toContain('weight w');
  });

  it('an unknown op names the op, the node and the model', () => {
    const path = writeModel(join(tmp, 'unknown-op'), (j) => {
      const nodes = (j['modelTopology'] as { node: { op: string; name: string }[] }).node;
      (nodes.find((n) => n.name === 'y') as { op: string }).op = 'Erfinv';
    });
    const e = errorOf(() => convertFile(path));
    expect(e.message).toMatch(/model tiny: node y: op Erfinv is not supported/);
  });

  it('an unsupported attribute value names the attribute, the node and the model', () => {
    const path = writeModel(join(tmp, 'nchw'), (j) => {
      const nodes = (j['modelTopology'] as { node: { name: string; attr: Record<string, unknown> }[] }).node;
      (nodes.find((n) => n.name === 'conv') as { attr: Record<string, unknown> }).attr['data_format'] = attr.str('NCHW');
    });
    expect(errorOf(() => convertFile(path)).message).toMatch(/model tiny: node conv \(Conv2D\): attribute data_format = "NCHW" is not supported/);
  });

  it('centernet cannot take a dynamic batch: the error names the node that fixes it', () => {
    const graph = readTfjsFiles(join(humanPackageDir(), 'models/centernet.json'), 'centernet-coco');
    expect(errorOf(() => convertTfjsGraph(graph, { batch: 'dynamic' })).message).toMatch(/model centernet-coco: node tower_0\/BatchGather\/Reshape_2 \(Reshape\): fixes the batch size/);
  });
});

describe('setup conversion (engram models convert)', () => {
  it('refuses a source file whose sha256 differs from the pinned one, naming it and both digests', async () => {
    const pkg = join(tmp, 'pkg');
    mkdirSync(join(pkg, 'models'), { recursive: true });
    copyFileSync(join(humanPackageDir(), 'package.json'), join(pkg, 'package.json'));
    writeFileSync(join(pkg, 'models', 'blazeface.json'), `${readFileSync(join(humanPackageDir(), 'models/blazeface.json'), 'utf8')} `);
    const err = await convertInstalled({ modelsDir: join(tmp, 'models-bad'), names: ['blazeface'], packageDir: pkg }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect((err as Error).message).toContain(join(pkg, 'models', 'blazeface.json'));
    expect((err as Error).message).toContain('expected cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f');
  });

  it('writes model.onnx and a manifest, then skips until the output changes', async () => {
    const modelsDir = join(tmp, 'models');
    const [first] = await convertInstalled({ modelsDir, names: ['blazeface'] });
    expect(first).toMatchObject({ name: 'blazeface', state: 'converted', dynamicBatch: true });
    const manifest = readManifest(join(modelsDir, 'blazeface', 'manifest.json'));
    expect(manifest.source).toEqual({ kind: 'converted', from: 'npm', package: '@vladmandic/human', version: '3.3.6', path: 'models/blazeface' });
    expect(manifest.checksums).toBe('converted-at-setup');
    expect(manifest.files).toEqual([{ path: 'model.onnx', sha256: first?.sha256, recordOnFirstDownload: false }]);
    expect(manifest.graphs['detector']?.inputs).toEqual([{ name: 'input:0', type: 'float32', shape: ['batch', 256, 256, 3] }]);
    expect(manifest.graphs['detector']?.outputs.map((o) => o.name)).toEqual(['Identity_3:0', 'Identity:0', 'Identity_1:0', 'Identity_2:0']);

    const [again] = await convertInstalled({ modelsDir, names: ['blazeface'] });
    expect(again).toMatchObject({ state: 'up-to-date', sha256: first?.sha256 });

    const onnx = join(modelsDir, 'blazeface', 'model.onnx');
    writeFileSync(onnx, Buffer.concat([readFileSync(onnx), Buffer.from([0])]));
    const [redone] = await convertInstalled({ modelsDir, names: ['blazeface'] });
    expect(redone).toMatchObject({ state: 'converted', sha256: first?.sha256 });
  });

  it('converts centernet at another input size only where its resize targets scale to whole sizes', { timeout: 60_000 }, () => {
    const graph = readTfjsFiles(join(humanPackageDir(), 'models/centernet.json'), 'centernet-coco');
    const converted = convertTfjsGraph(graph, { batch: 1, inputSize: [320, 320], outputs: ['tower_0/keypoints'] });
    expect(converted.outputs[0]?.shape).toEqual([1, 80, 80, 80]);
    expect(errorOf(() => convertTfjsGraph(graph, { batch: 1, inputSize: [300, 300], outputs: ['tower_0/keypoints'] })).message).toMatch(/node tower_0\/CenternetHead\/c5_upsample\/up_sampling2d\/ResizeBilinear \(ResizeBilinear\): the traced size 32x32 does not scale/);
  });

  // The int8 graph is the 512 conversion plus calibration (a minute of CPU), made only on request: its
  // manifest and signature are checked in test/quality/detect-int8.test.ts, which converts it.
  it('a plain convert makes the five float graphs (centernet twice: 512 for frames, 320 for crops), not the int8 one, and each manifest matches its ONNX graph as a session opens it', { timeout: 120_000 }, async () => {
    const modelsDir = join(tmp, 'all');
    const results = await convertInstalled({ modelsDir });
    expect(results.map((r) => [r.name, r.dynamicBatch])).toEqual([['centernet-coco', false], ['centernet-coco-320', true], ['blazeface', true], ['faceres', true], ['movenet-lightning', false]]);
    const log = { info: () => undefined, warn: () => undefined };
    for (const r of results) {
      const manifest = readManifest(join(r.dir, 'manifest.json'));
      const [role, graph] = Object.entries(manifest.graphs)[0]!;
      expect(role).toBe({ 'centernet-coco': 'detector', 'centernet-coco-320': 'crops', blazeface: 'detector', faceres: 'descriptor', 'movenet-lightning': 'pose' }[r.name]);
      const { session } = await openSession(r.name, join(r.dir, graph.file), ModelsSchema.parse({ provider: 'cpu' }), log);
      expect(() => checkSignature(r.name, graph.file, session, graph)).not.toThrow();
      await session.release();
    }
    const centernet = readManifest(join(modelsDir, 'centernet-coco', 'manifest.json'));
    expect(centernet.extra['labels']).toHaveLength(80);
    expect((centernet.extra['labels'] as string[])[39]).toBe('bottle');
    expect(centernet.preprocessing.image).toMatchObject({ size: 512, crop: 'stretch' });
    const crops = readManifest(join(modelsDir, 'centernet-coco-320', 'manifest.json'));
    expect(crops.extra['cropsFor']).toBe('centernet-coco');
    expect(crops.extra['labels']).toEqual(centernet.extra['labels']);
    expect(crops.graphs.crops?.inputs[0]?.shape).toEqual(['batch', 320, 320, 3]);
    expect(crops.graphs.crops?.outputs.map((o) => [o.name, o.shape])).toEqual([['tower_0/keypoints', ['batch', 80, 80, 80]], ['tower_0/wh', ['batch', 80, 80, 4]]]);
  });

  it('a plain convert adds a model made on request when the config selects it (models.detector)', () => {
    expect(defaultConversions(['centernet-coco'])).toEqual(['centernet-coco', 'centernet-coco-320', 'blazeface', 'faceres', 'movenet-lightning']);
    expect(defaultConversions(['centernet-coco-int8'])).toEqual(['centernet-coco', 'centernet-coco-320', 'centernet-coco-int8', 'blazeface', 'faceres', 'movenet-lightning']);
  });

  it('an unknown model name lists the convertible ones', async () => {
    await expect(convertInstalled({ modelsDir: join(tmp, 'm2'), names: ['yolo'] })).rejects.toThrow(/cannot convert yolo: convertible models are centernet-coco, centernet-coco-320, centernet-coco-int8, blazeface, faceres, movenet-lightning/);
  });
});
