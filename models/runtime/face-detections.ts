// BlazeFace output to faces: the 896 anchors of the 256x256 model (strides 16 and 32, 2 and 6
// anchors per cell, as @vladmandic/human generates them), box and eye/nose/mouth/ear keypoint
// regressors relative to their anchor, sigmoid scores and non-maximum suppression. Pure, so it is
// tested on hand-made rows.
import { boxIou } from './detections.js';

/** One face on a frame, in the frame's pixels. */
export interface FaceBox {
  score: number;
  /** [x1, y1, x2, y2]. */
  box: [number, number, number, number];
  /** Six points [x, y]: right eye, left eye, nose, mouth, right ear, left ear (the subject's sides). */
  landmarks: [number, number][];
}

export interface FaceDecodeOptions {
  minScore: number;
  nmsIou: number;
  maxFaces: number;
}

/** Anchor centres in input pixels, in the order the model's two heads (512 then 384) emit them. */
export function blazefaceAnchors(size: number): Float32Array {
  const spec = [
    { stride: size / 16, perCell: 2 },
    { stride: size / 8, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of spec) {
    const cells = Math.floor((size + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy += 1) {
      for (let gx = 0; gx < cells; gx += 1) {
        for (let n = 0; n < perCell; n += 1) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Decodes one frame's rows: `scores` holds one logit per anchor, `regressors` 16 values per anchor
 * (dx, dy, w, h, then six keypoints dx, dy), all in the size x size input the frame was stretched to.
 */
export function decodeFaces(scores: Float32Array, regressors: Float32Array, anchors: Float32Array, size: number, frame: { width: number; height: number }, options: FaceDecodeOptions): FaceBox[] {
  const sx = frame.width / size;
  const sy = frame.height / size;
  const n = anchors.length / 2;
  const candidates: FaceBox[] = [];
  for (let i = 0; i < n; i += 1) {
    const score = sigmoid(scores[i] as number);
    if (!(score >= options.minScore)) continue;
    const r = i * 16;
    const ax = anchors[i * 2] as number;
    const ay = anchors[i * 2 + 1] as number;
    const cx = (regressors[r] as number) + ax;
    const cy = (regressors[r + 1] as number) + ay;
    const w = regressors[r + 2] as number;
    const h = regressors[r + 3] as number;
    if (!(w > 0 && h > 0)) continue;
    const x1 = Math.max(0, (cx - w / 2) * sx);
    const y1 = Math.max(0, (cy - h / 2) * sy);
    const x2 = Math.min(frame.width, (cx + w / 2) * sx);
    const y2 = Math.min(frame.height, (cy + h / 2) * sy);
    if (x2 <= x1 || y2 <= y1) continue;
    const landmarks: [number, number][] = [];
    for (let k = 0; k < 6; k += 1) landmarks.push([((regressors[r + 4 + k * 2] as number) + ax) * sx, ((regressors[r + 5 + k * 2] as number) + ay) * sy]);
    candidates.push({ score, box: [x1, y1, x2, y2], landmarks });
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  for (const c of candidates) {
    if (kept.length >= options.maxFaces) break;
    if (kept.some((k) => boxIou(k.box, c.box) > options.nmsIou)) continue;
    kept.push(c);
  }
  return kept;
}
