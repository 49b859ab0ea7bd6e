// The cheap change signal: a small grey copy of each keyframe, compared pixel by pixel with another
// small grey picture (the stream's running background, or the picture a model last ran on). No
// model: about a millisecond per 640x360 keyframe, and it decides whether the expensive ones run.

export interface GreyFrame {
  grey: Uint8Array;
  width: number;
  height: number;
}

/** A grey copy `width` pixels wide (height by the frame's aspect), each pixel the mean of its block of the frame. */
export function greyCopy(frame: { rgb: Uint8Array; width: number; height: number }, width: number): GreyFrame {
  const w = Math.max(1, Math.min(width, frame.width));
  const h = Math.max(1, Math.round((frame.height * w) / frame.width));
  const sums = new Uint32Array(w * h);
  const counts = new Uint32Array(w * h);
  const { rgb } = frame;
  // A block of 10x10 frame pixels is well described by every other row and column: a quarter of the work.
  const step = Math.max(1, Math.floor(Math.min(frame.width / w, frame.height / h) / 4));
  const cellOfX = new Uint32Array(frame.width);
  for (let x = 0; x < frame.width; x += 1) cellOfX[x] = Math.min(w - 1, Math.floor((x * w) / frame.width));
  for (let y = 0; y < frame.height; y += step) {
    const row = Math.min(h - 1, Math.floor((y * h) / frame.height)) * w;
    const base = y * frame.width * 3;
    for (let x = 0; x < frame.width; x += step) {
      const i = base + x * 3;
      const cell = row + (cellOfX[x] as number);
      // Integer luma (BT.601 weights / 256): the grey an eye would see, without floats per pixel.
      sums[cell] = (sums[cell] as number) + (((rgb[i] as number) * 77 + (rgb[i + 1] as number) * 150 + (rgb[i + 2] as number) * 29) >> 8);
      counts[cell] = (counts[cell] as number) + 1;
    }
  }
  const grey = new Uint8Array(w * h);
  for (let c = 0; c < grey.length; c += 1) grey[c] = Math.round((sums[c] as number) / Math.max(1, counts[c] as number));
  return { grey, width: w, height: h };
}

type Comparable = { width: number; height: number; grey?: ArrayLike<number>; mean?: ArrayLike<number> };

/**
 * Per pixel of `a`, whether it differs from `b` by more than pixelThreshold grey levels, after a
 * small median difference (up to twice the threshold) is taken out: a camera's auto exposure or a
 * cloud shifts the whole picture at once, which is not a change in what is there. Undefined when
 * the pictures differ in size (they differ wholly).
 */
function changedPixels(a: GreyFrame, b: Comparable, pixelThreshold: number): Uint8Array | undefined {
  const other = b.grey ?? b.mean;
  const n = a.grey.length;
  if (!other || a.width !== b.width || a.height !== b.height || other.length !== n || n === 0) return undefined;
  const diffs = new Int16Array(n);
  const histogram = new Uint32Array(511);
  for (let i = 0; i < n; i += 1) {
    const d = Math.round((a.grey[i] as number) - (other[i] as number));
    diffs[i] = d;
    histogram[d + 255] = (histogram[d + 255] as number) + 1;
  }
  let median = -255;
  for (let seen = 0, v = 0; v < histogram.length; v += 1) {
    seen += histogram[v] as number;
    if (seen * 2 >= n) {
      median = v - 255;
      break;
    }
  }
  // Only a shift of the size auto exposure makes between two keyframes is taken out; a bigger one
  // (lights switched on, a cut to another scene of another colour) is a change of the picture.
  const shift = Math.abs(median) <= 2 * pixelThreshold ? median : 0;
  const changed = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) if (Math.abs((diffs[i] as number) - shift) > pixelThreshold) changed[i] = 1;
  return changed;
}

/** Fraction (0..1) of pixels of `a` that changed against `b` (changedPixels); pictures of different sizes differ wholly. */
export function changedArea(a: GreyFrame, b: Comparable, pixelThreshold: number): number {
  const changed = changedPixels(a, b, pixelThreshold);
  if (!changed) return 1;
  let count = 0;
  for (let i = 0; i < changed.length; i += 1) count += changed[i] as number;
  return count / changed.length;
}

/**
 * Where `a` changed against `b`: the box around every changed pixel, [x0, y0, x1, y1) in pixels of
 * the grey copy; null when nothing changed, the whole picture when the sizes differ.
 */
export function changedBox(a: GreyFrame, b: Comparable, pixelThreshold: number): [number, number, number, number] | null {
  const changed = changedPixels(a, b, pixelThreshold);
  if (!changed) return [0, 0, a.width, a.height];
  let x0 = a.width, y0 = a.height, x1 = 0, y1 = 0;
  for (let y = 0; y < a.height; y += 1) {
    for (let x = 0; x < a.width; x += 1) {
      if (!changed[y * a.width + x]) continue;
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x + 1 > x1) x1 = x + 1;
      if (y + 1 > y1) y1 = y + 1;
    }
  }
  return x1 > x0 ? [x0, y0, x1, y1] : null;
}

/**
 * Where `a` changed against `b`, as separate places: the box of each group of changed pixels
 * ([x0, y0, x1, y1) in pixels of the grey copy), pixels up to `join` pixels apart counting as one
 * group. A car that moved between two reads changes two places, its old and its new one, and a
 * model that looks only where the picture changed (OCR's text detection) needs to look at those two,
 * not at the box around both. Empty when nothing changed; the whole picture when the sizes differ.
 */
export function changedRegions(a: GreyFrame, b: Comparable, pixelThreshold: number, join = 1): [number, number, number, number][] {
  const changed = changedPixels(a, b, pixelThreshold);
  if (!changed) return [[0, 0, a.width, a.height]];
  const { width, height } = a;
  const regions: [number, number, number, number][] = [];
  const stack: number[] = [];
  for (let start = 0; start < changed.length; start += 1) {
    if (changed[start] !== 1) continue;
    let x0 = width, y0 = height, x1 = 0, y1 = 0;
    changed[start] = 2; // 2: already in a group
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      const x = p % width;
      const y = (p - x) / width;
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x + 1 > x1) x1 = x + 1;
      if (y + 1 > y1) y1 = y + 1;
      for (let ny = Math.max(0, y - join - 1); ny <= Math.min(height - 1, y + join + 1); ny += 1) {
        for (let nx = Math.max(0, x - join - 1); nx <= Math.min(width - 1, x + join + 1); nx += 1) {
          const q = ny * width + nx;
          if (changed[q] !== 1) continue;
          changed[q] = 2;
          stack.push(q);
        }
      }
    }
    regions.push([x0, y0, x1, y1]);
  }
  return regions;
}

/** Folds a keyframe into a running background average (in place); a new size starts it afresh. */
export function foldBackground(background: { mean: Float32Array; width: number; height: number } | undefined, frame: GreyFrame, alpha: number): { mean: Float32Array; width: number; height: number } {
  if (!background || background.width !== frame.width || background.height !== frame.height || background.mean.length !== frame.grey.length) {
    return { mean: Float32Array.from(frame.grey), width: frame.width, height: frame.height };
  }
  const { mean } = background;
  for (let i = 0; i < mean.length; i += 1) mean[i] = (mean[i] as number) + alpha * ((frame.grey[i] as number) - (mean[i] as number));
  return background;
}
