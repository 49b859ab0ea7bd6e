// Keyframes travel from ingest to perception as YUV 4:2:0 (half the bytes of RGB24: through the
// pipe, Redis and every copy between) and become RGB24 here, on the reading side. ffmpeg's own
// RGB conversion of the same frames cost ingest's ffmpeg about an eighth of its CPU on the 30 s
// car clip (test/bench/ingest.ts); this one costs the reader about a millisecond per 640x360 frame.

/**
 * Which YUV->RGB matrix the source's samples use, as ffmpeg's scale would have picked it from the
 * stream: BT.709 where the source says so (most HD), else BT.601 (SD, untagged).
 */
export type ColorMatrix = 'bt601' | 'bt709';

/** I420: the Y plane (width x height), then U and V (each width/2 x height/2); limited range. */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
  matrix: ColorMatrix;
}

/** Bytes of an I420 frame; width and height are even (ingest scales to even sizes). */
export const i420Bytes = (width: number, height: number) => width * height + 2 * (width / 2) * (height / 2);

// Limited-range coefficients scaled by 2^16: R = Y' + rv V', G = Y' - gu U' - gv V', B = Y' + bu U',
// with Y' = 1.164 (Y - 16), U' = U - 128, V' = V - 128.
const COEFFS: Record<ColorMatrix, { rv: number; gu: number; gv: number; bu: number }> = {
  bt601: { rv: 104597, gu: 25675, gv: 53279, bu: 132201 },
  bt709: { rv: 117489, gu: 13975, gv: 34925, bu: 138438 },
};
const Y_SCALE = 76309;

/** Y' = 1.164 (Y - 16), scaled by 2^16, for every Y. */
const LUMA = Int32Array.from({ length: 256 }, (_, y) => Y_SCALE * (y - 16));
/** Values past 0..255 (at most ~280 beyond either end) clamped, indexed from CLAMP_AT. */
const CLAMP_AT = 512;
const CLAMP = Uint8Array.from({ length: 2 * CLAMP_AT }, (_, i) => Math.min(255, Math.max(0, i - CLAMP_AT)));

/** Pixel i's RGB from its luma and its chroma block's three terms (r, g, b: scaled, rounding added). */
function pixel(out: Uint8Array, data: Uint8Array, i: number, r: number, g: number, b: number): void {
  const y = LUMA[data[i]!]!;
  const o = 3 * i;
  out[o] = CLAMP[((y + r) >> 16) + CLAMP_AT]!;
  out[o + 1] = CLAMP[((y + g) >> 16) + CLAMP_AT]!;
  out[o + 2] = CLAMP[((y + b) >> 16) + CLAMP_AT]!;
}

/**
 * RGB24 of an I420 frame. Each chroma sample covers its 2x2 block of pixels, as ffmpeg's
 * default (non full-chroma) RGB output does horizontally; the test bounds the difference.
 */
export function i420ToRgb(frame: I420Frame): Uint8Array {
  const { width, height, data } = frame;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error(`i420: odd frame size ${width}x${height}`);
  if (data.length < i420Bytes(width, height)) throw new Error(`i420: ${data.length} bytes for a ${width}x${height} frame (needs ${i420Bytes(width, height)})`);
  const { rv, gu, gv, bu } = COEFFS[frame.matrix];
  const out = new Uint8Array(width * height * 3);
  const cw = width / 2;
  const uBase = width * height;
  const vBase = uBase + cw * (height / 2);
  // Two rows at a time: each chroma sample's three terms are computed once for its four pixels.
  for (let cy = 0; cy < height / 2; cy += 1) {
    const top = 2 * cy * width;
    const bottom = top + width;
    const cRow = cy * cw;
    for (let cx = 0; cx < cw; cx += 1) {
      const u = data[uBase + cRow + cx]! - 128;
      const v = data[vBase + cRow + cx]! - 128;
      const r = rv * v + 32768;
      const g = 32768 - gu * u - gv * v;
      const b = bu * u + 32768;
      const x = 2 * cx;
      pixel(out, data, top + x, r, g, b);
      pixel(out, data, top + x + 1, r, g, b);
      pixel(out, data, bottom + x, r, g, b);
      pixel(out, data, bottom + x + 1, r, g, b);
    }
  }
  return out;
}
