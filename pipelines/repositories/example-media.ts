// Decodes a query-by-example file (an image, or an audio clip) with ffmpeg through fluent-ffmpeg:
// an image to RGB pixels, a clip to 16 kHz mono float PCM, the same forms ingest gives the models.
// Input bytes go through a temporary file because ffmpeg needs to seek in many containers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { adoptCommand } from './children.js';
import { ExampleError } from '../../config/errors.js';

export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export interface ExampleMediaOptions {
  /** ffmpeg binary; fluent-ffmpeg's default lookup (PATH, FFMPEG_PATH) when unset. */
  ffmpegPath?: string;
  /** Longest side of a decoded image; larger images are scaled down (the models resize anyway). @defaultValue 640 */
  maxImageSide?: number;
  /** Longest audio kept, in seconds. @defaultValue 30 */
  maxAudioSeconds?: number;
}

/** Largest example file accepted (a photo or a short clip, not a film). */
export const MAX_EXAMPLE_BYTES = 20 * 1024 * 1024;

/**
 * ffmpeg's last stderr line as a reason a person can act on: the temporary file's path (which
 * means nothing to the caller) is cut, and "no stream to write" becomes what it means.
 */
export function decodeFailure(what: string, kind: 'picture' | 'sound', lastLine: string, path: string): string {
  if (/does not contain any stream|matches no streams|Output file is empty/i.test(lastLine)) return `${what}: the file holds no ${kind} ffmpeg can read`;
  const reason = lastLine.split(`${path}: `).join('').split(path).join('the file').trim();
  return `${what}: ffmpeg could not decode it (${reason})`;
}

function runToBuffer(command: ffmpeg.FfmpegCommand, example: 'image' | 'audio', path: string, signal: AbortSignal): Promise<Buffer> {
  const what = `query ${example}`;
  const kind = example === 'image' ? 'picture' : 'sound';
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    let stderr = '';
    out.on('data', (c: Buffer) => chunks.push(c));
    const onAbort = () => command.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    adoptCommand(command);
    command
      .on('stderr', (line: string) => {
        stderr = `${stderr}\n${line}`.slice(-2000);
      })
      .on('error', (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        const last = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? error.message;
        reject(new ExampleError(example, decodeFailure(what, kind, last, path)));
      })
      .on('end', () => {
        signal.removeEventListener('abort', onAbort);
        resolve(Buffer.concat(chunks));
      });
    command.pipe(out, { end: true });
  });
}

/** Reads a binary PPM (P6) as ffmpeg writes it: "P6\n<w> <h>\n255\n" then RGB bytes. */
export function parsePpm(data: Buffer): RgbImage {
  let pos = 0;
  const fields: string[] = [];
  while (fields.length < 4 && pos < data.length) {
    while (pos < data.length && /\s/.test(String.fromCharCode(data[pos]!))) pos += 1;
    if (data[pos] === 0x23) {
      while (pos < data.length && data[pos] !== 0x0a) pos += 1;
      continue;
    }
    const start = pos;
    while (pos < data.length && !/\s/.test(String.fromCharCode(data[pos]!))) pos += 1;
    fields.push(data.subarray(start, pos).toString('latin1'));
  }
  pos += 1; // the single whitespace byte after maxval
  const [magic, w, h, max] = fields;
  const width = Number(w);
  const height = Number(h);
  if (magic !== 'P6' || !(width > 0) || !(height > 0) || max !== '255') throw new ExampleError('image', 'query image: ffmpeg did not produce an RGB picture');
  const rgb = new Uint8Array(data.buffer, data.byteOffset + pos, width * height * 3);
  if (rgb.length < width * height * 3 || data.length - pos < width * height * 3) throw new ExampleError('image', 'query image: the picture ffmpeg produced is truncated');
  return { width, height, rgb: new Uint8Array(rgb) };
}

export class ExampleMedia {
  readonly #options: Required<Omit<ExampleMediaOptions, 'ffmpegPath'>> & { ffmpegPath?: string };

  constructor(options: ExampleMediaOptions = {}) {
    this.#options = { maxImageSide: options.maxImageSide ?? 640, maxAudioSeconds: options.maxAudioSeconds ?? 30, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}) };
  }

  async #withFile<T>(bytes: Uint8Array, example: 'image' | 'audio', fn: (path: string) => Promise<T>): Promise<T> {
    const what = `query ${example}`;
    if (bytes.length === 0) throw new ExampleError(example, `${what}: the file is empty`);
    if (bytes.length > MAX_EXAMPLE_BYTES) throw new ExampleError(example, `${what}: the file is ${Math.round(bytes.length / 1048576)} MiB; examples are limited to ${MAX_EXAMPLE_BYTES / 1048576} MiB`);
    const dir = await mkdtemp(join(tmpdir(), 'engram-example-'));
    const path = join(dir, 'example');
    try {
      await writeFile(path, bytes);
      return await fn(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  #command(path: string): ffmpeg.FfmpegCommand {
    const command = ffmpeg(path);
    if (this.#options.ffmpegPath) command.setFfmpegPath(this.#options.ffmpegPath);
    return command;
  }

  /** The first frame of an image (or video) file as RGB, scaled down to fit maxImageSide. */
  decodeImage(bytes: Uint8Array, signal: AbortSignal): Promise<RgbImage> {
    return this.#withFile(bytes, 'image', async (path) => {
      const side = this.#options.maxImageSide;
      const command = this.#command(path)
        .inputOptions(['-nostdin'])
        .outputOptions(['-frames:v 1', '-vcodec ppm', '-pix_fmt rgb24', '-f image2pipe'])
        .videoFilters(`scale='min(${side},iw)':'min(${side},ih)':force_original_aspect_ratio=decrease`)
        .noAudio();
      const data = await runToBuffer(command, 'image', path, signal);
      if (data.length === 0) throw new ExampleError('image', 'query image: the file holds no picture ffmpeg can read');
      return parsePpm(data);
    });
  }

  /** An audio (or video) file's sound as 16 kHz mono float PCM, at most maxAudioSeconds. */
  decodeAudio(bytes: Uint8Array, signal: AbortSignal): Promise<Float32Array> {
    return this.#withFile(bytes, 'audio', async (path) => {
      const command = this.#command(path)
        .inputOptions(['-nostdin'])
        .noVideo()
        .audioChannels(1)
        .audioFrequency(16_000)
        .duration(this.#options.maxAudioSeconds)
        .outputOptions(['-acodec pcm_f32le', '-f f32le']);
      const data = await runToBuffer(command, 'audio', path, signal);
      if (data.length < 4) throw new ExampleError('audio', 'query audio: the file holds no sound ffmpeg can read');
      const samples = new Float32Array(Math.floor(data.length / 4));
      new Uint8Array(samples.buffer).set(data.subarray(0, samples.length * 4));
      return samples;
    });
  }
}
