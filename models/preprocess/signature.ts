// The weight-free visual signature: an 8x8 grid of mean colours (centred on the frame's mean, so
// lighting shifts matter less) plus per-channel mean/std and a 12-bin hue histogram, L2-normalised.
import type { RgbFrame } from './image.js';

export const SIGNATURE_GRID = 8;
export const SIGNATURE_HUE_BINS = 12;
export const SIGNATURE_DIMS = SIGNATURE_GRID * SIGNATURE_GRID * 3 + 6 + SIGNATURE_HUE_BINS;

export function visualSignature(frame: RgbFrame): Float32Array {
  const { rgb, width, height } = frame;
  const g = SIGNATURE_GRID;
  const cells = new Float64Array(g * g * 3);
  const counts = new Float64Array(g * g);
  let sr = 0, sgg = 0, sb = 0, qr = 0, qg = 0, qb = 0;
  const hue = new Float64Array(SIGNATURE_HUE_BINS);
  // Every pixel on small frames, a stride on larger ones: about 16k samples (a 640x360 keyframe
  // every third pixel, still ~400 per grid cell) describe the grid means and hue as well as all
  // 230k, and this runs on every keyframe of every stream (0.007 CPU s at every pixel).
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 16_384)));
  let n = 0;
  for (let y = 0; y < height; y += step) {
    const cy = Math.min(g - 1, Math.floor((y * g) / height));
    for (let x = 0; x < width; x += step) {
      const cx = Math.min(g - 1, Math.floor((x * g) / width));
      const i = (y * width + x) * 3;
      const r = (rgb[i] as number) / 255;
      const gg = (rgb[i + 1] as number) / 255;
      const b = (rgb[i + 2] as number) / 255;
      const cell = cy * g + cx;
      cells[cell * 3] = (cells[cell * 3] as number) + r;
      cells[cell * 3 + 1] = (cells[cell * 3 + 1] as number) + gg;
      cells[cell * 3 + 2] = (cells[cell * 3 + 2] as number) + b;
      counts[cell] = (counts[cell] as number) + 1;
      sr += r; sgg += gg; sb += b;
      qr += r * r; qg += gg * gg; qb += b * b;
      const max = Math.max(r, gg, b);
      const min = Math.min(r, gg, b);
      const chroma = max - min;
      if (chroma > 0.08) {
        let h: number;
        if (max === r) h = ((gg - b) / chroma + 6) % 6;
        else if (max === gg) h = (b - r) / chroma + 2;
        else h = (r - gg) / chroma + 4;
        const bin = Math.min(SIGNATURE_HUE_BINS - 1, Math.floor((h / 6) * SIGNATURE_HUE_BINS));
        hue[bin] = (hue[bin] as number) + chroma;
      }
      n += 1;
    }
  }
  const out = new Float32Array(SIGNATURE_DIMS);
  const sum = [sr, sgg, sb];
  const sq = [qr, qg, qb];
  const mean = sum.map((s) => s / Math.max(n, 1));
  for (let cell = 0; cell < g * g; cell += 1) {
    const c = Math.max(counts[cell] as number, 1);
    for (let ch = 0; ch < 3; ch += 1) out[cell * 3 + ch] = (cells[cell * 3 + ch] as number) / c - (mean[ch] as number);
  }
  let o = g * g * 3;
  for (let ch = 0; ch < 3; ch += 1) out[o++] = mean[ch] as number;
  for (let ch = 0; ch < 3; ch += 1) out[o++] = Math.sqrt(Math.max(0, (sq[ch] as number) / Math.max(n, 1) - (mean[ch] as number) ** 2));
  for (let h = 0; h < SIGNATURE_HUE_BINS; h += 1) out[o++] = (hue[h] as number) / Math.max(n, 1);
  return l2normalise(out);
}

export function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i += 1) s += (v[i] as number) ** 2;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i += 1) v[i] = (v[i] as number) * inv;
  return v;
}
