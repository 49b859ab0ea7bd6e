// The converted CenterNet detector on real footage (../shared/media, see ATTRIBUTION.md there),
// with engram's default detect and segment configuration: what it finds per keyframe (issue 13)
// and the events presence and tracks make of it (issue 14), with the segmenter fed the real
// detections and visual signatures. Only the keyframes needed are decoded; the car clip at two
// keyframes a second, because a car crosses the top-down view in two or three seconds and the
// detector names it a vehicle on only some of its frames (it mostly calls it a cell phone or a
// parking meter; see models/runtime/DETECT-NOTES.md). Per-keyframe detections are printed.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/schema.js';
import { packageRoot } from '../../config/load.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import type { ClosedEvent, Detection } from '../../pipelines/records/event.js';
import type { PerceptionRecord } from '../../pipelines/records/perception.js';
import { Segmenter } from '../../pipelines/segment/segmenter.js';
import { BOTTLE_DETECTION, CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const run = promisify(execFile);
const config = ConfigSchema.parse({});
const VEHICLES = new Set(['car', 'truck', 'bus']);
const WALL = Date.UTC(2026, 10, 28, 9, 0, 0);

interface Frame {
  t: number;
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Frames at `fps` from `from` to `to` seconds, scaled as ingest scales keyframes (longest side 640). */
async function frames(file: string, fps: number, width: number, height: number, from = 0, to?: number): Promise<Frame[]> {
  const args = ['-v', 'error', '-ss', String(from), ...(to !== undefined ? ['-to', String(to)] : []), '-i', file, '-vf', `fps=${fps},scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const { stdout } = await run('ffmpeg', args, { encoding: 'buffer', maxBuffer: 1 << 30 });
  const per = width * height * 3;
  const out: Frame[] = [];
  for (let o = 0, i = 0; o + per <= stdout.length; o += per, i += 1) {
    out.push({ t: Math.round((from + i / fps) * 100) / 100, rgb: new Uint8Array(stdout.buffer, stdout.byteOffset + o, per), width, height });
  }
  return out;
}

let models: ModelRepository;
const detected = new Map<string, { frames: Frame[]; detections: Detection[][] }>();

async function detect(name: string, list: Frame[]): Promise<Detection[][]> {
  const detections = await models.detectObjects(list, config.detect);
  detected.set(name, { frames: list, detections });
  console.log(JSON.stringify({ clip: name, keyframes: list.map((f, i) => ({ t: f.t, objects: detections[i]!.map((d) => `${d.label}:${d.score}`) })) }));
  return detections;
}

/** The segmenter (default options) fed one record per keyframe with its signature and detections. */
function segment(name: string, stream: string): ClosedEvent[] {
  const { frames: list, detections } = detected.get(name)!;
  const step = list.length > 1 ? list[1]!.t - list[0]!.t : 1;
  const segmenter = new Segmenter(config.segment, stream);
  const records: PerceptionRecord[] = list.map((f, i) => ({
    stream,
    seq: i,
    start: f.t,
    end: f.t + step,
    wallStart: WALL + f.t * 1000,
    keyframes: [{ t: f.t, vectors: {}, signature: models.visualSignature(f), thumbnail: null, ocr: null, detections: detections[i]! }],
    audio: null,
    gapBefore: 0,
    final: i === list.length - 1,
  }));
  const events = records.flatMap((r) => segmenter.push(r, { now: WALL }));
  console.log(JSON.stringify({ clip: name, events: events.map((e) => ({ start: e.start, end: e.end, closedBy: e.closedBy, labels: e.objects?.labels, counts: e.objects?.counts })) }));
  return events;
}

beforeAll(async () => {
  models = await ModelRepository.open({ config, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn() {} } });
  if (!models.detectorLabels()) throw new Error('centernet-coco is not installed in data/models: run `npm run setup`, which converts it from @vladmandic/human');
}, 60_000);
afterAll(() => models?.close());

describe('people clips (one person signing, in view throughout)', () => {
  const clips = readdirSync(join(SHARED_MEDIA, 'people')).filter((f) => f.endsWith('.mkv')).sort();

  it('"person" on every keyframe and nothing else above threshold; each clip is one person event covering it', async () => {
    expect(clips.length).toBe(9);
    for (const clip of clips) {
      const list = await frames(join(SHARED_MEDIA, 'people', clip), 1, 640, 480);
      const detections = await detect(clip, list);
      for (const [i, d] of detections.entries()) {
        expect(d.map((x) => x.label), `${clip} at ${list[i]!.t} s`).toContain('person');
        expect(d.filter((x) => x.label !== 'person'), `${clip} at ${list[i]!.t} s`).toEqual([]);
      }
      const events = segment(clip, clip.replace('.mkv', ''));
      const withPerson = events.filter((e) => e.objects?.labels.includes('person'));
      expect(withPerson.length, clip).toBe(1);
      expect(withPerson[0]!.start).toBe(0);
      expect(withPerson[0]!.end).toBeGreaterThanOrEqual(list[list.length - 1]!.t);
      expect(withPerson[0]!.objects?.counts.person?.max).toBeGreaterThanOrEqual(1);
    }
  }, 600_000);
});

describe('bottle-detection.mp4 (three bottles; a hand takes and returns them)', () => {
  it('"bottle" on every keyframe; the count changes only around the moments a hand reaches in', async () => {
    const list = await frames(BOTTLE_DETECTION, 1, 640, 360);
    const detections = await detect('bottle-detection', list);
    const counts = detections.map((d) => d.filter((x) => x.label === 'bottle').length);
    counts.forEach((n, i) => expect(n, `bottles at ${list[i]!.t} s`).toBeGreaterThan(0));
    expect(new Set(counts).size).toBeGreaterThanOrEqual(3);
    // ATTRIBUTION.md: a hand reaches in around these seconds (ranges widened by the 1 s keyframe step).
    const moments = [[5, 7], [10, 14], [15, 18], [21, 24], [26, 29], [30, 32], [34, 37]];
    for (let i = 1; i < counts.length; i += 1) {
      if (counts[i] === counts[i - 1]) continue;
      const t = list[i]!.t;
      expect(moments.some(([a, b]) => t >= a! - 1 && t <= b! + 1), `the count changed ${counts[i - 1]} -> ${counts[i]} at ${t} s, away from every listed moment`).toBe(true);
    }
    const events = segment('bottle-detection', 'bottles');
    expect(events.every((e) => e.objects?.labels.includes('bottle'))).toBe(true);
    expect(Math.max(...events.map((e) => e.objects?.counts.bottle?.max ?? 0))).toBe(3);
  }, 600_000);
});

describe('car-detection.mp4 (top-down lane; cars cross at about 5-8, 14-18 and 25-27 s)', () => {
  const crossings = [[5, 8], [14, 18], [25, 27]] as const;

  it('a vehicle label during each crossing and on at most 10 % of the empty lane’s keyframes', async () => {
    const list = await frames(CAR_DETECTION, 2, 640, 360);
    const detections = await detect('car-detection', list);
    const vehicleAt = (i: number) => detections[i]!.some((d) => VEHICLES.has(d.label));
    for (const [from, to] of crossings) {
      const during = list.map((f, i) => [f, i] as const).filter(([f]) => f.t >= from && f.t <= to + 1);
      expect(during.some(([, i]) => vehicleAt(i)), `a vehicle during ${from}-${to} s`).toBe(true);
    }
    const empty = list.map((f, i) => [f, i] as const).filter(([f]) => !crossings.some(([a, b]) => f.t >= a - 1 && f.t <= b + 1.5));
    expect(empty.length).toBeGreaterThan(20);
    expect(empty.filter(([, i]) => vehicleAt(i)).length).toBeLessThanOrEqual(Math.floor(empty.length * 0.1));
  }, 600_000);

  it('starts an event at each crossing; vehicle events only where cars cross', () => {
    const events = segment('car-detection', 'cars');
    for (const [from] of crossings) expect(events.some((e) => Math.abs(e.start - from) <= 2), `an event starting near ${from} s`).toBe(true);
    const vehicleEvents = events.filter((e) => e.objects?.labels.some((l) => VEHICLES.has(l)));
    const crossed = vehicleEvents.map((e) => crossings.findIndex(([a, b]) => e.start < b + 1 && e.end > a));
    expect(crossed).not.toContain(-1);
    // Measured limit of the model, not of the cue: on the third crossing the detector names the car
    // a vehicle on two keyframes under two labels (bus 0.12 at 26.5 s, car 0.28 at 27.5 s), and
    // presence needs one label on 2 of 3 keyframes; its other frames say "cell phone".
    expect(new Set(crossed).size).toBeGreaterThanOrEqual(2);
  });
});
