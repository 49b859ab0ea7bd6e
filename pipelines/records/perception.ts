// A perception record: everything the models saw and heard in one chunk, as perceive appends it
// to the stream's short-term memory and segment reads it back. Vectors stay Float32Array in
// memory and travel as base64 of their bytes, a third of the size of JSON numbers.
import type { Detection, KeyframeFace, OcrLine, TranscriptSpan, VectorsBySpace } from './event.js';

/** The space id under which the always-available visual signature is compared. */
export const SIGNATURE_SPACE = 'visual-signature';

export interface PerceivedKeyframe {
  /** Stream seconds. */
  t: number;
  /** One vector per installed image embedding space. */
  vectors: VectorsBySpace;
  /** The visual signature (downsampled grid and colour statistics); present for every keyframe. */
  signature: Float32Array | number[];
  /** Blob path, relative to the blobs directory, of the keyframe's JPEG thumbnail. */
  thumbnail: string | null;
  /** Lines read on this keyframe; null when OCR did not run on it (rate limit, unchanged picture, no model). */
  ocr: OcrLine[] | null;
  /** Objects found on this keyframe; null when the detector did not run (disabled, not installed). */
  detections?: Detection[] | null;
  /** Faces that passed the quality gate; null when the face stage did not run (off, models missing). */
  faces?: KeyframeFace[] | null;
  /**
   * The cheap change signal (pipelines/perceive/change-signal.ts): the fraction of the small grey
   * copy of this keyframe that differs from the stream's running background, 0..1; null on the
   * stream's first keyframe (no background yet).
   */
  change?: number | null;
  /**
   * Models gated out on this keyframe (nothing changed since they last ran and their refresh
   * interval had not passed), by gate name ('detect', 'ocr', 'image'), with the stream time of the
   * keyframe whose result was carried forward into this one. Absent or empty: every model ran.
   */
  carried?: Record<string, number>;
}

export interface SpeechSpan {
  /** Stream seconds. */
  start: number;
  end: number;
}

export interface AudioWindowVectors {
  /** Stream seconds at the window's start. */
  t: number;
  vectors: VectorsBySpace;
}

export interface PerceivedAudio {
  /** Stream seconds at the start of the first level window. */
  levelsStart: number;
  /** Length of one level window, seconds. */
  levelWindow: number;
  /** RMS level of each window in dBFS (-Infinity is stored as -120). */
  levels: Float32Array | number[];
  /** Audio embedding vectors per window, per installed audio space. */
  windows: AudioWindowVectors[];
  /** Voice activity inside this chunk, stream seconds. */
  speech: SpeechSpan[];
  /** Transcribed speech, stream seconds; empty without a speech model. */
  transcript: TranscriptSpan[];
  /** True when voice activity was not run because the whole chunk was below the quiet floor (perceive.gating.vad.quietDbfs). */
  quiet?: boolean;
}

export interface PerceptionRecord {
  stream: string;
  /** The chunk's sequence number: records are consumed in this order. */
  seq: number;
  /** Stream seconds. */
  start: number;
  end: number;
  /** Wall-clock epoch ms at `start`. */
  wallStart: number;
  keyframes: PerceivedKeyframe[];
  /** Null for video-only sources. */
  audio: PerceivedAudio | null;
  /** Seconds of media missing just before this record (a reconnect, a dropped sequence); 0 when none. */
  gapBefore: number;
  /** The last record of a finite stream. */
  final: boolean;
}

const F32_TAG = '$f32';
const U8_TAG = '$u8';

function f32ToBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function base64ToF32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  // Copy into a fresh, aligned buffer: a Buffer's offset into its pool need not be a multiple of 4.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** JSON with every Float32Array as {"$f32": base64} and Uint8Array as {"$u8": base64}; used for records, segmenter and gating state alike. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float32Array) return { [F32_TAG]: f32ToBase64(v) };
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return { [U8_TAG]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    if (typeof v === 'number' && !Number.isFinite(v)) return v > 0 ? 1e308 : -1e308;
    return v;
  });
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && F32_TAG in v && typeof (v as Record<string, unknown>)[F32_TAG] === 'string') {
      return base64ToF32((v as Record<string, string>)[F32_TAG] as string);
    }
    if (v !== null && typeof v === 'object' && U8_TAG in v && typeof (v as Record<string, unknown>)[U8_TAG] === 'string') {
      return new Uint8Array(Buffer.from((v as Record<string, string>)[U8_TAG] as string, 'base64'));
    }
    return v;
  }) as T;
}

export function encodeRecord(record: PerceptionRecord): string {
  return encodeJson(record);
}

export function decodeRecord(text: string): PerceptionRecord {
  return decodeJson<PerceptionRecord>(text);
}
