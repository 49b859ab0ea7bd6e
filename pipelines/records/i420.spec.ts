import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { i420Bytes, i420ToRgb, type ColorMatrix } from './i420.js';

const W = 320;
const H = 180;
// Colour bars, gradients and moving edges: every hue and sharp chroma edges.
const yuv = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=1:duration=1`, '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);

/** ffmpeg's own RGB24 of the same I420 bytes, the conversion ingest used before keyframes were I420. */
function ffmpegRgb(matrix: ColorMatrix): Buffer {
  const space = matrix === 'bt709' ? 'bt709' : 'smpte170m';
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-colorspace', space, '-i', 'pipe:0', '-vf', 'scale=flags=bilinear,format=rgb24', '-f', 'rawvideo', 'pipe:1'], { input: yuv });
}

function difference(a: Uint8Array, b: Uint8Array): { mean: number; p99: number } {
  const d = Array.from(a, (v, i) => Math.abs(v - b[i]!)).sort((x, y) => x - y);
  return { mean: d.reduce((s, v) => s + v, 0) / d.length, p99: d[Math.floor(d.length * 0.99)]! };
}

describe('i420ToRgb', () => {
  it("matches ffmpeg's RGB24 of the same frame in both matrices, and the matrix matters", () => {
    expect(yuv.length).toBe(i420Bytes(W, H));
    for (const matrix of ['bt601', 'bt709'] as const) {
      const ours = i420ToRgb({ width: W, height: H, data: yuv, matrix });
      expect(ours.length).toBe(W * H * 3);
      const d = difference(ours, ffmpegRgb(matrix));
      // Rounding and chroma siting only: ffmpeg interpolates chroma vertically, this takes the nearest row.
      expect(d.mean).toBeLessThan(1);
      expect(d.p99).toBeLessThanOrEqual(4);
    }
    const wrong = difference(i420ToRgb({ width: W, height: H, data: yuv, matrix: 'bt709' }), ffmpegRgb('bt601'));
    expect(wrong.mean).toBeGreaterThan(3);
  });

  it('refuses an odd size or too few bytes', () => {
    expect(() => i420ToRgb({ width: 3, height: 2, data: new Uint8Array(9), matrix: 'bt601' })).toThrow(/odd frame size 3x2/);
    expect(() => i420ToRgb({ width: 4, height: 2, data: new Uint8Array(11), matrix: 'bt601' })).toThrow(/11 bytes for a 4x2 frame \(needs 12\)/);
  });
});
