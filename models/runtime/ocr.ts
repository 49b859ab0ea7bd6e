// PaddleOCR v4: DB text detection (probability map -> connected regions -> expanded boxes) and CTC
// recognition with ppocr_keys_v1.txt. Inputs are BGR, as PaddleOCR reads images with OpenCV
// (sampled straight from the RGB frame in that order).
// Boxes are axis-aligned (frames from cameras and overlays are rarely rotated text).
import { readFileSync } from 'node:fs';
import type * as ortTypes from 'onnxruntime-node';
import { sampleChw, type RgbFrame } from '../preprocess/image.js';
import { ort } from './session.js';
import { throwIfAborted } from './errors.js';

export interface OcrLine {
  text: string;
  confidence: number;
  box: [number, number, number, number];
  /** A coarse grey picture of the line's crop, to tell whether the same box still shows the same text. */
  fingerprint?: Uint8Array;
  /** True when this reading was taken over from an earlier one (same box, same pixels) without recognising it again. */
  reused?: boolean;
}

const PRINT_ROWS = 8;
const PRINT_COLS = 32;
/** Overlap two boxes need to be the same text line. */
const SAME_BOX_IOU = 0.85;
/** Largest difference of one fingerprint cell (grey levels 0-255) that is still the same text. */
const SAME_PRINT = 12;

/** Mean grey of the crop (CHW, -1..1) over a PRINT_ROWS x PRINT_COLS grid, as 0-255. */
function fingerprint(crop: Float32Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(PRINT_ROWS * PRINT_COLS);
  const sums = new Float64Array(out.length);
  const counts = new Uint32Array(out.length);
  const plane = width * height;
  for (let y = 0; y < height; y += 1) {
    const r = Math.min(PRINT_ROWS - 1, Math.floor((y * PRINT_ROWS) / height));
    for (let x = 0; x < width; x += 1) {
      const cell = r * PRINT_COLS + Math.min(PRINT_COLS - 1, Math.floor((x * PRINT_COLS) / width));
      const p = y * width + x;
      sums[cell] = (sums[cell] as number) + ((crop[p] as number) + (crop[plane + p] as number) + (crop[2 * plane + p] as number)) / 3;
      counts[cell] = (counts[cell] as number) + 1;
    }
  }
  for (let c = 0; c < out.length; c += 1) out[c] = Math.round((((sums[c] as number) / Math.max(1, counts[c] as number)) + 1) * 127.5);
  return out;
}

function iou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2] as number, b[2] as number) - Math.max(a[0] as number, b[0] as number));
  const iy = Math.max(0, Math.min(a[3] as number, b[3] as number) - Math.max(a[1] as number, b[1] as number));
  const inter = ix * iy;
  const area = (r: readonly number[]) => ((r[2] as number) - (r[0] as number)) * ((r[3] as number) - (r[1] as number));
  return inter > 0 ? inter / (area(a) + area(b) - inter) : 0;
}

/** An earlier line this box can take its reading from: the same place and the same pixels. */
function sameLine(previous: readonly OcrLine[], box: readonly number[], print: Uint8Array): OcrLine | undefined {
  return previous.find((line) => {
    if (!line.fingerprint || line.fingerprint.length !== print.length || iou(line.box, box) < SAME_BOX_IOU) return false;
    for (let i = 0; i < print.length; i += 1) if (Math.abs((print[i] as number) - (line.fingerprint[i] as number)) > SAME_PRINT) return false;
    return true;
  });
}

export interface OcrOptions {
  detMean: [number, number, number];
  detStd: [number, number, number];
  detMaxSide: number;
  detThreshold: number;
  boxThreshold: number;
  unclipRatio: number;
  recHeight: number;
}

export function readDictionary(path: string): string[] {
  const keys = readFileSync(path, 'utf8').split(/\r?\n/);
  if (keys[keys.length - 1] === '') keys.pop();
  // index 0 is the CTC blank; the last class is the space PaddleOCR appends (use_space_char)
  return ['', ...keys, ' '];
}

export class PaddleOcr {
  constructor(
    private readonly det: ortTypes.InferenceSession,
    private readonly recognise: (crops: Float32Array[], widths: number[], signal?: AbortSignal) => Promise<{ text: string; confidence: number }[]>,
    private readonly options: OcrOptions,
  ) {}

  /**
   * Text lines on a frame. With `previous` (an earlier reading of the same camera), a detected box
   * whose place and pixels match a previous line keeps that line's text: only boxes where the text
   * detection changed go through the recogniser. With `regions` as well (frame pixels where the
   * picture changed since `previous` was read, one box per changed place), text detection runs on
   * those parts of the frame only (each grown to whole previous lines it touches and a margin;
   * windows that overlap are joined); previous lines clear of every window are kept. Text detection
   * costs about its input's area, so a car crossing a fifth of a still camera's picture costs about
   * a fifth of a full read, and one that moved from one side to the other costs its two places.
   */
  async read(frame: RgbFrame, signal?: AbortSignal, previous: readonly OcrLine[] = [], regions?: readonly (readonly [number, number, number, number])[]): Promise<OcrLine[]> {
    const o = this.options;
    const scale = Math.min(1, o.detMaxSide / Math.max(frame.width, frame.height));
    const windows = regions && regions.length > 0 ? detectionWindows(regions, previous, frame, scale) : undefined;
    const looked = windows ?? [{ x: 0, y: 0, w: frame.width, h: frame.height }];
    // Lines clear of the windows were read on a picture that has not changed there.
    const kept = windows ? previous.filter((line) => !windows.some((win) => touches(line.box, win))).map((line) => ({ ...line, reused: true })) : [];
    const boxes: [number, number, number, number][] = [];
    for (const win of looked) {
      const w = Math.max(32, Math.round((win.w * scale) / 32) * 32);
      const h = Math.max(32, Math.round((win.h * scale) / 32) * 32);
      const input = new Float32Array(3 * w * h);
      sampleChw(frame, input, 0, w, h, win, o.detMean, o.detStd, 'bgr');
      throwIfAborted(signal);
      const out = await this.det.run({ x: new ort.Tensor('float32', input, [1, 3, h, w]) });
      const prob = Object.values(out)[0]!.data as Float32Array;
      const sx = win.w / w;
      const sy = win.h / h;
      for (const [x0, y0, x1, y1] of dbBoxes(prob, w, h, o)) {
        boxes.push([Math.max(0, Math.floor(win.x + x0 * sx)), Math.max(0, Math.floor(win.y + y0 * sy)), Math.min(frame.width, Math.ceil(win.x + x1 * sx)), Math.min(frame.height, Math.ceil(win.y + y1 * sy))]);
      }
    }
    const crops: Float32Array[] = [];
    const widths: number[] = [];
    const prints: Uint8Array[] = [];
    const reused: (OcrLine | undefined)[] = [];
    const toRecognise: number[] = [];
    for (const [i, [x0, y0, x1, y1]] of boxes.entries()) {
      const bw = x1 - x0;
      const bh = y1 - y0;
      const cw = Math.max(8, Math.min(1600, Math.round((o.recHeight * bw) / Math.max(bh, 1))));
      const crop = new Float32Array(3 * o.recHeight * cw);
      sampleChw(frame, crop, 0, cw, o.recHeight, { x: x0, y: y0, w: bw, h: bh }, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 'bgr');
      const print = fingerprint(crop, cw, o.recHeight);
      prints.push(print);
      reused.push(previous.length > 0 ? sameLine(previous, boxes[i] as number[], print) : undefined);
      if (reused[i]) continue;
      toRecognise.push(i);
      crops.push(crop);
      widths.push(cw);
    }
    const recognised = crops.length > 0 ? await this.recognise(crops, widths, signal) : [];
    const texts: ({ text: string; confidence: number } | undefined)[] = reused.map((line) => (line ? { text: line.text, confidence: line.confidence } : undefined));
    toRecognise.forEach((index, j) => (texts[index] = recognised[j]));
    const lines: OcrLine[] = [];
    boxes.forEach((box, i) => {
      const t = texts[i];
      if (t && t.text.trim() !== '') lines.push({ text: t.text.trim(), confidence: t.confidence, box, fingerprint: prints[i] as Uint8Array, ...(reused[i] ? { reused: true } : {}) });
    });
    lines.push(...kept);
    return lines.sort((a, b) => (Math.abs(a.box[1] - b.box[1]) > 8 ? a.box[1] - b.box[1] : a.box[0] - b.box[0]));
  }
}

interface Window {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Frame pixels around a changed region that text detection needs to see: DB's receptive field reaches this far past an edge. */
const WINDOW_MARGIN = 16;
/** A window over this share of the frame costs about a full read: read it all then. */
const FULL_READ_SHARE = 0.6;

function touches(box: readonly number[], w: Window): boolean {
  return (box[0] as number) < w.x + w.w && (box[2] as number) > w.x && (box[1] as number) < w.y + w.h && (box[3] as number) > w.y;
}

/**
 * The part of the frame text detection looks at for a changed region: the region with a margin,
 * grown until no previous line is cut by its edge (a line partly inside is read again whole),
 * sized to a whole number of the detector's 32-pixel cells; undefined when that is most of the frame.
 */
export function detectionWindow(region: readonly [number, number, number, number], previous: readonly OcrLine[], frame: { width: number; height: number }, scale: number): Window | undefined {
  let [x0, y0, x1, y1] = [region[0] - WINDOW_MARGIN, region[1] - WINDOW_MARGIN, region[2] + WINDOW_MARGIN, region[3] + WINDOW_MARGIN];
  for (let grown = true; grown; ) {
    grown = false;
    for (const line of previous) {
      const [a, b, c, d] = line.box;
      if (!touches(line.box, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }) || (a >= x0 && b >= y0 && c <= x1 && d <= y1)) continue;
      [x0, y0, x1, y1] = [Math.min(x0, a - WINDOW_MARGIN), Math.min(y0, b - WINDOW_MARGIN), Math.max(x1, c + WINDOW_MARGIN), Math.max(y1, d + WINDOW_MARGIN)];
      grown = true;
    }
  }
  x0 = Math.max(0, x0);
  y0 = Math.max(0, y0);
  x1 = Math.min(frame.width, x1);
  y1 = Math.min(frame.height, y1);
  // Whole cells at the detection scale, grown to the right/bottom and then left/top within the frame.
  const cell = 32 / scale;
  const fit = (from: number, to: number, limit: number): [number, number] => {
    const size = Math.min(limit, Math.ceil((to - from) / cell) * cell);
    const end = Math.min(limit, from + size);
    return [Math.max(0, end - size), end];
  };
  [x0, x1] = fit(x0, x1, frame.width);
  [y0, y1] = fit(y0, y1, frame.height);
  if (x1 <= x0 || y1 <= y0 || (x1 - x0) * (y1 - y0) > FULL_READ_SHARE * frame.width * frame.height) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * The parts of the frame text detection looks at for several changed regions: a window per region
 * (detectionWindow), windows that overlap or touch joined into the window of their regions' union,
 * until none do; undefined (read it all) when one of them, or all together, cover most of the frame.
 */
export function detectionWindows(regions: readonly (readonly [number, number, number, number])[], previous: readonly OcrLine[], frame: { width: number; height: number }, scale: number): Window[] | undefined {
  const places = regions.map((r) => [...r] as [number, number, number, number]);
  const windows: Window[] = [];
  for (const place of places) {
    const window = detectionWindow(place, previous, frame, scale);
    if (!window) return undefined;
    windows.push(window);
  }
  // Only a joined place's window changes: it is computed again, the others are kept.
  for (let joined = true; joined; ) {
    joined = false;
    for (let i = 0; i < windows.length && !joined; i += 1) {
      for (let j = i + 1; j < windows.length && !joined; j += 1) {
        const a = windows[i] as Window;
        const b = windows[j] as Window;
        if (a.x > b.x + b.w || b.x > a.x + a.w || a.y > b.y + b.h || b.y > a.y + a.h) continue;
        const [p, q] = [places[i] as number[], places[j] as number[]];
        places[i] = [Math.min(p[0] as number, q[0] as number), Math.min(p[1] as number, q[1] as number), Math.max(p[2] as number, q[2] as number), Math.max(p[3] as number, q[3] as number)];
        const window = detectionWindow(places[i] as [number, number, number, number], previous, frame, scale);
        if (!window) return undefined;
        windows[i] = window;
        places.splice(j, 1);
        windows.splice(j, 1);
        joined = true;
      }
    }
  }
  const area = windows.reduce((sum, w) => sum + w.w * w.h, 0);
  return area > FULL_READ_SHARE * frame.width * frame.height ? undefined : windows;
}

/** DB post-processing on a probability map: regions above detThreshold whose mean is above boxThreshold, expanded by unclipRatio. */
export function dbBoxes(prob: Float32Array, w: number, h: number, o: Pick<OcrOptions, 'detThreshold' | 'boxThreshold' | 'unclipRatio'>): [number, number, number, number][] {
  const seen = new Uint8Array(w * h);
  const boxes: [number, number, number, number][] = [];
  const stack: number[] = [];
  for (let start = 0; start < w * h; start += 1) {
    if (seen[start] || (prob[start] as number) <= o.detThreshold) continue;
    let minX = w, minY = h, maxX = 0, maxY = 0, sum = 0, n = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop() as number;
      const x = p % w;
      const y = (p - x) / w;
      sum += prob[p] as number;
      n += 1;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const neighbours = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of neighbours) {
        if (q >= 0 && !seen[q] && (prob[q] as number) > o.detThreshold) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    const bw = maxX - minX + 1;
    const bh = maxY - minY + 1;
    if (Math.min(bw, bh) < 3 || sum / n < o.boxThreshold) continue;
    // unclip: grow the shrunk kernel by area * ratio / perimeter, as DB's Vatti offset does for rectangles
    const d = (bw * bh * o.unclipRatio) / (2 * (bw + bh));
    boxes.push([minX - d, minY - d, maxX + 1 + d, maxY + 1 + d]);
  }
  return boxes;
}

// Punctuation sits in wide cells in monospace fonts, so a space next to it needs twice the gap.
const isAlnum = (c: string) => /[0-9A-Za-z]/.test(c.normalize('NFKC'));
const isAsciiWordChar = (c: string) => c.charCodeAt(0) < 128 || /[\uff01-\uff5e]/.test(c);

/**
 * Finds blank columns in a recognition crop (CHW, values in -1..1): a column is ink when any pixel
 * differs from the crop's border colour. Returns gapAt(stepA, stepB): whether the widest blank run
 * between the two CTC steps is at least minGap pixels wide.
 */
export function inkGaps(crop: Float32Array, width: number, height: number, steps: number, minGap: number): (a: number, b: number, scale: number) => boolean {
  const plane = width * height;
  const lum = (x: number, y: number) => ((crop[y * width + x] as number) + (crop[plane + y * width + x] as number) + (crop[2 * plane + y * width + x] as number)) / 3;
  let bg = 0;
  for (let x = 0; x < width; x += 1) bg += lum(x, 0) + lum(x, height - 1);
  bg /= 2 * width;
  const ink = new Uint8Array(width);
  for (let x = 0; x < width; x += 1) {
    for (let y = 0; y < height; y += 1) {
      if (Math.abs(lum(x, y) - bg) > 0.35) {
        ink[x] = 1;
        break;
      }
    }
  }
  const perStep = width / steps;
  return (a, b, scale) => {
    const from = Math.floor((a + 0.5) * perStep);
    const to = Math.min(width, Math.ceil((b + 0.5) * perStep));
    let run = 0;
    for (let x = from; x < to; x += 1) {
      run = ink[x] ? 0 : run + 1;
      if (run >= minGap * scale) return true;
    }
    return false;
  };
}

/** Greedy CTC decoding: argmax per step, collapse repeats, drop blanks; NFKC turns full-width punctuation into ASCII. */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, dictionary: string[], batchIndex: number, gapAt?: (fromStep: number, toStep: number, scale: number) => boolean): { text: string; confidence: number } {
  let text = '';
  let lastStep = -1;
  let confSum = 0;
  let count = 0;
  let last = -1;
  const base = batchIndex * steps * classes;
  for (let t = 0; t < steps; t += 1) {
    let best = 0;
    let bestP = -Infinity;
    const row = base + t * classes;
    for (let c = 0; c < classes; c += 1) {
      const p = probs[row + c] as number;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== last) {
      const ch = dictionary[best] ?? '';
      // The Chinese-trained recogniser often drops the space between Latin words; put it back where
      // the crop shows a blank gap as wide as a space between two ASCII characters.
      const prev = text[text.length - 1];
      if (gapAt && prev !== undefined && prev !== ' ' && ch !== ' ' && isAsciiWordChar(prev) && isAsciiWordChar(ch) && gapAt(lastStep, t, isAlnum(prev) && isAlnum(ch) ? 1 : 2)) text += ' ';
      text += ch;
      lastStep = t;
      confSum += bestP;
      count += 1;
    }
    last = best;
  }
  return { text: text.normalize('NFKC'), confidence: count > 0 ? confSum / count : 0 };
}
