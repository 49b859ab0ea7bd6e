import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InputDumpCollector, parseInputDump, PgmYuvReader } from './ffmpeg-output.js';

/** A pgmyuv image of a width x height frame: Y rows filled with y, each chroma row U half u, V half v. */
const pgmyuv = (width: number, height: number, y: number, u: number, v: number) => {
  const rows = [Buffer.alloc(width * height, y)];
  for (let row = 0; row < height / 2; row += 1) rows.push(Buffer.alloc(width / 2, u), Buffer.alloc(width / 2, v));
  return Buffer.concat([Buffer.from(`P5\n${width} ${(height * 3) / 2}\n255\n`), ...rows]);
};

describe('PgmYuvReader', () => {
  it('frames a byte stream cut anywhere into I420 planes, frames of different sizes included', () => {
    const bytes = Buffer.concat([pgmyuv(4, 2, 1, 2, 3), pgmyuv(2, 4, 4, 5, 6), pgmyuv(6, 2, 7, 8, 9)]);
    for (const step of [1, 5, 7, 11, bytes.length]) {
      const reader = new PgmYuvReader();
      const frames = [];
      for (let at = 0; at < bytes.length; at += step) frames.push(...reader.push(bytes.subarray(at, at + step)));
      expect(frames.map((f) => [f.width, f.height, [...f.data]])).toEqual([
        [4, 2, [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3]],
        [2, 4, [4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6]],
        [6, 2, [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 9, 9, 9]],
      ]);
    }
  });

  it('refuses bytes that are not a pgmyuv stream of an even-sized frame', () => {
    expect(() => new PgmYuvReader().push(Buffer.from('P6\n4 2\n255\n'))).toThrow(/not a pgmyuv header/);
    expect(() => new PgmYuvReader().push(Buffer.from('P5\n4 4\n255\n'))).toThrow(/not a pgmyuv image/);
    expect(() => new PgmYuvReader().push(Buffer.alloc(100, 0x41))).toThrow(/header too long/);
  });

  it("reads ffmpeg's own pgmyuv output as the I420 ffmpeg writes raw", () => {
    const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=322x242:rate=5:duration=1', '-pix_fmt', 'yuv420p'];
    const out = execFileSync('ffmpeg', [...args, '-c:v', 'pgmyuv', '-f', 'image2pipe', 'pipe:1'], { maxBuffer: 1 << 24 });
    const raw = execFileSync('ffmpeg', [...args, '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 1 << 24 });
    const frames = new PgmYuvReader().push(out);
    expect(frames).toHaveLength(5);
    const size = (322 * 242 * 3) / 2;
    frames.forEach((f, i) => {
      expect([f.width, f.height, f.data.length]).toEqual([322, 242, size]);
      expect(Buffer.from(f.data).equals(raw.subarray(i * size, (i + 1) * size))).toBe(true);
    });
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
      colorMatrix: 'bt601',
    });
  });

  it("names the video's YUV matrix: BT.709 only where the stream is tagged so", () => {
    const hd = (details: string) => [CAR[0]!, `  Stream #0:0: Video: h264 (High) (avc1 / 0x31637661), yuv420p(${details}), 1920x1080, 25 fps`];
    expect(parseInputDump(hd('tv, bt709, progressive'))!.colorMatrix).toBe('bt709');
    expect(parseInputDump(hd('tv, bt709/bt709/bt709'))!.colorMatrix).toBe('bt709');
    expect(parseInputDump(hd('tv, bt470bg/bt709/bt709'))!.colorMatrix).toBe('bt601');
    expect(parseInputDump(hd('progressive'))!.colorMatrix).toBe('bt601');
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
    expect(parseInputDump(mp3)).toEqual({ info: { formatName: 'mp3', duration: 190.5, video: undefined, audio: { codec: 'mp3', sampleRate: 44100, channels: 6 } }, attachedPicture: true, colorMatrix: 'bt601' });
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
