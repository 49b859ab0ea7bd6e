import { describe, expect, it } from 'vitest';
import { PerceiveSchema, DetectSchema, FacesSchema } from '../../config/schema.js';
import type { Chunk } from '../records/chunk.js';
import type { Detection } from '../records/event.js';
import type { GateMarks } from '../records/gate-state.js';
import { MemoryGates } from '../../test/helpers/memory-gates.js';
import { decodeRecord, encodeRecord } from '../records/perception.js';
import { changedArea, greyCopy } from './change-signal.js';
import { perceiveChunk, type PerceptionModels, type ReadLine } from './perceive-chunk.js';
import { StreamLanes } from './stream-lanes.js';

const W = 160;
const H = 90;

/** A grey frame with an optional bright square (an object) at x. */
function frame(objectAt?: number, shade = 90): Uint8Array {
  const rgb = new Uint8Array(W * H * 3).fill(shade);
  if (objectAt !== undefined) {
    for (let y = 30; y < 60; y += 1) for (let x = objectAt; x < objectAt + 30; x += 1) rgb.fill(240, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return rgb;
}

/** Models that count their runs; the detector reports the bright square where it is. */
function countingModels() {
  const runs = { detect: 0, ocr: 0, vad: 0, ocrRegions: [] as (readonly (readonly [number, number, number, number])[] | undefined)[] };
  const models: PerceptionModels = {
    spaces: () => [{ id: 'visual-signature', modalities: ['image'] }],
    status: () => [
      { task: 'object-detection', installed: true },
      { task: 'ocr', installed: true },
      { task: 'voice-activity', installed: true },
    ],
    embedImages: async () => [],
    embedAudio: async () => [],
    visualSignature: () => Float32Array.from([1, 0]),
    audioLevels: (pcm) => ({ windows: [{ t: 0, rmsDb: 20 * Math.log10(Math.max(1e-6, Math.max(...pcm.map(Math.abs)))) }] }),
    detectSpeech: async () => {
      runs.vad += 1;
      return [{ start: 0.1, end: 0.9 }];
    },
    transcribe: async () => undefined,
    readText: async (f, _signal, previous?: readonly ReadLine[], regions?: readonly (readonly [number, number, number, number])[]): Promise<ReadLine[]> => {
      runs.ocr += 1;
      runs.ocrRegions.push(regions);
      return previous && previous.length > 0 ? previous.map((l) => ({ ...l, reused: true })) : [{ text: 'EXIT', confidence: 0.9, box: [0, 0, 10, 10] }];
    },
    detectObjects: async (frames) => {
      runs.detect += frames.length;
      return frames.map((f): Detection[] => {
        const x = Array.from({ length: W }, (_v, i) => i).find((i) => f.rgb[(45 * W + i) * 3] === 240);
        return x === undefined ? [] : [{ label: 'person', score: 0.8, box: [x, 30, x + 30, 60] }];
      });
    },
  };
  return { runs, models };
}

function chunkAt(seq: number, rgb: Uint8Array, audio?: Float32Array): Chunk {
  return { stream: 'cam', seq, start: seq, end: seq + 1, wallStart: 1_700_000_000_000 + seq * 1000, keyframes: [{ t: seq, width: W, height: H, rgb, jpeg: Buffer.alloc(0), scene: false }], audio: audio ?? null } as unknown as Chunk;
}

const detect = DetectSchema.parse({});
const deps = (models: PerceptionModels, gates: GateMarks) => ({ models, gates, detect, saveThumbnail: async () => 'x.jpg' });

describe('change signal', () => {
  it('counts the pixels an object covers and ignores a shift of the whole picture', () => {
    const empty = greyCopy({ rgb: frame(), width: W, height: H }, 64);
    const object = greyCopy({ rgb: frame(40), width: W, height: H }, 64);
    const brighter = greyCopy({ rgb: frame(undefined, 105), width: W, height: H }, 64);
    const lightsOn = greyCopy({ rgb: frame(undefined, 160), width: W, height: H }, 64);
    expect(empty.width).toBe(64);
    expect(empty.height).toBe(36);
    expect(changedArea(empty, empty, 12)).toBe(0);
    expect(changedArea(empty, brighter, 12)).toBe(0); // auto exposure, not a change
    expect(changedArea(empty, lightsOn, 12)).toBe(1); // too big a jump for exposure: all of it changed
    const area = changedArea(object, empty, 12);
    expect(area).toBeGreaterThan(0.04); // a 30x30 square of 160x90 is 6 % of the picture
    expect(area).toBeLessThan(0.09);
  });
});

describe('gated perception', () => {
  const options = PerceiveSchema.parse({ ocrIntervalSeconds: 0, gating: { detect: { refreshSeconds: 5 } } });

  it('runs the detector where the picture changed or its refresh passed, and carries its result elsewhere', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    // 0-3 empty, 4-6 a person at x=20, 7 moved to x=100, then still until 13.
    const scene = (s: number) => (s < 4 ? frame() : s < 7 ? frame(20) : frame(100));
    const records = [];
    for (let s = 0; s < 14; s += 1) records.push(decodeRecord(encodeRecord(await perceiveChunk(chunkAt(s, scene(s)), options, deps(models, gates)))));
    const ranAt = records.flatMap((r) => r.keyframes).filter((k) => k.carried?.detect === undefined).map((k) => k.t);
    // first keyframe, arrival, move, then the 5 s refresh on the still picture (7 + 5 = 12)
    expect(ranAt).toEqual([0, 4, 7, 12]);
    expect(runs.detect).toBe(4);
    for (const k of records.flatMap((r) => r.keyframes)) {
      // A carried keyframe shows what is there, and says from when.
      const expected = k.t < 4 ? [] : k.t < 7 ? [20] : [100];
      expect((k.detections ?? []).map((d) => d.box[0])).toEqual(expected);
      if (k.carried?.detect !== undefined) expect(k.carried.detect).toBeLessThan(k.t);
    }
    // The change signal is recorded: nothing on the still empty picture, the arrival stands out.
    const change = new Map(records.flatMap((r) => r.keyframes).map((k) => [k.t, k.change]));
    expect(change.get(0)).toBeNull();
    expect(change.get(2)).toBe(0);
    expect(change.get(4)).toBeGreaterThan(0.04);
  });

  it('keeps gating when a backlog of one stream is perceived at once: its chunks take turns in the stream\'s lane', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    const lanes = new StreamLanes();
    const records = await Promise.all([0, 1, 2, 3, 4].map((s) => perceiveChunk(chunkAt(s, frame(30)), options, { ...deps(models, gates), lanes })));
    expect(runs.detect).toBe(1);
    expect(records.map((r) => r.keyframes[0]!.carried?.detect ?? null)).toEqual([null, 0, 0, 0, 0]);
    // Without the lane every chunk loads the state before any saved a run, and all of them run.
    const alone = countingModels();
    await Promise.all([5, 6, 7].map((s) => perceiveChunk(chunkAt(s, frame(30)), options, deps(alone.models, new MemoryGates()))));
    expect(alone.runs.detect).toBe(3);
  });

  it('runs every model on every keyframe with gating off for it', async () => {
    const { runs, models } = countingModels();
    const off = PerceiveSchema.parse({ ocrIntervalSeconds: 0, gating: { detect: { enabled: false }, ocr: { enabled: false } } });
    const gates = new MemoryGates();
    for (let s = 0; s < 5; s += 1) await perceiveChunk(chunkAt(s, frame()), off, deps(models, gates));
    expect(runs.detect).toBe(5);
    expect(runs.ocr).toBe(5);
  });

  it('lets a chunk perceived late neither skip on a newer mark nor roll the state back', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    await perceiveChunk(chunkAt(5, frame()), options, deps(models, gates));
    const late = await perceiveChunk(chunkAt(3, frame()), options, deps(models, gates));
    expect(late.keyframes[0]!.carried?.detect).toBeUndefined();
    expect(runs.detect).toBe(2);
    expect((await gates.loadGate()).marks.detect?.t).toBe(5);
    // A retried chunk finds its own mark and carries it (the same keyframe, the same result).
    const retried = await perceiveChunk(chunkAt(5, frame()), options, deps(models, gates));
    expect(retried.keyframes[0]!.carried?.detect).toBe(5);
  });

  it('re-reads text only where the picture changed, handing the last read to the recogniser', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    const ocrOptions = PerceiveSchema.parse({ ocrIntervalSeconds: 2 });
    const records = [];
    for (let s = 0; s < 8; s += 1) records.push(await perceiveChunk(chunkAt(s, s < 4 ? frame() : frame(60)), ocrOptions, deps(models, gates)));
    const kfs = records.flatMap((r) => r.keyframes);
    // due at 0, 2, 4, 6; the picture changed only at 4
    expect(kfs.filter((k) => k.ocr !== null).map((k) => k.t)).toEqual([0, 2, 4, 6]);
    expect(kfs.filter((k) => k.carried?.ocr !== undefined).map((k) => [k.t, k.carried!.ocr])).toEqual([[2, 0], [6, 4]]);
    expect(runs.ocr).toBe(2);
    expect(kfs.find((k) => k.t === 6)!.ocr!.map((l) => l.text)).toEqual(['EXIT']);
    // The first read sees the whole frame; the read after the change is told where it changed
    // (the 30x30 square at x 60-90, y 30-60, in frame pixels, rounded out to the grey copy's 2.5 px cells).
    expect(runs.ocrRegions[0]).toBeUndefined();
    expect(runs.ocrRegions[1]).toHaveLength(1);
    const [x0, y0, x1, y1] = runs.ocrRegions[1]![0]!;
    expect([x0, y0]).toEqual([expect.closeTo(60, -0.7), expect.closeTo(30, -0.7)]);
    expect([x1, y1]).toEqual([expect.closeTo(90, -0.7), expect.closeTo(60, -0.7)]);
  });

  it('tells OCR each place the picture changed: an object that crossed the frame between two reads is looked for where it was and where it is, not across the road between', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    const ocrOptions = PerceiveSchema.parse({ ocrIntervalSeconds: 2 });
    // The square at x 10-40 until 2 s, then at x 120-150.
    for (let s = 0; s < 4; s += 1) await perceiveChunk(chunkAt(s, frame(s < 2 ? 10 : 120)), ocrOptions, deps(models, gates));
    expect(runs.ocr).toBe(2);
    const regions = runs.ocrRegions[1]!.map((r) => [...r]).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(regions).toHaveLength(2);
    const [left, right] = regions as [number[], number[]];
    expect(left).toEqual([expect.closeTo(10, -0.7), expect.closeTo(30, -0.7), expect.closeTo(40, -0.7), expect.closeTo(60, -0.7)]);
    expect(right).toEqual([expect.closeTo(120, -0.7), expect.closeTo(30, -0.7), expect.closeTo(150, -0.7), expect.closeTo(60, -0.7)]);
  });

  it('looks for faces only where the detector sees a person and the picture changed, and carries the same sighting elsewhere', async () => {
    const { runs, models } = countingModels();
    let faceRuns = 0;
    // The fake face detector finds a face on the bright square; the descriptor says where it was.
    const faceModels: PerceptionModels = {
      ...models,
      faceDescriptorSize: () => 8,
      detectFaces: async (frames) => {
        faceRuns += frames.length;
        return frames.map((f) => {
          const x = Array.from({ length: W }, (_v, i) => i).find((i) => f.rgb[(45 * W + i) * 3] === 240);
          return x === undefined ? [] : [{ score: 0.9, box: [x, 30, x + 30, 60] as [number, number, number, number], landmarks: [[x + 8, 40], [x + 22, 40]] as [number, number][] }];
        });
      },
      describeFaces: async (crops) => crops.map((_c, i) => ({ descriptor: Float32Array.from({ length: 8 }, () => i + 1) })),
    };
    const faces = FacesSchema.parse({ minSize: 8, minSharpness: 0 });
    const saved: string[] = [];
    const faceDeps = (gating: object) => ({
      options: PerceiveSchema.parse({ ocrIntervalSeconds: 0, gating: { detect: { refreshSeconds: 5 }, faces: { refreshSeconds: 5 }, ...gating } }),
      deps: { ...deps(faceModels, new MemoryGates()), faces, saveFaceCrop: async (_s: string, wall: number, i: number) => (saved.push(`${wall}-${i}`), `faces/cam/${wall}-${i}.bmp`) },
    });
    // 0-3 empty, 4-6 a person at x=20, 7 moved to x=100, then still until 13.
    const scene = (s: number) => (s < 4 ? frame() : s < 7 ? frame(20) : frame(100));
    const gatedRun = faceDeps({});
    const records = [];
    for (let s = 0; s < 14; s += 1) records.push(decodeRecord(encodeRecord(await perceiveChunk(chunkAt(s, scene(s)), gatedRun.options, gatedRun.deps))));
    const kfs = records.flatMap((r) => r.keyframes);
    // No person before 4: not looked for. Then the arrival, the move and the 5 s refresh (7 + 5).
    expect(kfs.filter((k) => k.faces === null).map((k) => k.t)).toEqual([0, 1, 2, 3]);
    expect(kfs.filter((k) => k.faces !== null && k.carried?.faces === undefined).map((k) => k.t)).toEqual([4, 7, 12]);
    expect(faceRuns).toBe(3);
    expect(saved.length).toBe(3);
    for (const k of kfs.filter((f) => f.t >= 4)) {
      // Every keyframe with the person shows the face where it is; a carried one shows the run's own crop.
      expect(k.faces?.map((f) => f.box[0])).toEqual([k.t < 7 ? 20 : 100]);
      const from = k.carried?.faces ?? k.t;
      expect(k.faces?.[0]?.crop).toBe(`faces/cam/${1_700_000_000_000 + from * 1000}-0.bmp`);
    }
    expect(runs.detect).toBe(4);
    // Gating off for faces: blazeface on every keyframe, person or not (the stage works without a detector).
    faceRuns = 0;
    const off = faceDeps({ faces: { enabled: false } });
    for (let s = 0; s < 6; s += 1) await perceiveChunk(chunkAt(s, scene(s)), off.options, off.deps);
    expect(faceRuns).toBe(6);
  });

  it('skips voice activity on chunks below the quiet floor', async () => {
    const { runs, models } = countingModels();
    const gates = new MemoryGates();
    const quiet = await perceiveChunk(chunkAt(0, frame(), new Float32Array(16_000).fill(0.0005)), options, deps(models, gates));
    const loud = await perceiveChunk(chunkAt(1, frame(), new Float32Array(16_000).fill(0.2)), options, deps(models, gates));
    expect(quiet.audio?.quiet).toBe(true);
    expect(quiet.audio?.speech).toEqual([]);
    expect(loud.audio?.quiet).toBeUndefined();
    expect(loud.audio?.speech.length).toBe(1);
    expect(runs.vad).toBe(1);
  });
});
