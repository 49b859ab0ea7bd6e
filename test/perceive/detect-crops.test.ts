// The detector after a small change looks only at a window around it with the 320x320 crop graph
// (pipelines/perceive/detect-window.ts), with the converted models in data/models and real footage:
// a still picture (the empty lane of car-detection.mp4) with a bottle standing on the left (cut from
// bottle-detection.mp4) and a small person (people/eat.mkv shrunk to 200x150) moving along it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { metricsRegistry } from '../../pipelines/metrics.js';
import { perceiveChunk } from '../../pipelines/perceive/perceive-chunk.js';
import type { Chunk } from '../../pipelines/records/chunk.js';
import type { Detection } from '../../pipelines/records/event.js';
import { BOTTLE_DETECTION, CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { MemoryGates } from '../helpers/memory-gates.js';

const W = 640;
const H = 360;
const PERSON = { w: 200, h: 150 };
const BOTTLE = { x: 10, y: 100, w: 100, h: 230 };
const config = ConfigSchema.parse({});
// Crops are off by default (models/runtime/DETECT-NOTES.md); these tests are about what they do when on.
const options = { ...config.perceive, ocr: false, transcribe: false, gating: { ...config.perceive.gating, detect: { ...config.perceive.gating.detect, crops: true } } };

const grab = (file: string, t: number, w: number, h: number) =>
  new Uint8Array(execFileSync('ffmpeg', ['-loglevel', 'error', '-ss', String(t), '-i', file, '-frames:v', '1', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']));

let models: ModelRepository;
let lane: Uint8Array;
let bottles: Uint8Array;
let person: Uint8Array;

/** The lane with the bottle on the left and the person's top-left corner at x, y. */
function picture(x: number, y: number): Uint8Array {
  const out = Uint8Array.from(lane);
  // bottle-detection.mp4's right-hand bottle stands at about x 503-574, y 109-319 of its 640x360 frame.
  for (let r = BOTTLE.y; r < BOTTLE.y + BOTTLE.h; r += 1) out.set(bottles.subarray((r * W + 490) * 3, (r * W + 490 + BOTTLE.w) * 3), (r * W + BOTTLE.x) * 3);
  for (let r = 0; r < PERSON.h; r += 1) out.set(person.subarray(r * PERSON.w * 3, (r + 1) * PERSON.w * 3), ((y + r) * W + x) * 3);
  return out;
}

function chunkAt(seq: number, rgb: Uint8Array): Chunk {
  return { stream: 'yard', seq, start: seq, end: seq + 1, wallStart: 1_800_000_000_000 + seq * 1000, keyframes: [{ t: seq, width: W, height: H, rgb, jpeg: Buffer.alloc(0), scene: false }], audio: null } as unknown as Chunk;
}

async function regionRuns(): Promise<number> {
  const metric = (await metricsRegistry.getSingleMetric('engram_perceive_gate_total')?.get())?.values ?? [];
  return metric.filter((v) => v.labels.gate === 'detect' && v.labels.outcome === 'region').reduce((a, v) => a + v.value, 0);
}

const inside = (box: readonly number[], x: number, y: number, w: number, h: number, slack = 4) => box[0]! >= x - slack && box[1]! >= y - slack && box[2]! <= x + w + slack && box[3]! <= y + h + slack;

beforeAll(async () => {
  models = await ModelRepository.open({ config, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn() {} } });
  if (!models.detectorSizes()?.crop) throw new Error('centernet-coco and centernet-coco-320 are not installed in data/models: run `npm run setup` (or `engram models convert`)');
  lane = grab(CAR_DETECTION, 0.5, W, H);
  bottles = grab(BOTTLE_DETECTION, 1, W, H);
  person = grab(join(SHARED_MEDIA, 'people', 'eat.mkv'), 1, PERSON.w, PERSON.h);
}, 60_000);
afterAll(() => models?.close());

describe('detector on the changed window', () => {
  it('finds a small person moving in a large still picture where it is, and keeps the still bottle outside the window', async () => {
    const gates = new MemoryGates();
    const deps = { models, gates, detect: config.detect, saveThumbnail: async () => 'x.jpg' };
    const positions = [[300, 100], [340, 100], [380, 110]] as const;
    const before = await regionRuns();
    const seen: Detection[][] = [];
    for (const [seq, [x, y]] of positions.entries()) {
      const record = await perceiveChunk(chunkAt(seq, picture(x, y)), options, deps);
      const detections = record.keyframes[0]!.detections ?? [];
      console.log(JSON.stringify({ t: seq, person: [x, y], detections }));
      seen.push(detections);
    }
    // The first keyframe is seen whole, at 512x512: the bottle is found.
    const bottle = seen[0]!.find((d) => d.label === 'bottle');
    expect(bottle, 'a bottle on the first keyframe').toBeDefined();
    expect(inside(bottle!.box, BOTTLE.x, BOTTLE.y, BOTTLE.w, BOTTLE.h)).toBe(true);
    // The next two moved only the person: each is a window run, and the person is found inside the
    // rectangle it was pasted into, moving with it; the bottle, clear of the window, stands as found.
    expect((await regionRuns()) - before).toBe(2);
    for (const [i, [x, y]] of positions.entries()) {
      if (i === 0) continue;
      const persons = seen[i]!.filter((d) => d.label === 'person');
      expect(persons.length, `one person at t=${i}`).toBe(1);
      expect(inside(persons[0]!.box, x, y, PERSON.w, PERSON.h), `person box ${persons[0]!.box.join(',')} inside its picture at ${x},${y}`).toBe(true);
      expect(seen[i]!.find((d) => d.label === 'bottle')?.box).toEqual(bottle!.box);
    }
    const centre = (d: Detection) => (d.box[0] + d.box[2]) / 2;
    const moved = centre(seen[2]!.find((d) => d.label === 'person')!) - centre(seen[1]!.find((d) => d.label === 'person')!);
    expect(moved).toBeGreaterThan(25);
    expect(moved).toBeLessThan(55);
  }, 120_000);

  it('looks at the whole frame when crops are off (the default)', async () => {
    const gates = new MemoryGates();
    const deps = { models, gates, detect: config.detect, saveThumbnail: async () => 'x.jpg' };
    const before = await regionRuns();
    for (const [seq, x] of [300, 340].entries()) await perceiveChunk(chunkAt(seq, picture(x, 100)), config.perceive, deps);
    expect((await regionRuns()) - before).toBe(0);
  }, 120_000);

  it('sees the whole frame again when the change is too large for a window', async () => {
    const gates = new MemoryGates();
    const deps = { models, gates, detect: config.detect, saveThumbnail: async () => 'x.jpg' };
    const before = await regionRuns();
    await perceiveChunk(chunkAt(0, picture(300, 100)), options, deps);
    // The person jumps from the middle to the far right and the bottle's side changes too: the change spans the frame.
    const far = picture(430, 200);
    for (let r = 0; r < 40; r += 1) far.fill(255, (r * W + 0) * 3, (r * W + 40) * 3);
    const record = await perceiveChunk(chunkAt(1, far), options, deps);
    expect((await regionRuns()) - before).toBe(0);
    expect(record.keyframes[0]!.detections?.some((d) => d.label === 'bottle')).toBe(true);
  }, 120_000);
});
