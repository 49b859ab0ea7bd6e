// Presence as a segmentation cue, with a scripted fake detector on a picture that never changes
// (so no other cue can fire): a label arriving or leaving closes the event and opens the next,
// one stray or missed detection changes nothing, and events carry labels, counts and tracks.
import { describe, expect, it } from 'vitest';
import { SegmentSchema, type SegmentOptions } from '../../config/schema.js';
import { decodeJson, encodeJson, type PerceptionRecord } from '../records/perception.js';
import type { ClosedEvent, Detection } from '../records/event.js';
import { observePresence, type PresenceState } from './presence.js';
import { Segmenter } from './segmenter.js';
import type { SegmenterState } from '../records/segmenter-state.js';
import { initialTracker, track } from './tracker.js';

const options: SegmentOptions = SegmentSchema.parse({});
const WALL = 1_700_000_000_000;

/** One record per second of a still picture, with whatever the scripted detector reports at t. */
function records(seconds: number, detect: (t: number) => Detection[]): PerceptionRecord[] {
  const picture = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
  return Array.from({ length: seconds }, (_, t) => ({
    stream: 'room',
    seq: t,
    start: t,
    end: t + 1,
    wallStart: WALL + t * 1000,
    keyframes: [{ t, vectors: {}, signature: picture, thumbnail: null, ocr: null, detections: detect(t) }],
    audio: null,
    gapBefore: 0,
    final: t === seconds - 1,
  }));
}

const box = (x: number, y = 100, w = 80, h = 160): [number, number, number, number] => [x, y, x + w, y + h];
const person = (x: number, score = 0.6): Detection => ({ label: 'person', score, box: box(x) });

function run(recs: PerceptionRecord[], opts = options): ClosedEvent[] {
  const seg = new Segmenter(opts, 'room');
  return recs.flatMap((r) => seg.push(r, { now: WALL }));
}

describe('presence cue', () => {
  it('a person walking in and out makes their own event; a missed frame and a stray detection change nothing', () => {
    const events = run(
      records(30, (t) => {
        if (t >= 6 && t <= 18 && t !== 11) return [person(20 + (t - 6) * 30)];
        if (t === 25) return [{ label: 'dog', score: 0.4, box: box(300) }];
        return [];
      }),
    );
    expect(events.map((e) => [e.start, e.end, e.closedBy])).toEqual([[0, 6, 'presence'], [6, 19, 'presence'], [19, 30, 'end-of-stream']]);
    expect(events.map((e) => e.objects?.labels)).toEqual([[], ['person'], []]);
    const visit = events[1]!;
    expect(visit.objects?.counts).toEqual({ person: { distinct: 1, max: 1 } });
    expect(visit.objects?.tracks).toMatchObject([{ label: 'person', enter: 6, leave: 18, entered: true, left: true, enteredAt: WALL + 6000, leftAt: WALL + 18_000 }]);
    // Each keyframe moment keeps its boxes with the track id.
    const ids = new Set(visit.moments.flatMap((m) => m.detections ?? []).map((d) => d.track));
    expect(ids.size).toBe(1);
  });

  it('two cars passing one after the other: two events, each with one car that came and went', () => {
    const car = (x: number): Detection => ({ label: 'car', score: 0.2, box: [x, 50, x + 120, 110] });
    const events = run(records(24, (t) => (t >= 5 && t <= 7 ? [car(100 + (t - 5) * 150)] : t >= 14 && t <= 17 ? [car(600 - (t - 14) * 150)] : [])));
    const withCars = events.filter((e) => e.objects?.labels.includes('car'));
    expect(withCars.map((e) => [e.start, e.end])).toEqual([[5, 8], [14, 18]]);
    for (const e of withCars) expect(e.objects?.tracks).toMatchObject([{ label: 'car', entered: true, left: true }]);
    expect(new Set(withCars.map((e) => e.objects?.tracks[0]?.id)).size).toBe(2);
  });

  it('two people at once, one leaving first: distinct 2, at most 2 at once, and the departure is a boundary', () => {
    const events = run(records(20, (t) => [...(t >= 3 && t <= 15 ? [person(20)] : []), ...(t >= 5 && t <= 9 ? [person(400)] : [])]));
    expect(events.map((e) => [e.start, e.end])).toEqual([[0, 3], [3, 16], [16, 20]]);
    expect(events[1]?.objects?.counts).toEqual({ person: { distinct: 2, max: 2 } });
    expect(events[1]?.objects?.tracks.map((t) => [t.enter, t.leave])).toEqual([[3, 15], [5, 9]]);
  });

  it('gives the same events when its state is saved and restored between every record', () => {
    const recs = records(30, (t) => (t >= 6 && t <= 18 ? [person(20 + (t - 6) * 30)] : []));
    const straight = run(recs);
    let saved = encodeJson(new Segmenter(options, 'room').state);
    const resumed: ClosedEvent[] = [];
    for (const r of recs) {
      const seg = new Segmenter(options, decodeJson<SegmenterState>(saved));
      resumed.push(...seg.push(r, { now: WALL }));
      saved = encodeJson(seg.state);
    }
    expect(resumed.map((e) => [e.start, e.end, e.objects])).toEqual(straight.map((e) => [e.start, e.end, e.objects]));
  });

  it('keyframes the detector did not run on leave presence alone, and events carry no objects', () => {
    const recs = records(10, () => []).map((r) => ({ ...r, keyframes: r.keyframes.map((k) => ({ ...k, detections: null })) }));
    expect(run(recs).every((e) => e.objects === undefined)).toBe(true);
  });
});

describe('presence hysteresis', () => {
  it('enters on hits of the last window keyframes, dated at the first; leaves after leaveSeconds, dated at the first miss', () => {
    const state: PresenceState = {};
    const o = { hits: 2, window: 3, leaveSeconds: 3 };
    const seen = (t: number, yes: boolean) => observePresence(state, t, new Set(yes ? ['cat'] : []), o);
    expect(seen(0, true)).toEqual([]);
    expect(seen(1, false)).toEqual([]);
    expect(seen(2, true)).toEqual([{ label: 'cat', kind: 'enter', t: 0 }]);
    expect(seen(3, false)).toEqual([]);
    expect(seen(4, false)).toEqual([]);
    expect(seen(5, false)).toEqual([{ label: 'cat', kind: 'leave', t: 3 }]);
    expect(state).toEqual({});
  });
});

describe('tracker', () => {
  const o = { iou: 0.2, centre: 1, memorySeconds: 2 };
  it('follows overlapping boxes and nearby jumps, keeps two objects apart, and ends a track after its memory', () => {
    const s = initialTracker();
    const a = (x: number): Detection => ({ label: 'car', score: 0.3, box: [x, 0, x + 100, 50] });
    expect(track(s, 0, [a(0), a(500)], o).map((d) => d.track)).toEqual([1, 2]);
    expect(track(s, 1, [a(520), a(60)], o).map((d) => d.track)).toEqual([2, 1]);
    // A jump of one box length without overlap still continues the closer track.
    expect(track(s, 2, [a(150)], o).map((d) => d.track)).toEqual([1]);
    expect(track(s, 6, [a(150)], o).map((d) => d.track)).toEqual([3]);
    expect(s.ended.map((t) => t.id).sort()).toEqual([1, 2]);
    // Labels never share a track.
    expect(track(s, 7, [{ label: 'truck', score: 0.3, box: [150, 0, 250, 50] }], o).map((d) => d.track)).toEqual([4]);
  });
});
