import { describe, expect, it } from 'vitest';
import { PerceiveSchema } from '../../config/schema.js';
import { ocrDue } from './perceive-chunk.js';
import { decodeRecord, encodeRecord, type PerceptionRecord } from '../records/perception.js';

describe('perception record encoding', () => {
  it('round-trips vectors as Float32Array and keeps -Infinity levels as numbers', () => {
    const record: PerceptionRecord = {
      stream: 'cam',
      seq: 3,
      start: 3,
      end: 4,
      wallStart: 1_700_000_003_000,
      keyframes: [{ t: 3.04, vectors: { clip: Float32Array.from([0.1, -0.2, 0.3]) }, signature: Float32Array.from([1, 2]), thumbnail: 'cam/x.jpg', ocr: [{ t: 3.04, text: 'EXIT', confidence: 0.9 }] }],
      audio: { levelsStart: 3, levelWindow: 0.5, levels: Float32Array.from([-120, -20]), windows: [], speech: [{ start: 3.2, end: 3.9 }], transcript: [] },
      gapBefore: 0,
      final: false,
    };
    const back = decodeRecord(encodeRecord(record));
    expect(back.keyframes[0]!.vectors.clip).toBeInstanceOf(Float32Array);
    expect(Array.from(back.keyframes[0]!.vectors.clip!)).toEqual(Array.from(record.keyframes[0]!.vectors.clip!));
    expect(Array.from(back.audio!.levels)).toEqual([-120, -20]);
    expect(back.keyframes[0]!.ocr).toEqual(record.keyframes[0]!.ocr);
  });
});

describe('OCR rate', () => {
  const options = PerceiveSchema.parse({ ocrIntervalSeconds: 2 });
  const chunk = (start: number, times: number[], scene = false) => ({ start, end: start + 1, keyframes: times.map((t) => ({ t, scene })) });

  it('reads the first keyframe of each interval, deciding from the chunk alone', () => {
    const due = [0, 1, 2, 3, 4, 5].map((s) => ocrDue(chunk(s, [s + 0.04]), 0, options));
    expect(due).toEqual([true, false, true, false, true, false]);
    // Two keyframes in the chunk that holds an interval's start: only the first is read.
    const two = chunk(4, [4.04, 4.6]);
    expect([ocrDue(two, 0, options), ocrDue(two, 1, options)]).toEqual([true, false]);
  });

  it('reads scene cuts too when asked to', () => {
    const cut = chunk(3, [3.5], true);
    expect(ocrDue(cut, 0, options)).toBe(false);
    expect(ocrDue(cut, 0, { ...options, ocrOnSceneCut: true })).toBe(true);
  });
});
