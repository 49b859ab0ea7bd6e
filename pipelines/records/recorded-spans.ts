// What a stream has recorded, as a person reads it: stretches of wall-clock time without a break
// (one ffmpeg run's consecutive segments), not the segment files behind them. Pure.
import type { RecordedSegment } from './recording.js';

export interface RecordedSpan {
  /** Epoch ms. */
  wallFrom: number;
  wallTo: number;
  segments: number;
  bytes: number;
}

/** Within a run, segments follow each other with at most this much between them (timestamp rounding). */
const JOIN_MS = 250;

/** The segments' spans, oldest first: a new span starts at a new run or a break inside a run. */
export function recordedSpans(segments: readonly RecordedSegment[]): RecordedSpan[] {
  const spans: RecordedSpan[] = [];
  let run: string | undefined;
  for (const s of [...segments].sort((a, b) => a.wallStart - b.wallStart)) {
    const last = spans.at(-1);
    if (last && s.run === run && s.wallStart - last.wallTo <= JOIN_MS) {
      last.wallTo = Math.max(last.wallTo, s.wallEnd);
      last.segments += 1;
      last.bytes += s.bytes;
    } else {
      spans.push({ wallFrom: s.wallStart, wallTo: s.wallEnd, segments: 1, bytes: s.bytes });
    }
    run = s.run;
  }
  return spans;
}
