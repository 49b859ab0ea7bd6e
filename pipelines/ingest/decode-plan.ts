// How one ffmpeg run decodes a source once into the three things ingest needs: keyframes (RGB24
// PPM images on pipe:1, ffmpeg's stdout), their JPEG thumbnails (pipe:5) and 16 kHz mono float PCM (pipe:4). Pure:
// it only builds arguments, so every source kind can be checked without a device.
import type { IngestConfig } from '../../config/schema.js';
import { AUDIO_RATE } from '../records/chunk.js';
import { SourceError, type SourceSpec } from '../records/source.js';
import { AUDIO_FD, JPEG_FD, VIDEO_FD, type DecodePlan, type MediaInfo } from '../repositories/media-types.js';
import { recordArgs, type RecordPlan } from './recording-plan.js';

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * fitSize as ffmpeg scale expressions of the input's own size (iw, ih): the plan needs no size
 * known in advance (a file decoded without ffprobe first, a rotated or resized source), and each
 * PPM frame says what it got. Quoted: the commas inside must not split the filter chain.
 */
export function fitSizeExpressions(maxSide: number): { w: string; h: string } {
  const scale = `min(1,${maxSide}/max(iw,ih))`;
  return { w: `'max(2,round(iw*${scale}/2)*2)'`, h: `'max(2,round(ih*${scale}/2)*2)'` };
}

/** Fits width x height into a box whose long side is maxSide (never upscales), even dimensions. */
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: even(width * scale), height: even(height * scale) };
}

/** Refuses what can never decode: no streams, unknown codecs, absurd sizes. */
export function checkMedia(info: MediaInfo, config: Pick<IngestConfig, 'maxWidth' | 'maxHeight'>, display: string): void {
  if (!info.video && !info.audio) throw new SourceError(`${display}: no audio or video stream in it (is it a media file?)`);
  if (info.video) {
    const { width, height, codec } = info.video;
    if (!codec || codec === 'none' || codec === 'unknown') throw new SourceError(`${display}: unsupported video codec (ffmpeg has no decoder for it)`);
    if (!(width > 0 && height > 0)) throw new SourceError(`${display}: video has no usable size (${width}x${height})`);
    if (width > config.maxWidth || height > config.maxHeight) {
      throw new SourceError(`${display}: absurd resolution ${width}x${height} (limit ${config.maxWidth}x${config.maxHeight}, ingest.maxWidth/maxHeight)`);
    }
  }
  if (info.audio && (!info.audio.codec || info.audio.codec === 'none' || info.audio.codec === 'unknown')) {
    throw new SourceError(`${display}: unsupported audio codec (ffmpeg has no decoder for it)`);
  }
}

export interface PlanOptions {
  /** Seek into a file (resume from a checkpoint), stream seconds. */
  seekS?: number;
  /** Also write the source's own packets into segment files (live streams). */
  record?: RecordPlan;
  /** Read live sources at their own pace; files as fast as possible. */
  config: Pick<IngestConfig, 'keyframesPerSecond' | 'sceneThreshold' | 'frameMaxSide' | 'thumbnailWidth'> & Partial<Pick<IngestConfig, 'liveDecoderThreads'>>;
  /** A live source (decoded with config.liveDecoderThreads). */
  live?: boolean;
}

export function buildDecodePlan(spec: SourceSpec, info: MediaInfo, options: PlanOptions): DecodePlan {
  const { config } = options;
  const hasVideo = info.video !== undefined;
  const hasAudio = info.audio !== undefined;
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info'];
  if (spec.kind !== 'stdin') args.push('-nostdin');
  args.push(...spec.inputOptions);
  if (options.seekS && options.seekS > 0) args.push('-ss', options.seekS.toFixed(3));
  const threads = options.live ? (config.liveDecoderThreads ?? 0) : 0;
  if (threads > 0 && info.video) args.push('-threads', String(threads));
  args.push('-i', spec.input);
  const filters: string[] = [];
  if (info.video) {
    const size = fitSizeExpressions(config.frameMaxSide);
    const r = config.keyframesPerSecond;
    // The first frame of each 1/r-second cell of the grid, plus any frame past the scene threshold.
    // metadata=print writes each kept frame's time and scene score to stderr, in pipe order.
    const select = `select='isnan(prev_selected_t)+gte(floor(t*${r})-floor(prev_selected_t*${r}),1)+gt(scene,${config.sceneThreshold})'`;
    // Thumbnails are thumbnailWidth wide, or the source's width when narrower (even).
    const thumbW = `'max(2,round(min(${config.thumbnailWidth},iw)/2)*2)'`;
    filters.push(
      `[0:v:0]${select},metadata=mode=print:key=lavfi.scene_score,split=2[kf0][th0]`,
      `[kf0]scale=w=${size.w}:h=${size.h}:flags=bilinear,format=rgb24[kf]`,
      `[th0]scale=w=${thumbW}:h=-2:flags=bilinear,format=yuvj420p[th]`,
    );
  }
  if (info.audio) {
    // async=1 pads or trims to the timestamps and first_pts=0 starts at stream time 0, so sample n
    // is at n / 16000 s, aligned with the video's timestamps.
    filters.push(`[0:a:0]aresample=${AUDIO_RATE}:async=1:first_pts=0,aformat=sample_fmts=flt:channel_layouts=mono[au]`);
  }
  args.push('-filter_complex', filters.join(';'));
  if (info.video) {
    args.push('-map', '[kf]', '-fps_mode', 'passthrough', '-c:v', 'ppm', '-f', 'image2pipe', `pipe:${VIDEO_FD}`);
    args.push('-map', '[th]', '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', `pipe:${JPEG_FD}`);
  }
  if (info.audio) {
    // A file's audio leaves in ffmpeg's 32 KB blocks rather than one write per decoded frame (about
    // 1.4 KB, 47 a second): each write woke ingest's event loop for a read of its own, ~1400 for
    // a 30 s file. A live stream's audio still leaves frame by frame: 32 KB is half a second of
    // it, which a live chunk would wait for.
    args.push('-map', '[au]', ...(options.live ? [] : ['-flush_packets', '0']), '-f', 'f32le', `pipe:${AUDIO_FD}`);
  }
  if (options.record) args.push(...recordArgs(options.record));
  return { args, hasVideo, hasAudio, stdin: spec.kind === 'stdin', ...(options.record ? { record: options.record } : {}) };
}
