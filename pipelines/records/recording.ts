// A recorded segment of a live stream, as the index keeps it: one MPEG-TS file written by the
// stream's own ffmpeg, with where it lies in stream time and wall-clock time.

export interface RecordedSegment {
  stream: string;
  /** Path relative to the recordings directory: `${stream}/${name}.ts`. */
  file: string;
  /** Stream seconds. */
  start: number;
  end: number;
  /** Epoch ms. */
  wallStart: number;
  wallEnd: number;
  bytes: number;
  /** The ffmpeg run (file name prefix) it belongs to: a reconnect starts a new run. */
  run: string;
}

/** Seconds of media in a segment. */
export function segmentSeconds(segment: Pick<RecordedSegment, 'start' | 'end'>): number {
  return Math.max(0, segment.end - segment.start);
}

/** A stretch of wall-clock time without recording inside a requested range. */
export interface RecordingGap {
  /** Epoch ms. */
  wallFrom: number;
  wallTo: number;
  seconds: number;
  /** Where in the cut output the missing time would have been (seconds from its start). */
  atS: number;
}
