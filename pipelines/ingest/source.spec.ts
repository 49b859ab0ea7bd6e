import { describe, expect, it } from 'vitest';
import { assertStreamName, defaultStreamName, resolveSource, type SourceOptions } from './source.js';
import { buildDecodePlan, fitSize, fitSizeExpressions } from './decode-plan.js';
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
const options: SourceOptions = { allowedProtocols: ['file', 'pipe', 'fd', 'http', 'https', 'tls', 'tcp', 'udp', 'rtp', 'rtsp', 'rtsps', 'hls', 'crypto', 'data'], fileRoots: ['/media'], timeoutMs: 5_000, cwd: '/media', files };
const whitelist = ['-protocol_whitelist', 'file,crypto,data'];
const list = (text: string) => ['-protocol_whitelist', text];
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
    expect(rtsp.inputOptions).toEqual([...list('rtsp,tcp,rtp'), '-rtsp_transport', 'tcp', '-timeout', '5000000', '-analyzeduration', '2000000']);
    expect(rtsp.input).toBe('rtsp://admin:hunter2@cam.local:554/stream1');
    expect(rtsp.display).toBe('rtsp://admin:***@cam.local:554/stream1');
    expect(rtsp.live).toBe(true);
    const http = resolveSource('https://example.com/live/index.m3u8', options);
    expect(http.inputOptions).toEqual([...list('http,https,tls,tcp,hls,crypto,data'), '-rw_timeout', '5000000']);
    expect(http.live).toBe(false); // decided by probing: no duration means live
    expect(resolveSource('tcp://127.0.0.1:9000', options).inputOptions).toEqual([...list('tcp'), '-rw_timeout', '5000000', '-analyzeduration', '2000000']);
    expect(resolveSource('udp://239.0.0.1:1234', options).inputOptions).toEqual([...list('udp'), '-timeout', '5000000', '-analyzeduration', '2000000']);
  });

  it('builds device inputs for v4l2, alsa, pulse and stdin', () => {
    expect(resolveSource('v4l2:/dev/video0', options)).toMatchObject({ kind: 'v4l2', inputOptions: ['-f', 'video4linux2'], input: '/dev/video0', live: true });
    expect(resolveSource('alsa:hw:1,0', options)).toMatchObject({ kind: 'alsa', inputOptions: ['-f', 'alsa'], input: 'hw:1,0', live: true });
    expect(resolveSource('pulse:', options)).toMatchObject({ kind: 'pulse', inputOptions: ['-f', 'pulse'], input: 'default', live: true });
    expect(resolveSource('-', options)).toMatchObject({ kind: 'stdin', input: 'pipe:0', inputOptions: list('pipe,crypto,data') });
  });
});

describe('containment', () => {
  it('never gives a network source a protocol that reaches local files, pipes or descriptors', () => {
    for (const source of ['http://cdn.example/live.m3u8', 'https://cdn.example/a.mp4', 'rtsp://cam.local/s', 'tcp://10.0.0.5:9000', 'udp://127.0.0.1:9999', 'rtp://239.1.1.1:5004']) {
      const spec = resolveSource(source, options);
      const allowed = spec.inputOptions[spec.inputOptions.indexOf('-protocol_whitelist') + 1]!.split(',');
      for (const local of ['file', 'pipe', 'fd']) expect(allowed, source).not.toContain(local);
      expect(spec.probeOptions).toEqual(spec.inputOptions);
    }
    // Only explicit udp/rtp sources may open UDP sockets (an SDP served over http would bind ports).
    expect(resolveSource('http://cdn.example/cam.sdp', options).inputOptions[1]).not.toMatch(/udp|rtp/);
    // A protocol the deployment added gets itself and the stream transports, never file.
    const srt = resolveSource('srt://cam.local:9000', { ...options, allowedProtocols: [...options.allowedProtocols, 'srt'] });
    expect(srt.inputOptions.slice(0, 2)).toEqual(list('srt,tcp,tls'));
  });

  it('opens file:// URLs as paths, under the same roots', () => {
    expect(resolveSource('file:///media/cam.mp4', options)).toMatchObject({ kind: 'file', input: 'file:/media/cam.mp4' });
    expect(error('file:///etc/passwd')).toBe('file not found: /etc/passwd');
    expect(error('file:///etc/secret.mp4')).toMatch(/^file \/etc\/secret\.mp4 is outside the allowed directories \(ingest\.fileRoots: \/media\)/);
    expect(error('file://fileserver/share/a.mp4')).toMatch(/names host "fileserver": engram opens only its own files/);
  });

  it('refuses every way of making engram listen', () => {
    expect(error('tcp://0.0.0.0:19999?listen')).toMatch(/source option "listen" is refused: engram connects out to sources and never listens/);
    expect(error('tcp://127.0.0.1:19999?listen=1')).toMatch(/"listen" is refused/);
    expect(error('tls://127.0.0.1:19999?listen=1')).toMatch(/"listen" is refused/);
    expect(error('udp://127.0.0.1:9999?localaddr=0.0.0.0')).toMatch(/"localaddr" is refused/);
    expect(error('rtp://127.0.0.1:5004?local_rtpport=6000')).toMatch(/"local_rtpport" is refused/);
    expect(error('udp://0.0.0.0:9999')).toMatch(/would make engram listen for datagrams on every interface.*udp:\/\/127\.0\.0\.1:9999/);
    expect(error('udp://192.168.1.20:9999')).toMatch(/every interface/);
    expect(error('rtp://10.1.1.1:5004')).toMatch(/every interface/);
    expect(error('udp://127.0.0.1')).toMatch(/has no port/);
    // http's query belongs to the server it asks; ffmpeg reads no options from it.
    expect(resolveSource('http://cam.local/stream?listen=1', options).input).toBe('http://cam.local/stream?listen=1');
  });

  it('binds udp sources on loopback, and multicast on the group', () => {
    expect(resolveSource('udp://127.0.0.1:9999', options).input).toBe('udp://127.0.0.1:9999?localaddr=127.0.0.1');
    expect(resolveSource('udp://localhost:9999?fifo_size=100000', options).input).toBe('udp://localhost:9999?fifo_size=100000&localaddr=127.0.0.1');
    expect(resolveSource('udp://[::1]:9999', options).input).toBe('udp://[::1]:9999?localaddr=%3A%3A1');
    expect(resolveSource('udp://239.0.0.1:1234', options).input).toBe('udp://239.0.0.1:1234');
  });

  it('says what is wrong with data:, file:// without a path, and bare protocols', () => {
    expect(error('data:video/mp4;base64,AAAA')).toMatch(/^"data:" is not a source engram can watch: give a file path, a URL/);
    expect(error('data:')).toMatch(/only allowed inside a stream/);
    expect(error('fd:3')).toMatch(/"fd:" is not a source engram can watch/);
    expect(error('crypto:http://x/a.ts')).toMatch(/"crypto:" is not a source/);
    expect(error('gopher://x/a')).toMatch(/protocol "gopher" is not allowed/);
    expect(error('tcp:///x')).toMatch(/has no host: a tcp:\/\/ URL needs one \(tcp:\/\/HOST:PORT\)/);
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
    // A live source decodes on liveDecoderThreads; a file on ffmpeg's default threads.
    expect(file.args).not.toContain('-threads');
    const live = buildDecodePlan(resolveSource('v4l2:/dev/video2', options), info, { config: { ...config, liveDecoderThreads: 1 }, live: true });
    expect(live.args.slice(live.args.indexOf('-threads'), live.args.indexOf('-threads') + 2)).toEqual(['-threads', '1']);
    expect(live.args.indexOf('-threads')).toBeLessThan(live.args.indexOf('-i'));
    const cam = buildDecodePlan(resolveSource('v4l2:/dev/video2', options), { ...info, duration: undefined, audio: undefined }, { config });
    expect(cam.args.slice(cam.args.indexOf('-f'), cam.args.indexOf('-i') + 2)).toEqual(['-f', 'video4linux2', '-i', '/dev/video2']);
    expect(cam.hasAudio).toBe(false);
    expect(cam.args).not.toContain('pipe:4');
  });

  it('maps keyframes, thumbnails and 16 kHz mono audio to their pipes', () => {
    const plan = buildDecodePlan(resolveSource('cam.mp4', options), info, { config });
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('gt(scene,0.3)');
    // Sizes are expressions of the input's size (test/ingest/file.test.ts checks what ffmpeg makes of them).
    expect(graph).toContain(`scale=w=${fitSizeExpressions(640).w}:h=${fitSizeExpressions(640).h}`);
    expect(graph).toContain('min(320,iw)');
    expect(plan.args.slice(plan.args.indexOf('[kf]'), plan.args.indexOf('pipe:1') + 1)).toEqual(['[kf]', '-fps_mode', 'passthrough', '-c:v', 'ppm', '-f', 'image2pipe', 'pipe:1']);
    expect(graph).toContain('aresample=16000:async=1:first_pts=0');
    // A file's audio in ffmpeg's own blocks; a live stream's frame by frame, for latency.
    expect(plan.args.slice(-5)).toEqual(['-flush_packets', '0', '-f', 'f32le', 'pipe:4']);
    const live = buildDecodePlan(resolveSource('cam.mp4', options), info, { config, live: true });
    expect(live.args.slice(-4)).toEqual(['[au]', '-f', 'f32le', 'pipe:4']);
    const audioOnly = buildDecodePlan(resolveSource('alsa:default', options), { ...info, video: undefined }, { config });
    expect(audioOnly.args).not.toContain('pipe:1');
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
