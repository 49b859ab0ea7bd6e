// Which segment files a clip or export of a wall-clock range reads, where in their concatenation
// it starts, how long it is, and which parts of the range have no recording (gaps). Pure.
//
// The cut is made by ffmpeg's concat demuxer over whole segment files followed by an input seek:
// the concatenation has no holes, so a gap (camera away, engram down, segments pruned) is skipped
// in the output and reported beside it instead of being filled with frozen or black frames.
import { segmentSeconds, type RecordedSegment, type RecordingGap } from '../records/recording.js';

export interface CutPlan {
  /** Whole segment files in order, each with its indexed duration (handed to concat). */
  files: { file: string; seconds: number }[];
  /** Seconds into the concatenation where the cut starts. */
  seekS: number;
  /** Seconds of media in the cut. */
  durationS: number;
  /** Requested range parts without recording, in order. */
  gaps: RecordingGap[];
  /** Epoch ms actually covered: from the first recorded instant to the last. */
  coveredFrom: number;
  coveredTo: number;
}

/** Holes shorter than this between two segments are timestamp rounding, not gaps. */
export const GAP_TOLERANCE_MS = 500;

/**
 * Plans the cut of [fromMs, toMs) out of a stream's segments (any order, possibly more than
 * needed); null when none of them overlaps the range.
 */
export function planCut(segments: readonly RecordedSegment[], fromMs: number, toMs: number): CutPlan | null {
  if (!(toMs > fromMs)) throw new RangeError(`empty range ${fromMs}..${toMs}`);
  const used = segments.filter((s) => s.wallEnd > fromMs && s.wallStart < toMs && segmentSeconds(s) > 0).sort((a, b) => a.wallStart - b.wallStart);
  const first = used[0];
  const last = used[used.length - 1];
  if (!first || !last) return null;
  const seekS = Math.max(0, (fromMs - first.wallStart) / 1000);
  const files: CutPlan['files'] = [];
  const gaps: RecordingGap[] = [];
  let position = 0;
  let endS = 0;
  let previous: RecordedSegment | undefined;
  if (first.wallStart - fromMs > GAP_TOLERANCE_MS) gaps.push({ wallFrom: fromMs, wallTo: first.wallStart, seconds: (first.wallStart - fromMs) / 1000, atS: 0 });
  for (const segment of used) {
    if (previous && segment.wallStart - previous.wallEnd > GAP_TOLERANCE_MS) {
      gaps.push({ wallFrom: previous.wallEnd, wallTo: segment.wallStart, seconds: (segment.wallStart - previous.wallEnd) / 1000, atS: Math.max(0, position - seekS) });
    }
    const seconds = segmentSeconds(segment);
    files.push({ file: segment.file, seconds });
    endS = position + Math.min(seconds, Math.max(0, (toMs - segment.wallStart) / 1000));
    position += seconds;
    previous = segment;
  }
  const durationS = Math.max(0, endS - seekS);
  if (toMs - last.wallEnd > GAP_TOLERANCE_MS) gaps.push({ wallFrom: last.wallEnd, wallTo: toMs, seconds: (toMs - last.wallEnd) / 1000, atS: durationS });
  return { files, seekS, durationS, gaps, coveredFrom: Math.max(fromMs, first.wallStart), coveredTo: Math.min(toMs, last.wallEnd) };
}
