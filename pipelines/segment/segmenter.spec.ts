import { describe, expect, it } from 'vitest';
import { SegmentSchema, type SegmentOptions } from '../../config/schema.js';
import { decodeJson, encodeJson, type PerceptionRecord } from '../records/perception.js';
import type { ClosedEvent } from '../records/event.js';
import { boundaryF1, eventBoundaries } from '../../test/helpers/boundary-f1.js';
import { Segmenter, jaccard, textTokens } from './segmenter.js';
import type { SegmenterState } from '../records/segmenter-state.js';

const defaults: SegmentOptions = SegmentSchema.parse({});

/** Deterministic pseudo-random numbers, so a failing case can be rerun. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

interface Scene {
  seconds: number;
  /** Scene identity: the same id gives the same base picture. */
  look: number;
  text?: string;
  /** Speech inside the scene, seconds relative to its start. */
  speech?: [number, number];
}

/** Records of a scripted stream: one keyframe a second with a noisy picture vector per scene. */
function recordsFor(scenes: Scene[], options: { noise?: number; seed?: number; wall?: number } = {}): PerceptionRecord[] {
  const random = rng(options.seed ?? 7);
  const bases = new Map<number, Float32Array>();
  const base = (look: number) => {
    let v = bases.get(look);
    if (!v) {
      const r = rng(1000 + look);
      v = Float32Array.from({ length: 64 }, () => r() * 2 - 1);
      bases.set(look, v);
    }
    return v;
  };
  const records: PerceptionRecord[] = [];
  let t = 0;
  let seq = 0;
  for (const scene of scenes) {
    for (let i = 0; i < scene.seconds; i += 1) {
      const b = base(scene.look);
      const picture = Float32Array.from(b, (x) => x + (random() * 2 - 1) * (options.noise ?? 0.1));
      const signature = Float32Array.from(picture, (x) => (x + 1) / 2);
      const speech = scene.speech && i + 1 > scene.speech[0] && i < scene.speech[1] ? [{ start: t + Math.max(0, scene.speech[0] - i), end: t + Math.min(1, scene.speech[1] - i) }] : [];
      records.push({
        stream: 'cam',
        seq,
        start: t,
        end: t + 1,
        wallStart: (options.wall ?? 1_700_000_000_000) + t * 1000,
        keyframes: [{ t, vectors: { test: picture }, signature, thumbnail: `cam/${seq}.jpg`, ocr: scene.text !== undefined ? [{ t, text: scene.text, confidence: 0.95 }] : [] }],
        audio: {
          levelsStart: t,
          levelWindow: 0.5,
          levels: speech.length > 0 ? [-20, -20] : [-70, -70],
          windows: [],
          speech,
          transcript: speech.length > 0 ? [{ start: speech[0]!.start, end: speech[0]!.end, text: `words ${seq}` }] : [],
        },
        gapBefore: 0,
        final: false,
      });
      t += 1;
      seq += 1;
    }
  }
  const last = records[records.length - 1];
  if (last) last.final = true;
  return records;
}

function run(records: PerceptionRecord[], options: SegmentOptions = defaults): ClosedEvent[] {
  const segmenter = new Segmenter(options, 'cam');
  return records.flatMap((r) => segmenter.push(r, { now: r.wallStart }));
}

function trueBoundaries(scenes: Scene[]): number[] {
  const out: number[] = [];
  let t = 0;
  for (const scene of scenes.slice(0, -1)) {
    t += scene.seconds;
    out.push(t);
  }
  return out;
}

describe('Segmenter', () => {
  it('cuts where the picture changes and covers the stream without holes', () => {
    const scenes: Scene[] = [
      { seconds: 12, look: 1 },
      { seconds: 8, look: 2 },
      { seconds: 15, look: 3 },
      { seconds: 6, look: 1 },
      { seconds: 10, look: 4 },
    ];
    const events = run(recordsFor(scenes));
    const score = boundaryF1(eventBoundaries(events), trueBoundaries(scenes));
    expect(score.f1).toBe(1);
    expect(events[0]!.start).toBe(0);
    expect(events[events.length - 1]!.end).toBe(51);
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.start).toBe(events[i - 1]!.end);
    expect(events[events.length - 1]!.closedBy).toBe('end-of-stream');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('does not cut a still scene on sensor noise, and cuts it at the maximum length', () => {
    const events = run(recordsFor([{ seconds: 150, look: 5 }], { noise: 0.15 }));
    expect(events.map((e) => [e.start, e.end, e.closedBy])).toEqual([
      [0, 60, 'max-length'],
      [60, 120, 'max-length'],
      [120, 150, 'end-of-stream'],
    ]);
  });

  it('ignores a flash shorter than the minimum event length', () => {
    const events = run(recordsFor([{ seconds: 10, look: 1 }, { seconds: 1, look: 9 }, { seconds: 10, look: 1 }]));
    // A 1 s flash cannot be an event of its own; at most one boundary lands near it.
    expect(events.every((e) => e.end - e.start >= defaults.minEventSeconds)).toBe(true);
  });

  it('starts an event when speech begins after silence and ends it when silence returns', () => {
    const events = run(recordsFor([{ seconds: 60, look: 1, speech: [8, 16] }]));
    const bounds = eventBoundaries(events);
    expect(boundaryF1(bounds, [8, 16], 0.5).f1).toBe(1);
    const talk = events.find((e) => e.start === 8)!;
    expect(talk.tags).toContain('speech');
    expect(talk.transcript.length).toBe(8);
    expect(events[0]!.tags).toContain('silence');
  });

  it('cuts when the words on screen change, but not when only a clock ticks', () => {
    const records = recordsFor([
      { seconds: 10, look: 1, text: 'Front door 12:00:01' },
      { seconds: 10, look: 1, text: 'Delivery arriving' },
    ]);
    // A camera clock overlay changes every second; that must not cut.
    records.forEach((r, i) => {
      if (i < 10) r.keyframes[0]!.ocr = [{ t: r.start, text: `Front door 12:00:${String(i).padStart(2, '0')}`, confidence: 0.9 }];
    });
    const events = run(records);
    expect(eventBoundaries(events)).toEqual([10]);
    expect(events[0]!.closedBy).toBe('text');
    expect(events[1]!.tags).toContain('text');
    expect(events[1]!.ocr.map((l) => l.text)).toEqual(['Delivery arriving']);
  });

  it('closes at a gap and tags both sides', () => {
    const records = recordsFor([{ seconds: 10, look: 1 }, { seconds: 10, look: 1 }]);
    for (const r of records.slice(10)) {
      r.start += 30;
      r.end += 30;
      for (const k of r.keyframes) k.t += 30;
    }
    const events = run(records);
    expect(events.map((e) => [e.start, e.end, e.closedBy])).toEqual([
      [0, 10, 'gap'],
      [40, 50, 'end-of-stream'],
    ]);
    expect(events[0]!.tags).toContain('gap');
    expect(events[1]!.tags).toContain('gap');
  });

  it('keeps only distinct keyframes (pattern separation) and picks a thumbnail from them', () => {
    const events = run(recordsFor([{ seconds: 20, look: 1 }], { noise: 0.01 }));
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.moments.length).toBe(1);
    expect(event.thumbnail).toBe('cam/0.jpg');
    expect(Object.keys(event.vectors).sort()).toEqual(['test', 'visual-signature']);
    expect(event.tags).toContain('motion-low');
    expect(event.startedAt).toBe(1_700_000_000_000);
    expect(event.endedAt).toBe(1_700_000_020_000);
  });

  it('continues exactly from saved state, as another worker would', () => {
    const scenes: Scene[] = [
      { seconds: 9, look: 1, speech: [3, 6] },
      { seconds: 14, look: 2, text: 'hello world' },
      { seconds: 7, look: 3 },
      { seconds: 11, look: 4, speech: [2, 9] },
    ];
    const records = recordsFor(scenes);
    const straight = run(records);
    for (const cut of [5, 17, 22, 33]) {
      let segmenter = new Segmenter(defaults, 'cam');
      const events: ClosedEvent[] = [];
      records.forEach((r, i) => {
        if (i === cut) segmenter = new Segmenter(defaults, decodeJson<SegmenterState>(encodeJson(segmenter.state)));
        events.push(...segmenter.push(r, { now: r.wallStart }));
      });
      expect(decodeJson(encodeJson(events))).toEqual(decodeJson(encodeJson(straight)));
    }
  });

  it('closes an idle live stream', () => {
    const segmenter = new Segmenter(defaults, 'cam');
    const records = recordsFor([{ seconds: 5, look: 1 }]);
    records[records.length - 1]!.final = false;
    for (const r of records) segmenter.push(r, { now: 1000 });
    expect(segmenter.isIdle(1000 + 29_000)).toBe(false);
    expect(segmenter.isIdle(1000 + 30_000)).toBe(true);
    const events = segmenter.closeIdle();
    expect(events.map((e) => [e.start, e.end, e.closedBy])).toEqual([[0, 5, 'idle']]);
    expect(segmenter.closeIdle()).toEqual([]);
  });
});

describe('text comparison', () => {
  it('drops numbers and punctuation', () => {
    expect(textTokens(['CAM-01 2024-05-01 12:00:03', 'Front Door'])).toEqual(['cam', 'door', 'front']);
    expect(jaccard(['a', 'b'], ['b', 'c'])).toBeCloseTo(1 / 3);
  });
});

describe('stream start', () => {
  it('finds a cut a few seconds into a stream', () => {
    const events = run(recordsFor([{ seconds: 3, look: 1 }, { seconds: 3, look: 2 }]));
    expect(eventBoundaries(events)).toEqual([3]);
  });
});

describe('faces in a closed event', () => {
  it('counts a face carried forward by gating once, and every face that ran', () => {
    const records = recordsFor([{ seconds: 8, look: 1 }]);
    const face = (crop: string) => ({ score: 0.9, box: [10, 10, 50, 50] as [number, number, number, number], descriptor: Float32Array.from({ length: 4 }, () => 0.5), crop });
    records.forEach((r, i) => {
      const k = r.keyframes[0]!;
      // ran at 0 and 4, carried (the same crop) from those runs on the other keyframes
      const from = i < 4 ? 0 : 4;
      k.faces = [face(`faces/cam/${from}-0.bmp`)];
      if (i !== from) k.carried = { faces: from };
    });
    const events = run(records);
    const faces = events.flatMap((e) => e.faces ?? []);
    expect(faces.map((f) => [f.t, f.crop])).toEqual([[0, 'faces/cam/0-0.bmp'], [4, 'faces/cam/4-0.bmp']]);
  });
});
