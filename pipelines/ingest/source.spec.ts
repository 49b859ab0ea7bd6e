import { describe, expect, it } from 'vitest';
import { assertStreamName, defaultStreamName, resolveSource, type SourceOptions } from './source.js';
import { buildDecodePlan, fitSize } from './decode-plan.js';
import { SourceError, type FileFacts } from '../records/source.js';
import type { MediaInfo } from '../repositories/media-types.js';

// A small in-memory file system: real paths after symlinks, and sizes.
const tree: Record<string, { real?: string; size: number }> = {
  '/media/cam.mp4': { size: 100 },
  '/media/empty.mp4': { size: 0 },
  '/media/escape.mp4': { real: '/etc/secret.mp4', size: 100 },
  '/etc/secret.mp4': { size: 100 },
};
const files: FileFacts = {
  realpath(path) {
    const entry = tree[path];
    if (!entry) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return entry.real ?? path;
  },
  stat(path) {
    return { size: tree[path]!.size, isFile: true };
  },
};
const options: SourceOptions = { allowedProtocols: ['file', 'pipe', 'http', 'https', 'tcp', 'udp', 'rtsp', 'tls'], fileRoots: ['/media'], timeoutMs: 5_000, cwd: '/media', files };
const whitelist = ['-protocol_whitelist', 'file,pipe,http,https,tcp,udp,rtsp,tls'];
const error = (source: string) => {
  try {
    resolveSource(source, options);
  } catch (e) {
    expect(e).toBeInstanceOf(SourceError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${source}`);
};

describe('resolveSource', () => {
  it('turns files into file: inputs under the roots', () => {
    const spec = resolveSource('cam.mp4', options);
    expect(spec).toMatchObject({ kind: 'file', input: 'file:/media/cam.mp4', live: false, inputOptions: whitelist });
    expect(resolveSource('file:/media/cam.mp4', options).input).toBe('file:/media/cam.mp4');
  });

  it('refuses missing, empty, escaping and dotted paths', () => {
    expect(error('/media/none.mp4')).toBe('file not found: /media/none.mp4');
    expect(error('/media/empty.mp4')).toMatch(/is empty/);
    expect(error('/media/escape.mp4')).toMatch(/resolves to \/etc\/secret\.mp4\) is outside the allowed directories/);
    expect(error('/etc/secret.mp4')).toMatch(/outside the allowed directories/);
    expect(error('/media/../etc/secret.mp4')).toMatch(/contains "\.\."/);
  });

  it('refuses protocols off the allow-list, with or without //', () => {
    expect(error('ftp://h/a.mp4')).toMatch(/protocol "ftp" is not allowed/);
    expect(error('concat:/media/cam.mp4|/etc/secret.mp4')).toMatch(/protocol "concat" is not allowed/);
    expect(error('subfile:,,start,0,end,0,,:/etc/secret.mp4')).toMatch(/protocol "subfile" is not allowed/);
  });

  it('never lets a source become an ffmpeg option', () => {
    const spec = resolveSource('-y', { ...options, files: { realpath: (p) => p, stat: () => ({ size: 1, isFile: true }) } });
    expect(spec.input).toBe('file:/media/-y');
    expect(error('alsa:-f')).toMatch(/alsa device "-f" has characters/);
    expect(error('v4l2:/etc/passwd')).toMatch(/not a video device path/);
  });

  it('builds network inputs with timeouts and TCP for RTSP, and hides passwords', () => {
    const rtsp = resolveSource('rtsp://admin:hunter2@cam.local:554/stream1', options);
    expect(rtsp.inputOptions).toEqual([...whitelist, '-rtsp_transport', 'tcp', '-timeout', '5000000', '-analyzeduration', '2000000']);
    expect(rtsp.input).toBe('rtsp://admin:hunter2@cam.local:554/stream1');
    expect(rtsp.display).toBe('rtsp://admin:***@cam.local:554/stream1');
    expect(rtsp.live).toBe(true);
    const http = resolveSource('https://example.com/live/index.m3u8', options);
    expect(http.inputOptions).toEqual([...whitelist, '-rw_timeout', '5000000']);
    expect(http.live).toBe(false); // decided by probing: no duration means live
    expect(resolveSource('tcp://127.0.0.1:9000', options).inputOptions).toEqual([...whitelist, '-rw_timeout', '5000000', '-analyzeduration', '2000000']);
    expect(resolveSource('udp://239.0.0.1:1234', options).inputOptions).toEqual([...whitelist, '-timeout', '5000000', '-analyzeduration', '2000000']);
  });

  it('builds device inputs for v4l2, alsa, pulse and stdin', () => {
    expect(resolveSource('v4l2:/dev/video0', options)).toMatchObject({ kind: 'v4l2', inputOptions: ['-f', 'video4linux2'], input: '/dev/video0', live: true });
    expect(resolveSource('alsa:hw:1,0', options)).toMatchObject({ kind: 'alsa', inputOptions: ['-f', 'alsa'], input: 'hw:1,0', live: true });
    expect(resolveSource('pulse:', options)).toMatchObject({ kind: 'pulse', inputOptions: ['-f', 'pulse'], input: 'default', live: true });
    expect(resolveSource('-', options)).toMatchObject({ kind: 'stdin', input: 'pipe:0', inputOptions: whitelist });
  });
});

describe('decode plan', () => {
  const info: MediaInfo = { formatName: 'mov', duration: 10, video: { width: 1920, height: 1080, codec: 'h264' }, audio: { codec: 'aac', sampleRate: 48_000, channels: 2 } };
  const config = { keyframesPerSecond: 1, sceneThreshold: 0.3, frameMaxSide: 640, thumbnailWidth: 320 };

  it('fits frames into the long side with even dimensions and never upscales', () => {
    expect(fitSize(1920, 1080, 640)).toEqual({ width: 640, height: 360 });
    expect(fitSize(1080, 1920, 640)).toEqual({ width: 360, height: 640 });
    expect(fitSize(321, 241, 640)).toEqual({ width: 322, height: 242 });
    expect(fitSize(768, 432, 640)).toEqual({ width: 640, height: 360 });
  });

  it('reads stdin only for "-", with -nostdin otherwise, and seeks files on resume', () => {
    const file = buildDecodePlan(resolveSource('cam.mp4', options), info, { config, seekS: 12 });
    expect(file.args.slice(0, 10)).toEqual(['-hide_banner', '-nostats', '-loglevel', 'info', '-nostdin', ...whitelist, '-ss', '12.000', '-i']);
    expect(file.stdin).toBe(false);
    const stdin = buildDecodePlan(resolveSource('-', options), info, { config });
    expect(stdin.args).not.toContain('-nostdin');
    expect(stdin.args[stdin.args.indexOf('-i') + 1]).toBe('pipe:0');
    expect(stdin.stdin).toBe(true);
    const cam = buildDecodePlan(resolveSource('v4l2:/dev/video2', options), { ...info, duration: undefined, audio: undefined }, { config });
    expect(cam.args.slice(cam.args.indexOf('-f'), cam.args.indexOf('-i') + 2)).toEqual(['-f', 'video4linux2', '-i', '/dev/video2']);
    expect(cam.hasAudio).toBe(false);
    expect(cam.args).not.toContain('pipe:4');
  });

  it('maps keyframes, thumbnails and 16 kHz mono audio to their pipes', () => {
    const plan = buildDecodePlan(resolveSource('cam.mp4', options), info, { config });
    expect([plan.width, plan.height]).toEqual([640, 360]);
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('gt(scene,0.3)');
    expect(graph).toContain('scale=640:360');
    expect(graph).toContain('scale=320:-2');
    expect(graph).toContain('aresample=16000:async=1:first_pts=0');
    expect(plan.args.slice(-3)).toEqual(['-f', 'f32le', 'pipe:4']);
    const audioOnly = buildDecodePlan(resolveSource('alsa:default', options), { ...info, video: undefined }, { config });
    expect(audioOnly.args).not.toContain('pipe:3');
    expect(audioOnly.hasVideo).toBe(false);
  });
});

describe('stream names', () => {
  it('derives a safe default from the source', () => {
    expect(defaultStreamName('/videos/Front Door (2).MP4')).toBe('front-door-2');
    expect(defaultStreamName('rtsp://u:p@cam.local/Stream1')).toBe('cam-local-stream1');
    expect(defaultStreamName('v4l2:/dev/video0')).toBe('video0');
    expect(defaultStreamName('alsa:hw:1,0')).toBe('alsa-hw-1-0');
    expect(defaultStreamName('-')).toBe('stdin');
    expect(defaultStreamName('/x/日本.mp4')).toBe('stream');
    expect(() => assertStreamName('a:b')).toThrow(/must be/);
  });
});
