import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InputDumpCollector, parseInputDump, PpmReader, type RgbFrame } from './ffmpeg-output.js';

const ppm = (width: number, height: number, fill: number) => Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), Buffer.alloc(width * height * 3, fill)]);

describe('PpmReader', () => {
  it('frames a byte stream cut anywhere, frames of different sizes included', () => {
    const bytes = Buffer.concat([ppm(4, 2, 1), ppm(2, 3, 2), ppm(4, 2, 3)]);
    for (const step of [1, 5, 7, 11, bytes.length]) {
      const reader = new PpmReader();
      const frames = [];
      for (let at = 0; at < bytes.length; at += step) frames.push(...reader.push(bytes.subarray(at, at + step)));
      expect(frames.map((f) => [f.width, f.height, f.rgb.length, f.rgb[0], f.rgb[f.rgb.length - 1]])).toEqual([
        [4, 2, 24, 1, 1],
        [2, 3, 18, 2, 2],
        [4, 2, 24, 3, 3],
      ]);
    }
  });

  it('frames the same stream read into the buffers it hands out, the frame bytes straight into their frames', () => {
    // Frames with distinct bytes: a byte copied to the wrong place shows.
    const frame = (width: number, height: number, seed: number) => {
      const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7 + seed) & 0xff);
      return { width, height, pixels, bytes: Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), pixels]) };
    };
    // 30x20 is larger than the header buffer; 2x1 so small that one header read takes a whole
    // frame and the next header with it.
    const sent = [frame(30, 20, 1), frame(2, 1, 2), frame(2, 1, 3), frame(40, 10, 4)];
    const bytes = Buffer.concat(sent.map((f) => f.bytes));
    for (const most of [1, 3, 64, 1000, bytes.length]) {
      const reader = new PpmReader();
      const frames: RgbFrame[] = [];
      const framed: Uint8Array[] = [];
      // A socket read: at most `most` bytes, never more than the buffer's room.
      for (let at = 0; at < bytes.length; ) {
        const target = reader.readBuffer();
        expect(target.length).toBeGreaterThan(0);
        const n = Math.min(most, target.length, bytes.length - at);
        target.set(bytes.subarray(at, at + n));
        at += n;
        const done = reader.read(n, target);
        frames.push(...done);
        // A frame's bytes went where readBuffer() pointed: into the frame itself.
        if (target.length > 64) framed.push(target);
      }
      expect(frames.map((f) => [f.width, f.height])).toEqual(sent.map((f) => [f.width, f.height]));
      frames.forEach((f, i) => expect(Buffer.compare(f.rgb, sent[i]!.pixels), `frame ${i} read ${most} at a time`).toBe(0));
      if (most >= 64) expect(framed.some((t) => t.buffer === frames[0]!.rgb.buffer)).toBe(true);
    }
  });

  it('reads each frame into the buffer its allocator gives', () => {
    const given: Uint8Array[] = [];
    const reader = new PpmReader((size) => {
      given.push(new Uint8Array(size).fill(9));
      return given[given.length - 1]!;
    });
    const frames = reader.push(Buffer.concat([ppm(4, 2, 1), ppm(2, 3, 2)]));
    expect(frames.map((f) => f.rgb)).toEqual(given);
    expect(frames[0]!.rgb).toBe(given[0]);
    expect([...frames[1]!.rgb]).toEqual(Array(18).fill(2));
  });

  it('refuses bytes that are not an RGB PPM stream', () => {
    expect(() => new PpmReader().push(Buffer.from('P5\n4 2\n255\n'))).toThrow(/not an RGB PPM header/);
    expect(() => new PpmReader().push(Buffer.alloc(100, 0x41))).toThrow(/header too long/);
  });

  it("reads ffmpeg's own PPM output", () => {
    const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=322x242:rate=5:duration=1', '-c:v', 'ppm', '-f', 'image2pipe', 'pipe:1'], { maxBuffer: 1 << 24 });
    const frames = new PpmReader().push(out);
    expect(frames).toHaveLength(5);
    for (const f of frames) expect([f.width, f.height, f.rgb.length]).toEqual([322, 242, 322 * 242 * 3]);
  });
});

// ffmpeg 5.1's dump of car-detection.mp4 (shortened metadata), as logged at -loglevel info.
const CAR = [
  "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/media/car-detection.mp4':",
  '  Metadata:',
  '    major_brand     : mp42',
  '  Duration: 00:00:30.21, start: 0.000000, bitrate: 744 kb/s',
  '  Stream #0:0[0x1](eng): Video: h264 (Baseline) (avc1 / 0x31637661), yuv420p(tv, smpte170m, progressive), 768x432, 614 kb/s, 12.50 fps, 12.50 tbr, 25k tbn (default)',
  '    Metadata:',
  '      encoder         : AVC Coding',
  '  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 125 kb/s (default)',
];

describe('parseInputDump', () => {
  it('reads format, duration, video size and codec, audio codec, rate and channels', () => {
    expect(parseInputDump(CAR)).toEqual({
      info: { formatName: 'mov,mp4,m4a,3gp,3g2,mj2', duration: 30.21, video: { width: 768, height: 432, codec: 'h264' }, audio: { codec: 'aac', sampleRate: 48000, channels: 2 } },
      attachedPicture: false,
    });
  });

  it('knows a file without audio, an audio file, cover art and an unknown length', () => {
    expect(parseInputDump(CAR.slice(0, 7))!.info.audio).toBeUndefined();
    const wav = ["Input #0, wav, from '/tmp/a.wav':", '  Duration: 00:00:02.00, bitrate: 705 kb/s', '  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 44100 Hz, mono, s16, 705 kb/s'];
    expect(parseInputDump(wav)!.info).toEqual({ formatName: 'wav', duration: 2, video: undefined, audio: { codec: 'pcm_s16le', sampleRate: 44100, channels: 1 } });
    const mp3 = [
      "Input #0, mp3, from 'song.mp3':",
      '  Duration: 00:03:10.50, start: 0.025057, bitrate: 320 kb/s',
      '  Stream #0:0: Audio: mp3, 44100 Hz, 5.1(side), fltp, 320 kb/s',
      '  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 500x500 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)',
    ];
    expect(parseInputDump(mp3)).toEqual({ info: { formatName: 'mp3', duration: 190.5, video: undefined, audio: { codec: 'mp3', sampleRate: 44100, channels: 6 } }, attachedPicture: true });
    const ts = ["Input #0, mpegts, from 'tcp://cam':", '  Duration: N/A, start: 1.400000, bitrate: N/A', '  Stream #0:0[0x100]: Video: h264 (High) ([27][0][0][0] / 0x001B), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 25 fps, 25 tbr, 90k tbn'];
    expect(parseInputDump(ts)!.info).toEqual({ formatName: 'mpegts', duration: undefined, video: { width: 1280, height: 720, codec: 'h264' }, audio: undefined });
  });

  it('collects the block from a log and ends it at the first line outside it', () => {
    const collector = new InputDumpCollector();
    const log = ['Guessed Channel Layout for Input Stream #0.0 : mono', ...CAR, 'Stream mapping:', '  Stream #0:0 -> #0:0 (h264 (native) -> ppm (native))'];
    const results = log.map((line) => collector.line(line));
    expect(results.filter((r) => r !== undefined)).toEqual([parseInputDump(CAR)]);
    expect(results[CAR.length + 1]).toEqual(parseInputDump(CAR));
    expect(collector.done).toBe(true);
    const broken = new InputDumpCollector();
    expect(['Input #0, what, from x:', 'oops'].map((l) => broken.line(l))).toEqual([undefined, 'unreadable']);
  });
});
