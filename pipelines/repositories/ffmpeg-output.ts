// Reading what the ingest ffmpeg writes, kept pure so it is tested without a process: keyframes
// as PPM images on a pipe (each frame says its own size), and the description of the input that
// ffmpeg logs before it decodes (read instead of running ffprobe first for local files).
import type { MediaInfo } from './media-types.js';

/** One RGB24 frame from the PPM pipe. */
export interface RgbFrame {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** A PPM header is "P6\n<width> <height>\n255\n": far shorter than this. */
const MAX_HEADER = 64;

/**
 * Cuts ffmpeg's `-c:v ppm -f image2pipe` byte stream into frames. Each frame carries its size,
 * so frames need no size known in advance (the scale is an expression of the input's size, and a
 * source that changes resolution mid-stream stays framed). Fed either way: push() copies pipe
 * bytes into the frame's own buffer, which the frame then owns; or a reader that can choose where
 * its reads land asks readBuffer() and reports read(), and the frame's bytes are read into the
 * frame itself (only a header and the few bytes read with it are copied).
 */
export class PpmReader {
  #header: number[] = [];
  #frame: Uint8Array | undefined;
  #width = 0;
  #height = 0;
  #filled = 0;
  /** What readBuffer() last handed out. */
  #target: Uint8Array | undefined;
  /** Header reads land here: small, so a read past the header takes few of the frame's bytes. */
  readonly #scratch = new Uint8Array(MAX_HEADER);
  readonly #allocate: (size: number) => Uint8Array;

  /** `allocate` gives each frame's buffer (a reused one, say); a new one each time by default. */
  constructor(allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)) {
    this.#allocate = allocate;
  }

  /** Where the next read should land: the rest of the frame being filled, or room for a header. */
  readBuffer(): Uint8Array {
    this.#target = this.#frame ? this.#frame.subarray(this.#filled) : this.#scratch;
    return this.#target;
  }

  /** `n` bytes were read into `buffer` (the one readBuffer() gave); returns the frames completed. */
  read(n: number, buffer: Uint8Array): RgbFrame[] {
    const frame = this.#frame;
    if (frame && buffer === this.#target && buffer !== this.#scratch) {
      this.#filled += n;
      if (this.#filled < frame.length) return [];
      this.#frame = undefined;
      return [{ width: this.#width, height: this.#height, rgb: frame }];
    }
    return this.push(buffer.subarray(0, n));
  }

  /** Feeds pipe bytes; returns the frames they completed, in order. Throws on bytes that are not PPM. */
  push(data: Uint8Array): RgbFrame[] {
    const out: RgbFrame[] = [];
    let at = 0;
    while (at < data.length) {
      const frame = this.#frame;
      if (!frame) {
        at = this.#readHeader(data, at);
        continue;
      }
      const n = Math.min(frame.length - this.#filled, data.length - at);
      frame.set(data.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === frame.length) {
        out.push({ width: this.#width, height: this.#height, rgb: frame });
        this.#frame = undefined;
      }
    }
    return out;
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
        const m = /^P6\n(\d+) (\d+)\n255\n$/.exec(text);
        if (!m) throw new Error(`keyframe pipe: not an RGB PPM header (${JSON.stringify(text)})`);
        this.#width = Number(m[1]);
        this.#height = Number(m[2]);
        this.#frame = this.#allocate(this.#width * this.#height * 3);
        this.#filled = 0;
        return at;
      }
      if (this.#header.length > MAX_HEADER) throw new Error('keyframe pipe: PPM header too long');
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
      video ??= { width: Number(size?.[1] ?? 0), height: Number(size?.[2] ?? 0), codec };
    } else {
      const rate = /, (\d+) Hz/.exec(description);
      const layout = /Hz, ([^,]+)/.exec(description)?.[1]?.trim() ?? '';
      const channels = layout === 'mono' ? 1 : layout === 'stereo' ? 2 : Number(/^(\d+) channels/.exec(layout)?.[1] ?? 0) || channelsOfLayout(layout);
      audio ??= { codec, sampleRate: Number(rate?.[1] ?? 0), channels };
    }
  }
  return { info: { formatName: head[1]!, duration, video, audio }, attachedPicture };
}

/** "5.1(side)" has 6 channels: the digits of a layout name add up (the .1 is one channel). */
function channelsOfLayout(layout: string): number {
  const m = /^(\d+)\.(\d+)/.exec(layout);
  return m ? Number(m[1]) + Number(m[2]) : 0;
}
