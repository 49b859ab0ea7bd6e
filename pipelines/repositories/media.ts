// ffprobe and ffmpeg for ingest, through fluent-ffmpeg. One ffmpeg per stream decodes once and
// writes keyframes (PPM), thumbnails and audio to three extra pipes; frame times and scene scores
// come from its stderr (metadata=print), paired with the frames in order, and so does its
// description of the input (the facts ffprobe would give, for runs started without ffprobe).
import { realpathSync, statSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { FileFacts, SourceSpec } from '../records/source.js';
import { AUDIO_FD, JPEG_FD, SEGMENT_LIST_FD, VIDEO_FD, parseSegmentLine, type DecodePlan, type FinishedSegment, type MediaInfo } from './media-types.js';
import { adoptChild } from './children.js';
import { InputDumpCollector, PpmReader, type InputDump, type RgbFrame } from './ffmpeg-output.js';
import { openReadChannel } from './read-channel.js';

export const localFiles: FileFacts = {
  realpath: (path) => realpathSync(path),
  stat: (path) => {
    const s = statSync(path);
    return { size: s.size, isFile: s.isFile() };
  },
};

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  /** ffprobe's own words, last meaningful line. */
  readonly reason: string;
  readonly timedOut: boolean;
  constructor(reason: string, timedOut = false) {
    super(reason);
    this.reason = reason;
    this.timedOut = timedOut;
  }
}

function lastMeaningfulLine(text: string, input: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('ffprobe version') && !l.startsWith('Command failed') && !/^(built with|configuration:|lib\w+ )/.test(l));
  // The demuxer's own complaint ("moov atom not found") comes before the generic last line.
  const tail = lines.slice(-3).map((l) => l.replace(`${input}: `, '').replace(/^\[[^\]]+ @ 0x[0-9a-f]+\] /, ''));
  return [...new Set(tail)].join('; ') || 'ffprobe failed';
}

/**
 * A pipe (this process's stdin) that is read twice: its head, bounded, for ffprobe, then head and
 * rest for ffmpeg. Nothing is written to disk; the head is the only part held in memory, and the
 * rest flows with the pipe's own backpressure.
 */
export class PipeInput {
  readonly #source: Readable & { isTTY?: boolean };
  #head: Promise<Buffer> | undefined;
  #ended = false;
  #fed = false;

  constructor(source: Readable & { isTTY?: boolean }) {
    this.#source = source;
  }

  get isTerminal(): boolean {
    return this.#source.isTTY === true;
  }

  /** The first maxBytes (a little more when a read overshoots), or all of it when it is shorter. */
  head(maxBytes: number): Promise<Buffer> {
    this.#head ??= new Promise<Buffer>((resolve, reject) => {
      const source = this.#source;
      const parts: Buffer[] = [];
      let size = 0;
      const cleanup = () => {
        source.off('readable', onReadable);
        source.off('end', onEnd);
        source.off('error', onError);
      };
      const done = () => {
        cleanup();
        resolve(Buffer.concat(parts, size));
      };
      const onReadable = () => {
        for (let chunk: Buffer | null; size < maxBytes && (chunk = source.read() as Buffer | null) !== null; ) {
          parts.push(chunk);
          size += chunk.length;
        }
        if (size >= maxBytes) done();
      };
      const onEnd = () => {
        this.#ended = true;
        done();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      source.on('readable', onReadable);
      source.once('end', onEnd);
      source.once('error', onError);
    });
    return this.#head;
  }

  /** Writes the head and then the rest of the pipe into dest (ffmpeg's stdin); once only. */
  async feed(dest: Writable): Promise<void> {
    if (this.#fed) throw new Error('stdin was already handed to ffmpeg once; a pipe cannot be read again');
    this.#fed = true;
    const head = await (this.#head ?? Promise.resolve(Buffer.alloc(0)));
    // ffmpeg may exit before reading everything (an error, a kill); its closed stdin is not ours to report.
    dest.on('error', () => undefined);
    if (this.#ended) {
      dest.end(head);
      return;
    }
    if (head.length > 0) dest.write(head);
    const source = this.#source;
    source.pipe(dest);
    dest.once('close', () => source.unpipe(dest));
  }

  /** Stops reading (the command is ending); the writer on the other side gets EPIPE. */
  close(): void {
    this.#source.destroy();
  }
}

interface ProbeJson {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    disposition?: { attached_pic?: number };
  }[];
  format?: { format_name?: string; duration?: string };
}

/** Keeps the last part of a growing text: ffprobe's complaint is at the end. */
const STDERR_KEEP = 64 * 1024;

/**
 * Stream info from ffprobe; rejects with ProbeError carrying ffprobe's reason. With `head`, the
 * source is a pipe and ffprobe reads those bytes on its stdin instead of opening spec.input.
 * ffprobe is spawned here rather than through fluent-ffmpeg, whose ffprobe() gives no handle on
 * the process: on timeout or abort the child is killed, not left running with its socket open.
 */
export function probe(spec: SourceSpec, options: { timeoutMs: number; signal?: AbortSignal; head?: Buffer }): Promise<MediaInfo> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason ?? new Error('aborted'));
      return;
    }
    const input = options.head ? 'pipe:0' : spec.input;
    const args = ['-hide_banner', '-v', 'warning', '-print_format', 'json', '-show_format', '-show_streams', ...spec.probeOptions, input];
    const child = spawn('ffprobe', args, { stdio: [options.head ? 'pipe' : 'ignore', 'pipe', 'pipe'], windowsHide: true });
    adoptChild(child);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    // ffprobe exits by itself on the network timeouts in probeOptions; this timer covers the rest
    // (a source that trickles bytes, a demuxer that keeps waiting).
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(() => reject(new ProbeError(`no answer within ${options.timeoutMs} ms`, true)));
    }, options.timeoutMs + 2_000);
    const onAbort = () => {
      child.kill('SIGKILL');
      settle(() => reject(options.signal?.reason ?? new Error('aborted')));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (data: Buffer) => out.push(data));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      err += text;
      if (err.length > 2 * STDERR_KEEP) err = err.slice(-STDERR_KEEP);
    });
    if (options.head && child.stdin) {
      // ffprobe stops reading once it has seen enough; its closed stdin is not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.head);
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle(() => reject(new ProbeError(error.code === 'ENOENT' ? 'ffprobe is not installed (not found on PATH)' : `ffprobe could not start (${error.message})`)));
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      if (code !== 0) {
        const reason = lastMeaningfulLine(err || `ffprobe exited with ${signal ?? `code ${code}`}`, spec.input);
        settle(() => reject(new ProbeError(reason, /timed out|timeout/i.test(err))));
        return;
      }
      let data: ProbeJson;
      try {
        data = JSON.parse(Buffer.concat(out).toString('utf8')) as ProbeJson;
      } catch {
        settle(() => reject(new ProbeError(`ffprobe printed no readable description (${lastMeaningfulLine(err, spec.input)})`)));
        return;
      }
      const streams = data.streams ?? [];
      const video = streams.find((s) => s.codec_type === 'video' && !(s.disposition?.attached_pic === 1));
      const audio = streams.find((s) => s.codec_type === 'audio');
      const duration = Number(data.format?.duration);
      settle(() =>
        resolve({
          formatName: data.format?.format_name ?? '',
          duration: Number.isFinite(duration) && duration > 0 ? duration : undefined,
          video: video ? { width: video.width ?? 0, height: video.height ?? 0, codec: video.codec_name ?? 'none' } : undefined,
          audio: audio ? { codec: audio.codec_name ?? 'none', sampleRate: Number(audio.sample_rate ?? 0), channels: audio.channels ?? 0 } : undefined,
        }),
      );
    });
  });
}

export interface DecodedFrame {
  /** Seconds from the start of this ffmpeg run (media timestamps). */
  t: number;
  scene: boolean;
  sceneScore: number;
  /** Size of `rgb` (RGB24), as ffmpeg scaled it. */
  width: number;
  height: number;
  rgb: Uint8Array;
  jpeg: Buffer;
}

export interface DecodeHandlers {
  frame(frame: DecodedFrame): void;
  /** The buffer a keyframe's RGB bytes are read into (one the caller reuses); a new one when absent. */
  frameBuffer?(size: number): Uint8Array;
  audio(samples: Float32Array): void;
  /** Both video pipes have closed: every frame with its time has been handed to frame(). */
  videoEnded?(): void;
  /** A recording segment file is complete (plans with `record`). */
  segment?(segment: FinishedSegment): void;
}

export interface DecodeResult {
  /** 'ended': ffmpeg finished; 'killed': we stopped it (kill()/abort); 'failed': it died. */
  outcome: 'ended' | 'killed' | 'failed';
  /** ffmpeg's last error lines when it failed or complained. */
  message: string;
  /** Lines ffmpeg logged at error level while decoding (a damaged file still "ends"). */
  errors: number;
}

const META_TIME = /\] frame:\d+\s+pts:\S+\s+pts_time:(\S+)/;
const META_SCENE = /\] lavfi\.scene_score=(\S+)/;
const ERROR_LINE = /(Invalid data|error|Error|corrupt|partial file|Truncat|truncat|missing|Connection refused|timed out|Immediate exit)/;

/** A running ffmpeg decode. pause()/resume() stop reading its pipes, which stalls ffmpeg itself. */
export class DecodeSession {
  readonly done: Promise<DecodeResult>;
  /**
   * ffmpeg's description of its input, once logged (before any output is written); undefined
   * when ffmpeg ended without one or it did not read as one.
   */
  readonly input: Promise<InputDump | undefined>;
  /** Epoch ms of the last byte from any pipe. */
  lastDataAt = Date.now();
  #proc: ChildProcess | undefined;
  #killed = false;
  #paused = false;
  #pipes: Readable[] = [];

  constructor(plan: DecodePlan, handlers: DecodeHandlers, signal: AbortSignal, sceneThreshold: number, stdin?: PipeInput) {
    if (plan.stdin && !stdin) throw new Error('a stdin decode plan needs the pipe to feed ffmpeg');
    const times: { t: number; score: number }[] = [];
    const rgbs: { width: number; height: number; rgb: Uint8Array }[] = [];
    const jpegs: Buffer[] = [];
    let pendingTime: number | undefined;
    const errorLines: string[] = [];
    let errors = 0;
    const pair = () => {
      while (times.length > 0 && rgbs.length > 0 && jpegs.length > 0) {
        const m = times.shift()!;
        const { width, height, rgb } = rgbs.shift()!;
        handlers.frame({ t: m.t, sceneScore: m.score, scene: m.score > sceneThreshold, width, height, rgb, jpeg: jpegs.shift()! });
      }
    };
    const inputDump = new InputDumpCollector();
    let settleInput: (dump: InputDump | undefined) => void = () => undefined;
    this.input = new Promise((resolve) => (settleInput = resolve));
    const onStderrLine = (line: string) => {
      if (!inputDump.done) {
        const dump = inputDump.line(line);
        if (dump !== undefined) settleInput(dump === 'unreadable' ? undefined : dump);
      }
      const time = META_TIME.exec(line);
      if (time) {
        if (pendingTime !== undefined) times.push({ t: pendingTime, score: 0 });
        pendingTime = Number(time[1]);
        return;
      }
      const scene = META_SCENE.exec(line);
      if (scene) {
        if (pendingTime !== undefined) times.push({ t: pendingTime, score: Number(scene[1]) || 0 });
        pendingTime = undefined;
        pair();
        return;
      }
      if (ERROR_LINE.test(line) && !line.includes('deprecated pixel format')) {
        errors += 1;
        errorLines.push(line.trim());
        if (errorLines.length > 5) errorLines.shift();
      }
    };

    const ppm = new PpmReader(handlers.frameBuffer?.bind(handlers));
    const onFrameBytes = (frames: () => RgbFrame[]): boolean => {
      this.lastDataAt = Date.now();
      try {
        rgbs.push(...frames());
      } catch (error) {
        // Not ffmpeg's PPM: nothing after this can be framed; end the run as failed.
        errorLines.push((error as Error).message);
        errors += 1;
        this.#proc?.kill('SIGKILL');
        return false;
      }
      pair();
      return true;
    };
    // The keyframes (most of the bytes) are read straight into their frames where the channel
    // opens (read-channel.ts); else through a stdio pipe and copied, as the other outputs are.
    const videoChannel = plan.hasVideo
      ? openReadChannel({ buffer: () => ppm.readBuffer(), read: (n, buffer) => onFrameBytes(() => ppm.read(n, buffer)) }).catch(() => undefined)
      : Promise.resolve(undefined);
    this.done = videoChannel.then((channel) => new Promise<DecodeResult>((resolve) => {
      const command = ffmpeg();
      // fluent-ffmpeg's run() offers one output stream; ingest needs three, so it spawns through
      // fluent-ffmpeg's own spawner (binary lookup, exit handling) with extra stdio pipes.
      const spawner = command as unknown as {
        _spawnFfmpeg(args: string[], options: object, processCB: (proc: ChildProcess) => void, endCB: (err: Error | null) => void): void;
      };
      const stdio: (string | Socket)[] = [plan.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'ignore', 'pipe', 'pipe', ...(plan.record ? ['pipe'] : [])];
      if (channel) stdio[VIDEO_FD] = channel.childEnd;
      // The segment list's last line can arrive after ffmpeg's exit is reported.
      let listClosed: Promise<void> = Promise.resolve();
      const finish = async (err: Error | null) => {
        // ffmpeg did not start (not found) or is gone: our copy of its end must not keep the channel open.
        channel?.childEnd.destroy();
        await Promise.race([listClosed, new Promise((r) => setTimeout(r, 1_000))]);
        // fluent-ffmpeg reports the exit once ffmpeg and its stderr are gone, but the frame and
        // audio pipes may still hold the last second or two, unread while ingest holds the decode
        // paused for perception: resolving now cut every such file short by that much. Wait for
        // them to be read to their end (ingest resumes as it drains), unless we killed it.
        while (!err && !this.#killed && this.#pipes.some((pipe) => !pipe.readableEnded && !pipe.destroyed)) await new Promise((r) => setTimeout(r, 20));
        signal.removeEventListener('abort', onAbort);
        settleInput(undefined);
        if (pendingTime !== undefined) times.push({ t: pendingTime, score: 0 });
        pendingTime = undefined;
        pair();
        const message = errorLines.join('; ') || (err ? err.message : '');
        channel?.reader.destroy();
        if (this.#killed) resolve({ outcome: 'killed', message, errors });
        else if (err) resolve({ outcome: 'failed', message, errors });
        else resolve({ outcome: 'ended', message, errors });
      };
      const onAbort = () => this.kill();
      signal.addEventListener('abort', onAbort, { once: true });
      spawner._spawnFfmpeg(
        plan.args,
        { captureStdout: false, stdoutLines: 0, stdio, windowsHide: true },
        (proc) => {
          this.#proc = proc;
          adoptChild(proc);
          // The child holds its own copy now; the channel ends when ffmpeg closes it.
          channel?.childEnd.destroy();
          if (this.#killed) proc.kill('SIGKILL');
          if (stdin && proc.stdin) void stdin.feed(proc.stdin).catch(() => proc.kill('SIGKILL'));
          let rest = '';
          proc.stderr?.on('data', (text: string) => {
            const lines = (rest + text).split(/\r?\n|\r/);
            rest = lines.pop() ?? '';
            for (const line of lines) onStderrLine(line);
          });
          proc.stderr?.on('end', () => rest && onStderrLine(rest));
          const pipes = proc.stdio as unknown as (Readable | null | undefined)[];
          const video = channel?.reader ?? pipes[VIDEO_FD] ?? null;
          const audio = pipes[AUDIO_FD] ?? null;
          const jpeg = pipes[JPEG_FD] ?? null;
          if (plan.hasVideo && video && jpeg) {
            if (!channel) video.on('data', (data: Buffer) => onFrameBytes(() => ppm.push(data)));
            let pending: Buffer[] = [];
            let scanFrom = 0;
            jpeg.on('data', (data: Buffer) => {
              this.lastDataAt = Date.now();
              pending.push(data);
              let joined = pending.length === 1 ? data : Buffer.concat(pending);
              // Each JPEG ends with FF D9; entropy-coded data never contains it (0xFF is stuffed).
              for (;;) {
                const end = joined.indexOf(EOI, Math.max(0, scanFrom - 1));
                if (end < 0) break;
                jpegs.push(Buffer.from(joined.subarray(0, end + 2)));
                joined = joined.subarray(end + 2);
                scanFrom = 0;
              }
              scanFrom = joined.length;
              pending = joined.length > 0 ? [joined] : [];
              pair();
            });
            let open = 2;
            const ended = () => {
              open -= 1;
              if (open > 0) return;
              pair();
              handlers.videoEnded?.();
            };
            video.once('end', ended);
            jpeg.once('end', ended);
            this.#pipes.push(video, jpeg);
          }
          if (plan.hasAudio && audio) {
            let carry: Buffer | undefined;
            audio.on('data', (data: Buffer) => {
              this.lastDataAt = Date.now();
              const bytes = carry ? Buffer.concat([carry, data]) : data;
              const whole = bytes.length - (bytes.length % 4);
              carry = whole < bytes.length ? Buffer.from(bytes.subarray(whole)) : undefined;
              if (whole === 0) return;
              const samples = new Float32Array(whole / 4);
              new Uint8Array(samples.buffer).set(bytes.subarray(0, whole));
              handlers.audio(samples);
            });
            this.#pipes.push(audio);
          }
          const list = plan.record ? (pipes[SEGMENT_LIST_FD] ?? null) : null;
          if (list) {
            // Not paused with the others: a few bytes per segment, and the index should not wait.
            let rest = '';
            list.setEncoding('utf8');
            list.on('data', (text: string) => {
              const lines = (rest + text).split('\n');
              rest = lines.pop() ?? '';
              for (const line of lines) {
                const segment = parseSegmentLine(line);
                if (segment) handlers.segment?.(segment);
              }
            });
            list.on('error', () => undefined);
            listClosed = new Promise((r) => list.once('close', () => r()));
          }
          for (const pipe of [video, audio, jpeg]) pipe?.on('error', () => undefined);
          if (this.#paused) for (const pipe of this.#pipes) pipe.pause();
        },
        (err) => void finish(err),
      );
    }));
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
    for (const pipe of this.#pipes) pipe.pause();
  }

  resume(): void {
    this.#paused = false;
    this.lastDataAt = Date.now();
    for (const pipe of this.#pipes) pipe.resume();
  }

  /** Stops ffmpeg; idempotent. The session then ends with outcome 'killed'. */
  kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    this.#proc?.kill('SIGKILL');
  }
}

const EOI = Buffer.from([0xff, 0xd9]);

export function decode(plan: DecodePlan, handlers: DecodeHandlers, signal: AbortSignal, sceneThreshold: number, stdin?: PipeInput): DecodeSession {
  return new DecodeSession(plan, handlers, signal, sceneThreshold, stdin);
}
