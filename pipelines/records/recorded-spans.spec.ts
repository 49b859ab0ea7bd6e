import { describe, expect, it } from 'vitest';
import type { RecordedSegment } from './recording.js';
import { recordedSpans } from './recorded-spans.js';

const seg = (run: string, wallStart: number, wallEnd: number, bytes = 100): RecordedSegment => ({ stream: 'cam', file: `cam/${run}-${wallStart}.ts`, start: 0, end: 0, wallStart, wallEnd, bytes, run });

describe('recordedSpans', () => {
  it('joins one run’s consecutive segments and starts a new span at a reconnect or a hole', () => {
    const spans = recordedSpans([
      seg('2', 30_000, 34_000),
      seg('1', 0, 10_000),
      seg('1', 10_000, 20_050),
      seg('1', 20_100, 25_000, 50),
      // The reconnect: a new run right after.
      seg('2', 25_000, 30_000),
      // A segment retention removed from the middle of run 2 leaves a hole.
      seg('2', 40_000, 44_000),
    ]);
    expect(spans).toEqual([
      { wallFrom: 0, wallTo: 25_000, segments: 3, bytes: 250 },
      { wallFrom: 25_000, wallTo: 34_000, segments: 2, bytes: 200 },
      { wallFrom: 40_000, wallTo: 44_000, segments: 1, bytes: 100 },
    ]);
    expect(recordedSpans([])).toEqual([]);
  });
});
