// Faces of a batch of keyframes: detect, gate by score, size and sharpness, align, describe. The
// crops are encoded for the blob store here but stored by the caller, so this stays pure over the
// model runtime it is given.
import type { FacesOptions } from '../../config/schema.js';
import { encodeBmp, faceWindow, sampleFace, sharpness } from '../../models/preprocess/face-crop.js';
import type { FaceBox } from '../../models/runtime/face-detections.js';

interface Frame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** What face perception needs from the model runtime (ModelRepository satisfies it). */
export interface FaceModels {
  detectFaces(frames: Frame[], options: { minScore: number; nmsIou: number; maxFaces: number }, signal?: AbortSignal): Promise<FaceBox[][]>;
  faceDescriptorSize(): number | undefined;
  describeFaces(crops: Float32Array[], withAttributes?: boolean, signal?: AbortSignal): Promise<{ descriptor: Float32Array; age?: number; gender?: number }[]>;
}

export interface PerceivedFace {
  /** Index of the frame it was found on. */
  frame: number;
  score: number;
  box: [number, number, number, number];
  sharpness: number;
  descriptor: Float32Array;
  /** The aligned crop as a BMP, for the blob store and the people view. */
  crop: Buffer;
  age?: number;
  gender?: number;
}

/** Side of the stored crop, pixels: enough to recognise someone in the people view. */
const STORED_CROP = 112;

export async function perceiveFaces(frames: Frame[], options: FacesOptions, models: FaceModels, signal?: AbortSignal): Promise<PerceivedFace[]> {
  const size = models.faceDescriptorSize();
  if (!options.enabled || size === undefined || frames.length === 0) return [];
  const found = await models.detectFaces(frames, { minScore: options.minScore, nmsIou: options.nmsIou, maxFaces: options.maxPerFrame }, signal);
  const kept: Omit<PerceivedFace, 'descriptor'>[] = [];
  const crops: Float32Array[] = [];
  for (const [i, faces] of found.entries()) {
    const frame = frames[i] as Frame;
    for (const face of faces) {
      const [x1, y1, x2, y2] = face.box;
      if (Math.min(x2 - x1, y2 - y1) < options.minSize) continue;
      const win = faceWindow(face.box, face.landmarks[0] ?? [x1, y1], face.landmarks[1] ?? [x2, y1], options.cropScale);
      const crop = new Float32Array(size * size * 3);
      sampleFace(frame, win, size, crop, 0);
      const sharp = sharpness(crop, size);
      if (sharp < options.minSharpness) continue;
      const small = new Float32Array(STORED_CROP * STORED_CROP * 3);
      sampleFace(frame, win, STORED_CROP, small, 0);
      crops.push(crop);
      kept.push({ frame: i, score: Math.round(face.score * 1000) / 1000, box: face.box.map((v) => Math.round(v * 10) / 10) as [number, number, number, number], sharpness: Math.round(sharp * 100) / 100, crop: encodeBmp(small, STORED_CROP) });
    }
  }
  const described = await models.describeFaces(crops, options.attributes, signal);
  return kept.map((k, i) => ({ ...k, ...(described[i] as { descriptor: Float32Array; age?: number; gender?: number }) }));
}
