// Reading what the ingest ffmpeg writes, kept pure so it is tested without a process: keyframes
// as pgmyuv images on a pipe (each frame says its own size), and the description of the input that
// ffmpeg logs before it decodes (read instead of running ffprobe first for local files).
import type { MediaInfo } from './media-types.js';
import type { ColorMatrix } from '../records/i420.js';

/** One keyframe from the pgmyuv pipe, repacked as I420 planes. */
export interface YuvFrame {
  width: number;
  height: number;
  /** Y (width x height), U, V (each width/2 x height/2). */
  data: Uint8Array;
}

/** A PGM header is "P5\n<width> <height>\n255\n": far shorter than this. */
const MAX_HEADER = 64;

/**
 * Cuts ffmpeg's `-c:v pgmyuv -f image2pipe` byte stream into frames. pgmyuv is a greyscale PGM
 * whose image is 3/2 of the frame's height: the Y plane, then each chroma row with its U half
 * before its V half. Each frame carries its size, so frames need no size known in advance (the
 * scale is an expression of the input's size, and a source that changes resolution mid-stream
 * stays framed). One copy per frame: pipe bytes into the frame's own buffer, chroma rows split
 * into the U and V planes on the way, which the frame then owns.
 */
export class PgmYuvReader {
  #header: number[] = [];
  #frame: Uint8Array | undefined;
  #width = 0;
  #height = 0;
  #filled = 0;

  /** Feeds pipe bytes; returns the frames they completed, in order. Throws on bytes that are not pgmyuv. */
  push(data: Uint8Array): YuvFrame[] {
    const out: YuvFrame[] = [];
    let at = 0;
    while (at < data.length) {
      const frame = this.#frame;
      if (!frame) {
        at = this.#readHeader(data, at);
        continue;
      }
      const n = Math.min(frame.length - this.#filled, data.length - at);
      this.#place(frame, data.subarray(at, at + n));
      at += n;
      if (this.#filled === frame.length) {
        out.push({ width: this.#width, height: this.#height, data: frame });
        this.#frame = undefined;
      }
    }
    return out;
  }

  /** Copies the next bytes of the image into the frame: Y as is, chroma rows split into U and V. */
  #place(frame: Uint8Array, bytes: Uint8Array): void {
    const luma = this.#width * this.#height;
    const half = this.#width / 2;
    const vPlane = luma + half * (this.#height / 2);
    let from = 0;
    while (from < bytes.length) {
      const pos = this.#filled;
      if (pos < luma) {
        const n = Math.min(luma - pos, bytes.length - from);
        frame.set(bytes.subarray(from, from + n), pos);
        from += n;
        this.#filled += n;
        continue;
      }
      const c = pos - luma;
      const row = Math.floor(c / this.#width);
      const col = c % this.#width;
      const inU = col < half;
      const n = Math.min((inU ? half : this.#width) - col, bytes.length - from);
      const to = inU ? luma + row * half + col : vPlane + row * half + (col - half);
      frame.set(bytes.subarray(from, from + n), to);
      from += n;
      this.#filled += n;
    }
  }

  /** Consumes header bytes from data at `at`; starts the frame once the header is whole. */
  #readHeader(data: Uint8Array, at: number): number {
    while (at < data.length) {
      const byte = data[at]!;
      at += 1;
      this.#header.push(byte);
      if (byte === 0x0a && this.#header.filter((b) => b === 0x0a).length === 3) {
        const text = String.fromCharCode(...this.#header);
        this.#header = [];
        const m = /^P5\n(\d+) (\d+)\n255\n$/.exec(text);
        if (!m) throw new Error(`keyframe pipe: not a pgmyuv header (${JSON.stringify(text)})`);
        const width = Number(m[1]);
        const rows = Number(m[2]);
        // 4:2:0 with even sizes: the image is 3/2 of an even height, its width even.
        if (width % 2 !== 0 || rows % 3 !== 0 || ((rows / 3) * 2) % 2 !== 0) throw new Error(`keyframe pipe: ${width}x${rows} is not a pgmyuv image of an even-sized frame`);
        this.#width = width;
        this.#height = (rows / 3) * 2;
        this.#frame = new Uint8Array(width * rows);
        this.#filled = 0;
        return at;
      }
      if (this.#header.length > MAX_HEADER) throw new Error('keyframe pipe: pgmyuv header too long');
    }
    return at;
  }
}

/**
 * Collects the "Input #0, ..." block from ffmpeg's log lines, then parses it. ffmpeg prints it
 * once the input is open (after its own probing), before any output is set up: the same facts
 * ffprobe gives, without a second process.
 */
export class InputDumpCollector {
  #lines: string[] | undefined;
  #done = false;

  /** Feeds one log line; returns the parsed input once its block has ended, else undefined. */
  line(line: string): InputDump | 'unreadable' | undefined {
    if (this.#done) return undefined;
    if (this.#lines === undefined) {
      if (line.startsWith('Input #0,')) this.#lines = [line];
      return undefined;
    }
    if (/^\s/.test(line)) {
      this.#lines.push(line);
      return undefined;
    }
    this.#done = true;
    return parseInputDump(this.#lines) ?? 'unreadable';
  }

  get done(): boolean {
    return this.#done;
  }
}

const DURATION = /^\s+Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const STREAM = /^ {2}Stream #0:\d+\S*: (Video|Audio): (.*)$/;

/** What ffmpeg's dump says of its input. */
export interface InputDump {
  info: MediaInfo;
  /** A video stream is a still picture attached to audio (cover art); it is not in `info.video`. */
  attachedPicture: boolean;
  /** The video's YUV matrix, as ffmpeg's RGB conversion would pick it: BT.709 only where tagged so. */
  colorMatrix: ColorMatrix;
}

/** The input's streams from ffmpeg's dump of it; undefined when it does not read as one. */
export function parseInputDump(lines: readonly string[]): InputDump | undefined {
  const head = /^Input #0, (.+), from '/.exec(lines[0] ?? '');
  if (!head) return undefined;
  let duration: number | undefined;
  let video: MediaInfo['video'];
  let audio: MediaInfo['audio'];
  // An attached picture (cover art) is not the video; ffprobe's reading skips it the same way.
  let attachedPicture = false;
  let colorMatrix: ColorMatrix = 'bt601';
  for (const line of lines) {
    const d = DURATION.exec(line);
    if (d) {
      const seconds = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
      duration = seconds > 0 ? seconds : undefined;
      continue;
    }
    const s = STREAM.exec(line);
    if (!s) continue;
    const description = s[2]!;
    const codec = /^([^\s,]+)/.exec(description)?.[1] ?? 'none';
    if (s[1] === 'Video') {
      if (/\(attached pic\)/.test(description)) {
        attachedPicture = true;
        continue;
      }
      const size = /, (\d+)x(\d+)[\s,]/.exec(`${description},`);
      // "yuv420p(tv, bt709, progressive)" or "(tv, bt709/bt709/bt709)": the pixel format's details
      // name the matrix first when the three colour properties differ.
      const details = /^[^,]+, \w+\(([^)]*)\)/.exec(description)?.[1] ?? '';
      if (!video && details.split(', ').some((d) => d.split('/')[0] === 'bt709')) colorMatrix = 'bt709';
      video ??= { width: Number(size?.[1] ?? 0), height: Number(size?.[2] ?? 0), codec };
    } else {
      const rate = /, (\d+) Hz/.exec(description);
      const layout = /Hz, ([^,]+)/.exec(description)?.[1]?.trim() ?? '';
      const channels = layout === 'mono' ? 1 : layout === 'stereo' ? 2 : Number(/^(\d+) channels/.exec(layout)?.[1] ?? 0) || channelsOfLayout(layout);
      audio ??= { codec, sampleRate: Number(rate?.[1] ?? 0), channels };
    }
  }
  return { info: { formatName: head[1]!, duration, video, audio }, attachedPicture, colorMatrix };
}

/** "5.1(side)" has 6 channels: the digits of a layout name add up (the .1 is one channel). */
function channelsOfLayout(layout: string): number {
  const m = /^(\d+)\.(\d+)/.exec(layout);
  return m ? Number(m[1]) + Number(m[2]) : 0;
}
