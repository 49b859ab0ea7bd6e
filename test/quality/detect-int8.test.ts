// The int8 detector `engram models convert centernet-coco-int8` makes (engram's quantizer on the
// converted CenterNet, calibrated on photos in @vladmandic/human; setup makes it only when
// models.detector names it), converted here into a temp dir, against the float one, both as perceive runs them
// (ModelRepository, models.detector, default detect filter), on real footage it was not calibrated
// on. What it keeps and loses is measured in test/bench/detect-int8.ts and DETECT-NOTES.md "int8";
// this holds the floor it was measured at: it finds nearly every person and keeps a bottle on nearly
// every keyframe where the float detector does (it loses some of the weak third bottle; see the notes).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema } from '../../config/schema.js';
import { DataType, decodeModel } from '../../models/convert/onnx-model.js';
import { readManifest } from '../../models/runtime/catalog.js';
import { convertInstalled } from '../../models/runtime/convert-installed.js';
import { boxIou, type ObjectBox } from '../../models/runtime/detections.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { BOTTLE_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const run = promisify(execFile);
const config = ConfigSchema.parse({});
const modelsDir = join(packageRoot(), 'data/models');
const int8Dir = mkdtempSync(join(tmpdir(), 'engram-int8-'));

interface Frame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

async function frames(file: string, width: number, height: number): Promise<Frame[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-vf', `fps=1,scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const per = width * height * 3;
  const out: Frame[] = [];
  for (let o = 0; o + per <= stdout.length; o += per) out.push({ rgb: new Uint8Array(stdout.buffer, stdout.byteOffset + o, per), width, height });
  return out;
}

/** Of fp32's detections of `label`, how many int8 has too (same label, IoU >= 0.5), and the score changes. */
function matched(label: string, fp32: ObjectBox[][], int8: ObjectBox[][]): { total: number; found: number; diffs: number[] } {
  let total = 0;
  let found = 0;
  const diffs: number[] = [];
  fp32.forEach((list, i) => {
    for (const d of list.filter((x) => x.label === label)) {
      total += 1;
      const hit = (int8[i] ?? []).find((o) => o.label === label && boxIou(o.box, d.box) >= 0.5);
      if (hit) {
        found += 1;
        diffs.push(hit.score - d.score);
      }
    }
  });
  return { total, found, diffs };
}

let fp32: ModelRepository;
let int8: ModelRepository;
const open = (detector: string, dir = modelsDir) =>
  ModelRepository.open({
    config: { ...config.models, detector },
    paths: { modelsDir: dir },
    log: {
      info() {},
      warn(_o: object, message: string) {
        throw new Error(`${message}: run \`npm run setup\` (or \`engram models convert\`)`);
      },
    },
  });

// The conversion calibrates on 35 pictures: about a minute of CPU on an idle 2-core machine.
beforeAll(async () => {
  await convertInstalled({ modelsDir: int8Dir, names: ['centernet-coco-int8'] });
  fp32 = await open('centernet-coco');
  int8 = await open('centernet-coco-int8', int8Dir);
}, 400_000);
afterAll(async () => {
  await fp32?.close();
  await int8?.close();
  rmSync(int8Dir, { recursive: true, force: true });
});

describe('centernet-coco-int8 as engram models convert makes it', () => {
  it('is an int8 graph whose manifest says how it was quantized and calibrated', () => {
    const dir = join(int8Dir, 'centernet-coco-int8');
    const manifest = readManifest(join(dir, 'manifest.json'));
    const q = manifest.extra['quantization'] as { calibration: { method: string; inputs: string }; nodes: { int8: Record<string, number> } };
    expect(q.calibration.method).toMatch(/^percentile/);
    expect(q.calibration.inputs).toMatch(/@vladmandic\/human\/assets\/samples\.jpg/);
    expect(q.nodes.int8['Conv']).toBeGreaterThan(60);
    const model = decodeModel(readFileSync(join(dir, 'model.onnx')));
    const int8Weights = model.graph!.initializer!.filter((t) => t.dataType === DataType.INT8 && (t.dims?.length ?? 0) === 4);
    expect(int8Weights.length).toBe(q.nodes.int8['Conv']);
    expect(model.graph!.node!.filter((n) => n.opType === 'QuantizeLinear').length).toBeGreaterThan(50);
  });

  it('models.detector picks the graph perceive runs; a name not installed falls back to an installed one, with a warning', async () => {
    const [frame] = await frames(BOTTLE_DETECTION, 640, 360);
    const raw = { ...config.detect, minScore: 0.1, thresholds: {}, maxPerFrame: 100 };
    const scores = async (repo: ModelRepository) => (await repo.detectObjects([frame!], raw))[0]!.map((d) => `${d.label} ${d.score.toFixed(4)}`);
    expect(await scores(int8)).not.toEqual(await scores(fp32));
    const warnings: string[] = [];
    const other = await ModelRepository.open({ config: { ...config.models, detector: 'centernet-coco-int9' }, paths: { modelsDir }, log: { info() {}, warn: (_o: object, m: string) => void warnings.push(m) } });
    try {
      expect(other.detectorLabels()).toHaveLength(80);
      expect(warnings).toEqual([expect.stringMatching(/^models\.detector is centernet-coco-int9, which is not installed; using centernet-coco/)]);
    } finally {
      await other.close();
    }
  });

  it('finds the people the float detector finds on the people clips', { timeout: 300_000 }, async () => {
    const clips = readdirSync(join(SHARED_MEDIA, 'people')).filter((f) => f.endsWith('.mkv')).sort();
    const a: ObjectBox[][] = [];
    const b: ObjectBox[][] = [];
    for (const clip of clips) {
      const list = await frames(join(SHARED_MEDIA, 'people', clip), 640, 480);
      a.push(...(await fp32.detectObjects(list, config.detect)));
      b.push(...(await int8.detectObjects(list, config.detect)));
    }
    const people = matched('person', a, b);
    console.log(JSON.stringify({ people: { ...people, diffs: people.diffs.map((d) => +d.toFixed(3)) } }));
    expect(people.total).toBeGreaterThan(20);
    // Measured at 1 keyframe/s: 22 of 23 (one person at 0.69 came back shifted or under the 0.35 threshold).
    expect(people.found / people.total).toBeGreaterThanOrEqual(0.9);
    const mean = people.diffs.reduce((s, v) => s + v, 0) / people.diffs.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
  });

  it('keeps a bottle on nearly every keyframe where the float detector keeps one', { timeout: 300_000 }, async () => {
    const list = await frames(BOTTLE_DETECTION, 640, 360);
    const a = await fp32.detectObjects(list, config.detect);
    const b = await int8.detectObjects(list, config.detect);
    const bottles = matched('bottle', a, b);
    const framesWith = (r: ObjectBox[][]) => r.map((l) => l.some((d) => d.label === 'bottle'));
    const [fa, fb] = [framesWith(a), framesWith(b)];
    console.log(JSON.stringify({ bottles: { total: bottles.total, found: bottles.found }, keyframesWithABottle: { fp32: fa.filter(Boolean).length, int8: fa.filter((v, i) => v && fb[i]).length } }));
    // Measured: 39 of 40 keyframes, 77 of 99 bottles (the weak third bottle, 0.28-0.38 in float, is the one lost).
    expect(fa.filter(Boolean).length).toBeGreaterThan(30);
    expect(fa.filter((v, i) => v && fb[i]).length).toBeGreaterThanOrEqual(0.95 * fa.filter(Boolean).length);
    expect(bottles.found).toBeGreaterThanOrEqual(0.7 * bottles.total);
  });
});
