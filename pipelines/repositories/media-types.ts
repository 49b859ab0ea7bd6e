// What the media repository takes and reports: facts about a source's streams, and the decode
// plan (ffmpeg arguments and the pipe fds the three outputs arrive on) the ingest stage builds.

export interface MediaInfo {
  formatName: string;
  /** Seconds; undefined for live or unknown. */
  duration: number | undefined;
  video: { width: number; height: number; codec: string } | undefined;
  audio: { codec: string; sampleRate: number; channels: number } | undefined;
}

export interface DecodePlan {
  args: string[];
  hasVideo: boolean;
  hasAudio: boolean;
  /** Whether ffmpeg reads this process's stdin. */
  stdin: boolean;
  /** Present when this run also records the source into segment files (ingest/recording-plan.ts). */
  record?: RecordPlan;
}

/** How a run records: an extra output copying the source's packets into MPEG-TS segments. */
export interface RecordPlan {
  /** Directory the segment files go to (one per stream, absolute). */
  dir: string;
  /** File name prefix of this ffmpeg run; segment n is `${prefix}-${n padded to 6}.ts`. */
  prefix: string;
  segmentSeconds: number;
  /** The source's video is copied; false for audio-only sources. */
  video: boolean;
  /** 'copy', 'aac' (a codec MPEG-TS cannot carry is re-encoded; audio is cheap), or 'none'. */
  audio: 'copy' | 'aac' | 'none';
}

/** A segment file ffmpeg finished (one line of the segment muxer's CSV list). */
export interface FinishedSegment {
  /** File name inside the stream's directory. */
  file: string;
  /** Seconds of this ffmpeg run. */
  start: number;
  end: number;
}

/** One line of the segment muxer's CSV list ("name,start,end"); undefined for anything else. */
export function parseSegmentLine(line: string): FinishedSegment | undefined {
  const m = /^([^,]+),(-?[0-9.]+),(-?[0-9.]+)$/.exec(line.trim());
  if (!m) return undefined;
  const start = Number(m[2]);
  const end = Number(m[3]);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return undefined;
  return { file: m[1]!, start, end };
}

/**
 * ffmpeg's stdout carries the keyframes: libuv gives a child its fds 0-2 blocking, and only those.
 * The keyframes are read through a unix socket (read-channel.ts), whose end is non-blocking as Node
 * made it; on a higher fd ffmpeg would meet EAGAIN whenever the reader is behind and poll it in 1 ms
 * sleeps (and a writer that does not retry, fails).
 */
export const VIDEO_FD = 1;
export const AUDIO_FD = 4;
export const JPEG_FD = 5;
/** The segment muxer's list of finished segments (plans with `record`). */
export const SEGMENT_LIST_FD = 6;
