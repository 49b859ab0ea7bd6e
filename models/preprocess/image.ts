// Image preprocessing for ONNX vision models: bilinear resize (short side to size, then centre crop,
// as CLIP's processor does; or a plain stretch), scale to 0..1, normalise by mean/std, CHW layout.
import type { ImagePreprocess } from '../manifest/schema.js';

export interface RgbFrame {
  /** Packed RGB, 3 bytes per pixel, row-major. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

export function checkFrame(frame: RgbFrame): string | undefined {
  if (!Number.isInteger(frame.width) || !Number.isInteger(frame.height) || frame.width <= 0 || frame.height <= 0) return `frame size ${frame.width}x${frame.height} is not a positive integer size`;
  if (frame.rgb.length !== frame.width * frame.height * 3) return `frame of ${frame.width}x${frame.height} needs ${frame.width * frame.height * 3} RGB bytes, got ${frame.rgb.length}`;
  return undefined;
}

/** Channel order of sampleChw's output planes: RGB, or BGR for models trained on OpenCV's images (PaddleOCR). */
export type ChannelOrder = 'rgb' | 'bgr';

/**
 * Samples a frame into out[offset..] as CHW planes of outW x outH. The source window (sx0, sy0, sw, sh)
 * is mapped onto the output; values become (v/255 - mean) / std. With `order` 'bgr' plane c reads
 * the frame's channel 2 - c (mean and std stay per output plane), so no BGR copy of the frame is made.
 */
export function sampleChw(frame: RgbFrame, out: Float32Array, offset: number, outW: number, outH: number, window: { x: number; y: number; w: number; h: number }, mean: readonly number[], std: readonly number[], order: ChannelOrder = 'rgb'): void {
  const { rgb, width, height } = frame;
  const bgr = order === 'bgr';
  const plane = outW * outH;
  const sx = window.w / outW;
  const sy = window.h / outH;
  const scale = [1 / (255 * (std[0] ?? 1)), 1 / (255 * (std[1] ?? 1)), 1 / (255 * (std[2] ?? 1))] as const;
  const shift = [(mean[0] ?? 0) / (std[0] ?? 1), (mean[1] ?? 0) / (std[1] ?? 1), (mean[2] ?? 0) / (std[2] ?? 1)] as const;
  for (let y = 0; y < outH; y += 1) {
    const fy = Math.min(Math.max(window.y + (y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x += 1) {
      const fx = Math.min(Math.max(window.x + (x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const i00 = (y0 * width + x0) * 3;
      const i01 = (y0 * width + x1) * 3;
      const i10 = (y1 * width + x0) * 3;
      const i11 = (y1 * width + x1) * 3;
      const o = offset + y * outW + x;
      for (let c = 0; c < 3; c += 1) {
        const k = bgr ? 2 - c : c;
        const top = (rgb[i00 + k] as number) * (1 - wx) + (rgb[i01 + k] as number) * wx;
        const bottom = (rgb[i10 + k] as number) * (1 - wx) + (rgb[i11 + k] as number) * wx;
        out[o + c * plane] = (top * (1 - wy) + bottom * wy) * scale[c]! - shift[c]!;
      }
    }
  }
}

/** Writes one preprocessed image (3 x size x size floats) into out at offset. */
export function preprocessImage(frame: RgbFrame, spec: ImagePreprocess, out: Float32Array, offset: number): void {
  const { width, height } = frame;
  let window = { x: 0, y: 0, w: width, h: height };
  if (spec.crop === 'center') {
    const side = Math.min(width, height);
    window = { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side };
  }
  sampleChw(frame, out, offset, spec.size, spec.size, window, spec.mean, spec.std);
}

/** A rectangle of a frame in whole pixels, inside it. */
export interface PixelWindow {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Writes a frame (or a window of it) stretched to size x size as HWC floats 0..255 into out at offset, resampled the
 * way TF.js's resizeBilinear does by default (no half-pixel centres, no corner alignment: output
 * pixel x reads source x * width / size), which is what the TF.js detectors were fed.
 */
export function stretchHwc(frame: RgbFrame, size: number, out: Float32Array, offset: number, window?: PixelWindow): void {
  const { rgb, width, height } = frame;
  // A window (a crop for the detector) is sampled the same way, from its own origin.
  const { x: ox, y: oy, w: ww, h: wh } = window ?? { x: 0, y: 0, w: width, h: height };
  const sx = ww / size;
  const sy = wh / size;
  // The source columns and weights are the same on every row: worked out once per call, they take
  // the floors and clamps out of the per-pixel loop (this runs on 262,144 pixels per detector input).
  const left = new Int32Array(size);
  const right = new Int32Array(size);
  const weight = new Float32Array(size);
  for (let x = 0; x < size; x += 1) {
    const fx = ox + x * sx;
    const x0 = Math.min(Math.floor(fx), width - 1);
    left[x] = x0 * 3;
    right[x] = Math.min(x0 + 1, width - 1) * 3;
    weight[x] = fx - x0;
  }
  for (let y = 0; y < size; y += 1) {
    const fy = oy + y * sy;
    const y0 = Math.min(Math.floor(fy), height - 1);
    const top0 = y0 * width * 3;
    const bottom0 = Math.min(y0 + 1, height - 1) * width * 3;
    const wy = fy - y0;
    let o = offset + y * size * 3;
    for (let x = 0; x < size; x += 1) {
      const i00 = top0 + (left[x] as number);
      const i01 = top0 + (right[x] as number);
      const i10 = bottom0 + (left[x] as number);
      const i11 = bottom0 + (right[x] as number);
      const wx = weight[x] as number;
      for (let c = 0; c < 3; c += 1) {
        const a = rgb[i00 + c] as number;
        const b = rgb[i10 + c] as number;
        const top = a + ((rgb[i01 + c] as number) - a) * wx;
        out[o + c] = top + (b + ((rgb[i11 + c] as number) - b) * wx - top) * wy;
      }
      o += 3;
    }
  }
}
