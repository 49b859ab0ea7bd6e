// Face alignment for the descriptor model: a square window around the detected face, rotated so
// the eyes lie level (a tilted head otherwise reads as a different face), resampled bilinearly as
// HWC floats 0..255 (FaceRes was fed 0..255 pixels). Also the sharpness measure of the quality gate.
import type { RgbFrame } from './image.js';

export interface FaceWindow {
  /** Centre of the window in frame pixels. */
  cx: number;
  cy: number;
  /** Side of the square window in frame pixels. */
  side: number;
  /** Rotation (radians) that levels the eyes. */
  angle: number;
}

/** The aligned window of a face: centred on its box, `scale` times its larger side, levelled by the eyes. */
export function faceWindow(box: readonly number[], rightEye: readonly number[], leftEye: readonly number[], scale: number): FaceWindow {
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  const angle = Math.atan2((leftEye[1] as number) - (rightEye[1] as number), (leftEye[0] as number) - (rightEye[0] as number));
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, side: Math.max(x2 - x1, y2 - y1) * scale, angle };
}

/** Samples the window into out[offset..] as size x size x 3 floats (0..255); outside the frame reads as the edge. */
export function sampleFace(frame: RgbFrame, win: FaceWindow, size: number, out: Float32Array, offset: number): void {
  const { rgb, width, height } = frame;
  const cos = Math.cos(win.angle);
  const sin = Math.sin(win.angle);
  const step = win.side / size;
  for (let y = 0; y < size; y += 1) {
    const v = (y + 0.5) * step - win.side / 2;
    for (let x = 0; x < size; x += 1) {
      const u = (x + 0.5) * step - win.side / 2;
      const fx = Math.min(Math.max(win.cx + u * cos - v * sin - 0.5, 0), width - 1);
      const fy = Math.min(Math.max(win.cy + u * sin + v * cos - 0.5, 0), height - 1);
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const wx = fx - x0;
      const wy = fy - y0;
      const i00 = (y0 * width + x0) * 3;
      const i01 = (y0 * width + x1) * 3;
      const i10 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      const o = offset + (y * size + x) * 3;
      for (let c = 0; c < 3; c += 1) {
        const top = (rgb[i00 + c] as number) * (1 - wx) + (rgb[i01 + c] as number) * wx;
        const bottom = (rgb[i10 + c] as number) * (1 - wx) + (rgb[i11 + c] as number) * wx;
        out[o + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
}

/**
 * Sharpness of an aligned HWC crop: the standard deviation of the grey Laplacian, in grey levels.
 * A blurred or motion-smeared face gives a descriptor that matches everyone a little.
 */
export function sharpness(crop: Float32Array, size: number): number {
  const grey = new Float32Array(size * size);
  for (let i = 0; i < grey.length; i += 1) grey[i] = 0.299 * (crop[i * 3] as number) + 0.587 * (crop[i * 3 + 1] as number) + 0.114 * (crop[i * 3 + 2] as number);
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < size - 1; y += 1) {
    for (let x = 1; x < size - 1; x += 1) {
      const i = y * size + x;
      const lap = 4 * (grey[i] as number) - (grey[i - 1] as number) - (grey[i + 1] as number) - (grey[i - size] as number) - (grey[i + size] as number);
      sum += lap;
      sq += lap * lap;
      n += 1;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

/** A small BMP (24-bit, bottom-up) of an HWC 0..255 crop: browsers show it and it needs no codec. */
export function encodeBmp(crop: Float32Array, size: number): Buffer {
  const row = Math.ceil((size * 3) / 4) * 4;
  const data = row * size;
  const buf = Buffer.alloc(54 + data);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(54 + data, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(size, 18);
  buf.writeInt32LE(size, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(data, 34);
  for (let y = 0; y < size; y += 1) {
    const o = 54 + (size - 1 - y) * row;
    for (let x = 0; x < size; x += 1) {
      const i = (y * size + x) * 3;
      const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
      buf[o + x * 3] = clamp(crop[i + 2] as number);
      buf[o + x * 3 + 1] = clamp(crop[i + 1] as number);
      buf[o + x * 3 + 2] = clamp(crop[i] as number);
    }
  }
  return buf;
}
