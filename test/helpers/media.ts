// Media for tests, generated with ffmpeg's lavfi sources so every expectation is known exactly:
// testsrc2 video (optionally with burnt-in text), a sine or silent audio track, scene cuts as
// hard switches between colour sources. Files go in a directory the caller owns.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../config/load.js';

const run = promisify(execFile);

/** ../shared/media beside the repository; a git worktree one level deeper looks one level up. */
export const SHARED_MEDIA = [join(packageRoot(), '../shared/media'), join(packageRoot(), '../../shared/media')].find((d) => existsSync(d)) ?? join(packageRoot(), '../shared/media');
export const CAR_DETECTION = join(SHARED_MEDIA, 'car-detection.mp4');
export const BOTTLE_DETECTION = join(SHARED_MEDIA, 'bottle-detection.mp4');

export interface VideoOptions {
  /** Seconds. */
  duration: number;
  /** WIDTHxHEIGHT. @defaultValue '320x240' */
  size?: string;
  fps?: number;
  /** @defaultValue 'sine' */
  audio?: 'sine' | 'silence' | 'none';
  /** Sine frequency in Hz. @defaultValue 440 */
  frequency?: number;
  /** Text drawn on every frame (drawtext). */
  text?: string;
  /** No video track (audio only). */
  noVideo?: boolean;
  /** Output container by extension. @defaultValue 'mp4' */
  ext?: string;
  /** Extra ffmpeg output options. */
  outputOptions?: string[];
}

export async function ffmpegRun(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** A test clip; returns its path. Video: libx264 (mp4) with a keyframe every second. */
export async function generateVideo(dir: string, name: string, options: VideoOptions): Promise<string> {
  const size = options.size ?? '320x240';
  const fps = options.fps ?? 25;
  const ext = options.ext ?? 'mp4';
  const out = join(dir, `${name}.${ext}`);
  const args: string[] = [];
  const maps: string[] = [];
  if (!options.noVideo) {
    let video = `testsrc2=size=${size}:rate=${fps}:duration=${options.duration}`;
    if (options.text) video += `,drawtext=text='${options.text.replace(/'/g, '')}':fontsize=32:fontcolor=white:x=10:y=10:box=1:boxcolor=black`;
    args.push('-f', 'lavfi', '-i', video);
    maps.push('-map', `${maps.length / 2}:v`);
  }
  const audio = options.audio ?? 'sine';
  if (audio !== 'none') {
    const src = audio === 'sine' ? `sine=frequency=${options.frequency ?? 440}:sample_rate=48000:duration=${options.duration}` : `anullsrc=r=48000:cl=mono,atrim=duration=${options.duration}`;
    args.push('-f', 'lavfi', '-i', src);
    maps.push('-map', `${maps.length / 2}:a`);
  }
  const codec = ext === 'mp4' || ext === 'mkv' || ext === 'ts' ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps), '-pix_fmt', 'yuv420p', '-c:a', 'aac'] : [];
  await ffmpegRun([...args, ...maps, ...(options.noVideo ? codec.filter((_, i) => i >= codec.indexOf('-c:a')) : codec), ...(options.outputOptions ?? []), out]);
  return out;
}

/**
 * A clip with hard scene cuts: solid colour segments of `segment` seconds each (red, white, blue,
 * yellow, black, gray), with a sine track. Cuts are at segment, 2*segment, ...
 */
export async function generateSceneCuts(dir: string, name: string, options: { segments: number; segment: number; size?: string; fps?: number }): Promise<string> {
  const size = options.size ?? '320x240';
  const fps = options.fps ?? 25;
  // Colours with different luma: ffmpeg's scene score compares brightness, so red -> green (equal
  // luma in BT.601) would not be a cut to it.
  const colours = ['red', 'white', 'blue', 'yellow', 'black', 'gray'];
  const args: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < options.segments; i += 1) {
    args.push('-f', 'lavfi', '-i', `color=c=${colours[i % colours.length]}:size=${size}:rate=${fps}:duration=${options.segment}`);
    labels.push(`[${i}:v]`);
  }
  const out = join(dir, `${name}.mp4`);
  await ffmpegRun([...args, '-filter_complex', `${labels.join('')}concat=n=${options.segments}:v=1:a=0[v]`, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
  return out;
}

/** Speech by espeak-ng as a WAV file. */
export async function generateSpeech(dir: string, name: string, text: string): Promise<string> {
  const out = join(dir, `${name}.wav`);
  await run('espeak-ng', ['-w', out, text]);
  return out;
}

/** Seconds of a media file according to ffprobe. */
export async function mediaDuration(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path]);
  return Number(stdout.trim());
}

/** ffmpeg reading `input` in real time (-re) and writing MPEG-TS to its stdout. */
export function spawnRealtimeTs(input: string, extra: string[] = []): ChildProcess {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', input, ...extra, '-c', 'copy', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
}

/**
 * A live MPEG-TS camera on tcp://127.0.0.1:PORT: a second ffmpeg plays `input` in real time (-re,
 * looping) and a TCP server hands its output to every client that connects. (An ffmpeg
 * `tcp://...?listen` output serves one client and dies when it leaves, so the probe connection
 * that precedes decoding would kill it; real cameras serve many.) stop() is the camera going
 * away; start() again brings it back on the same port.
 */
export class LiveTsServer {
  readonly input: string;
  port = 0;
  #ffmpeg: ChildProcess | undefined;
  #server: Server | undefined;
  #clients = new Set<Socket>();

  constructor(input: string) {
    this.input = input;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const ffmpeg = spawnRealtimeTs(this.input);
    this.#ffmpeg = ffmpeg;
    ffmpeg.stdout!.on('data', (data: Buffer) => {
      for (const client of this.#clients) if (!client.destroyed) client.write(data);
    });
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      this.#clients.add(socket);
      socket.on('close', () => this.#clients.delete(socket));
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.#ffmpeg?.kill('SIGKILL');
    this.#ffmpeg = undefined;
    for (const client of this.#clients) client.destroy();
    this.#clients.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
