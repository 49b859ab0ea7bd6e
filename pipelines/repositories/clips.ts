// Cuts an event's span out of a file source as MP4 (H.264, AAC when the source has audio),
// streamed as ffmpeg writes it: fragmented MP4 needs no seekable output, so the first bytes reach
// the browser before the cut is done. An AbortSignal (the client went away) kills ffmpeg.
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { adoptCommand } from './children.js';
import { EngramError } from '../../config/errors.js';

export interface ClipRequest {
  /** Path of the source file. */
  path: string;
  /** Seconds into the file. */
  start: number;
  /** Seconds, > 0. */
  duration: number;
  signal?: AbortSignal;
}

export interface Clip {
  contentType: 'video/mp4';
  stream: Readable;
}

export class ClipRepository {
  readonly #ffmpegPath: string | undefined;
  readonly #ffprobePath: string | undefined;

  constructor(options: { ffmpegPath?: string; ffprobePath?: string } = {}) {
    this.#ffmpegPath = options.ffmpegPath;
    this.#ffprobePath = options.ffprobePath;
  }

  #probe(path: string): Promise<{ hasVideo: boolean; duration: number | null }> {
    return new Promise((resolve, reject) => {
      const command = ffmpeg(path);
      if (this.#ffprobePath) command.setFfprobePath(this.#ffprobePath);
      command.ffprobe((error: Error | null, data: ffmpeg.FfprobeData) => {
        if (error) {
          const last = String(error.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
          reject(new EngramError(`ffmpeg could not cut ${path}: not readable as media (${last})`));
          return;
        }
        const duration = Number(data.format?.duration);
        resolve({ hasVideo: data.streams.some((st) => st.codec_type === 'video'), duration: Number.isFinite(duration) ? duration : null });
      });
    });
  }

  /**
   * Starts the cut; resolves once ffmpeg produced its first bytes (so a broken source is an
   * error the caller can still answer with a status code), rejects with EngramError otherwise.
   */
  async cut(request: ClipRequest): Promise<Clip> {
    if (!(request.duration > 0) || !(request.start >= 0)) throw new EngramError(`clip span ${request.start}+${request.duration}s is empty`);
    try {
      const info = await stat(request.path);
      if (!info.isFile()) throw new Error('not a regular file');
    } catch (error) {
      throw new EngramError(`clip source ${request.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    // Probe first: fragmented MP4 writes its header even when no frame follows, so a span past
    // the end or a file without video would otherwise look like a (useless) success.
    const media = await this.#probe(request.path);
    if (!media.hasVideo) throw new EngramError(`clip source ${request.path} has no video stream`);
    if (media.duration !== null && request.start >= media.duration) {
      throw new EngramError(`clip span starts at ${request.start}s but ${request.path} is ${media.duration.toFixed(1)}s long`);
    }
    request.signal?.throwIfAborted();
    const command = ffmpeg(request.path);
    if (this.#ffmpegPath) command.setFfmpegPath(this.#ffmpegPath);
    command
      // Input seeking is fast and, with re-encoding, frame-accurate.
      .seekInput(request.start)
      .duration(request.duration)
      .outputOptions(['-map', '0:v:0?', '-map', '0:a:0?', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'])
      .format('mp4');
    const out = new PassThrough();
    let stderrTail = '';
    let settled = false;
    return new Promise<Clip>((resolve, reject) => {
      const fail = (error: Error) => {
        if (!settled) {
          settled = true;
          reject(error);
        } else {
          out.destroy(error);
        }
      };
      const onAbort = () => {
        command.kill('SIGKILL');
        fail(new EngramError('clip cancelled'));
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      adoptCommand(command);
      command.on('stderr', (line: string) => {
        stderrTail = `${stderrTail}\n${line}`.slice(-2000);
      });
      command.on('error', (error: Error) => {
        request.signal?.removeEventListener('abort', onAbort);
        if (request.signal?.aborted) return;
        const last = stderrTail.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
        fail(new EngramError(`ffmpeg could not cut ${request.path} at ${request.start}s: ${last || error.message}`));
      });
      // The output can end before ffmpeg reports how it exited; an empty output is judged on exit.
      let outputEmpty = false;
      let exitedCleanly = false;
      const noVideo = () => fail(new EngramError(`ffmpeg produced no video for ${request.path} at ${request.start}s (past the end of the file?)`));
      command.on('end', () => {
        request.signal?.removeEventListener('abort', onAbort);
        exitedCleanly = true;
        if (outputEmpty) noVideo();
      });
      out.once('data', (first: Buffer) => {
        // Put the peeked chunk back so the caller reads the whole file.
        out.pause();
        out.unshift(first);
        if (!settled) {
          settled = true;
          resolve({ contentType: 'video/mp4', stream: out });
        }
      });
      out.once('end', () => {
        if (settled) return;
        outputEmpty = true;
        if (exitedCleanly) noVideo();
      });
      command.pipe(out, { end: true });
    });
  }
}
