import { describe, expect, it } from 'vitest';
import { planCut } from './cut-plan.js';
import type { RecordedSegment } from '../records/recording.js';

const T0 = Date.UTC(2026, 0, 1);
function seg(run: string, start: number, end: number, wallOffsetS = 0): RecordedSegment {
  return { stream: 'cam', file: `cam/${run}-${start}.ts`, start, end, wallStart: T0 + (start + wallOffsetS) * 1000, wallEnd: T0 + (end + wallOffsetS) * 1000, bytes: 1000, run };
}

describe('planCut', () => {
  // Run a: 0-10, 10-20; run b after a 5 s gap: stream 20-30 at wall 25-35.
  const segments = [seg('b', 20, 30, 5), seg('a', 10, 20), seg('a', 0, 10)];

  it('reads only the overlapping segments, seeking into the first', () => {
    const plan = planCut(segments, T0 + 3_000, T0 + 14_000)!;
    expect(plan.files.map((f) => f.file)).toEqual(['cam/a-0.ts', 'cam/a-10.ts']);
    expect(plan.seekS).toBeCloseTo(3);
    expect(plan.durationS).toBeCloseTo(11);
    expect(plan.gaps).toEqual([]);
  });

  it('skips a gap and says where it was in the output', () => {
    const plan = planCut(segments, T0 + 15_000, T0 + 30_000)!;
    expect(plan.files.map((f) => f.file)).toEqual(['cam/a-10.ts', 'cam/b-20.ts']);
    // 5 s before the gap, 5 s after it.
    expect(plan.durationS).toBeCloseTo(10);
    expect(plan.gaps).toEqual([{ wallFrom: T0 + 20_000, wallTo: T0 + 25_000, seconds: 5, atS: 5 }]);
  });

  it('reports missing time before and after the recording', () => {
    const plan = planCut(segments, T0 - 4_000, T0 + 40_000)!;
    expect(plan.gaps.map((g) => [g.seconds, g.atS])).toEqual([[4, 0], [5, 20], [5, 30]]);
    expect(plan.coveredFrom).toBe(T0);
    expect(plan.coveredTo).toBe(T0 + 35_000);
  });

  it('is null where nothing was recorded', () => {
    expect(planCut(segments, T0 + 36_000, T0 + 40_000)).toBeNull();
    expect(() => planCut(segments, T0, T0)).toThrow(RangeError);
  });
});
