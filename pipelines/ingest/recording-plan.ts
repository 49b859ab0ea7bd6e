// How the one ffmpeg that decodes a live stream also records it: an extra output that copies the
// source's own packets (no re-encoding) into MPEG-TS segment files, and reports each finished
// segment on a pipe. Pure: it only decides and builds arguments.
//
// MPEG-TS rather than MP4 segments because ingest stops ffmpeg with SIGKILL (stop, stall,
// shutdown): a killed TS file is playable up to its last packet, a killed MP4 has no index.
import { SEGMENT_LIST_FD, type RecordPlan } from '../repositories/media-types.js';

export type { RecordPlan };

/** Video codecs MPEG-TS carries and browsers or ffmpeg remux into MP4 clips. */
const TS_VIDEO = new Set(['h264', 'hevc', 'mpeg2video', 'mpeg4']);
const TS_AUDIO = new Set(['aac', 'mp3', 'mp2', 'ac3', 'eac3', 'opus']);

export type RecordDecision = { record: true; plan: RecordPlan } | { record: false; reason: string };

/**
 * Whether a live source can be recorded without re-encoding its video. A camera sending raw or
 * MJPEG video (many USB webcams) is not recorded: copying it would fill disks in hours and
 * encoding it costs more than the whole decode, so the stream says why instead.
 */
export function planRecording(info: { video: { codec: string } | undefined; audio: { codec: string } | undefined }, options: { dir: string; prefix: string; segmentSeconds: number }): RecordDecision {
  const video = info.video;
  if (video && !TS_VIDEO.has(video.codec)) {
    return { record: false, reason: `video codec ${video.codec} is not recorded (only ${[...TS_VIDEO].join(', ')} are copied without re-encoding)` };
  }
  const audio = info.audio ? (TS_AUDIO.has(info.audio.codec) ? 'copy' : 'aac') : 'none';
  if (!video && audio === 'none') return { record: false, reason: 'no audio or video to record' };
  return { record: true, plan: { dir: options.dir, prefix: options.prefix, segmentSeconds: options.segmentSeconds, video: video !== undefined, audio } };
}

/** The file name (inside the stream's directory) of segment n of a run. */
export function segmentFileName(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(6, '0')}.ts`;
}

export function recordArgs(plan: RecordPlan): string[] {
  const args: string[] = [];
  if (plan.video) args.push('-map', '0:v:0', '-c:v', 'copy');
  if (plan.audio !== 'none') args.push('-map', '0:a:0', ...(plan.audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '96k']));
  args.push(
    '-f', 'segment',
    '-segment_time', String(plan.segmentSeconds),
    '-segment_format', 'mpegts',
    // Each line is "name,start,end" in seconds of this run, written when a segment is complete.
    '-segment_list', `pipe:${SEGMENT_LIST_FD}`,
    '-segment_list_type', 'csv',
    `${plan.dir}/${plan.prefix}-%06d.ts`,
  );
  return args;
}
