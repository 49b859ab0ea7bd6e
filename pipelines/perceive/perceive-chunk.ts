// Perception of one chunk: runs every installed model that applies and returns the perception
// record. Stateless except for the OCR rate limit, which lives in short-term memory so any number
// of perceive processes share it. Cross-stream batching happens below, in the model runtime's
// micro-batcher, which groups the calls of every chunk in flight in this process.
import type { DetectOptions, PerceiveOptions } from '../../config/schema.js';
import type { Chunk } from '../records/chunk.js';
import { AUDIO_RATE } from '../records/chunk.js';
import type { Detection, OcrLine, TranscriptSpan } from '../records/event.js';
import { distance } from '../vectors.js';
import { SIGNATURE_SPACE, type PerceivedAudio, type PerceivedKeyframe, type PerceptionRecord, type SpeechSpan } from '../records/perception.js';

/** Audio kept around a speech span for the recogniser, seconds: word edges are soft. */
const SPEECH_PAD_SECONDS = 0.2;

interface Frame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** What perception needs from the model runtime (ModelRepository satisfies it). */
export interface PerceptionModels {
  spaces(): { id: string; modalities: string[] }[];
  status(): { task: string; installed: boolean }[];
  embedImages(space: string, frames: Frame[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedAudio(space: string, windows: Float32Array[], signal?: AbortSignal): Promise<Float32Array[]>;
  visualSignature(frame: Frame): Float32Array;
  audioLevels(pcm: Float32Array, sampleRate: number): { windows: { t: number; rmsDb: number }[] };
  detectSpeech(pcm: Float32Array, signal?: AbortSignal): Promise<SpeechSpan[]>;
  transcribe(pcm: Float32Array, signal?: AbortSignal): Promise<{ start: number; end: number; text: string }[] | undefined>;
  readText(frame: Frame, signal?: AbortSignal): Promise<{ text: string; confidence: number }[]>;
  /** Objects per frame, boxes in the frame's pixels (ModelRepository.detectObjects). */
  detectObjects?(frames: Frame[], filter: Omit<DetectOptions, 'enabled'>, signal?: AbortSignal): Promise<Detection[][]>;
}

/** Where OCR last ran for a stream, shared by all perceive processes. */
export interface TextReadMarks {
  lastTextRead(stream: string): Promise<{ t: number; signature: Float32Array } | undefined>;
  markTextRead(stream: string, t: number, signature: Float32Array): Promise<void>;
}

export interface PerceiveDeps {
  models: PerceptionModels;
  marks: TextReadMarks;
  /** Stores a keyframe's JPEG and returns its blob path (relative to the blobs directory). */
  saveThumbnail(stream: string, wallMs: number, jpeg: Buffer): Promise<string>;
  /** The `detect` config section; without it (or disabled, or no detector installed) no objects are detected. */
  detect?: DetectOptions;
}

function installed(models: PerceptionModels, task: string): boolean {
  return models.status().some((m) => m.task === task && m.installed);
}

/** A keyframe's detections stamped with the keyframe's size, so its boxes can be drawn over a thumbnail. */
function withFrame(detections: Detection[] | undefined, frame: { width: number; height: number }): Detection[] | null {
  if (!detections) return null;
  return detections.map((d) => ({ ...d, frame: [frame.width, frame.height] }));
}

/** Level window length, seconds, from the spacing of the windows the runtime returned. */
function windowLength(windows: { t: number }[], fallback: number): number {
  const [a, b] = windows;
  return a && b ? b.t - a.t : fallback;
}

export async function perceiveChunk(chunk: Chunk, options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal): Promise<PerceptionRecord> {
  const { models } = deps;
  const frames: Frame[] = chunk.keyframes.map((k) => ({ rgb: k.rgb, width: k.width, height: k.height }));
  const signatures = frames.map((f) => models.visualSignature(f));

  const imageSpaces = models.spaces().filter((s) => s.modalities.includes('image') && s.id !== SIGNATURE_SPACE);
  const audioSpaces = models.spaces().filter((s) => s.modalities.includes('audio'));
  const imageVectors = new Map<string, Float32Array[]>();
  const detect = deps.detect;
  const detecting = frames.length > 0 && detect?.enabled === true && models.detectObjects !== undefined && installed(models, 'object-detection');
  const [, audio, thumbnails, detections] = await Promise.all([
    frames.length === 0
      ? Promise.resolve()
      : Promise.all(imageSpaces.map(async (space) => imageVectors.set(space.id, await models.embedImages(space.id, frames, signal)))),
    perceiveAudio(chunk, audioSpaces, options, models, signal),
    Promise.all(chunk.keyframes.map((k) => deps.saveThumbnail(chunk.stream, Math.round(chunk.wallStart + (k.t - chunk.start) * 1000), k.jpeg))),
    detecting ? (models.detectObjects as NonNullable<PerceptionModels['detectObjects']>)(frames, detect as DetectOptions, signal) : Promise.resolve(undefined),
  ]);

  const ocr = await readTexts(chunk, signatures, options, deps, signal);

  const keyframes: PerceivedKeyframe[] = chunk.keyframes.map((k, i) => {
    const vectors: Record<string, Float32Array> = {};
    for (const [space, list] of imageVectors) vectors[space] = list[i] as Float32Array;
    return { t: k.t, vectors, signature: signatures[i] as Float32Array, thumbnail: thumbnails[i] ?? null, ocr: ocr[i] ?? null, detections: withFrame(detections?.[i], k) };
  });
  return {
    stream: chunk.stream,
    seq: chunk.seq,
    start: chunk.start,
    end: chunk.end,
    wallStart: chunk.wallStart,
    keyframes,
    audio,
    gapBefore: chunk.gapBefore ? Math.max(0, chunk.gapBefore.to - chunk.gapBefore.from) || 1e-3 : 0,
    final: chunk.final === true,
  };
}

/**
 * Whether keyframe i of a chunk is due for OCR at the configured rate: stream time is cut into
 * buckets of ocrIntervalSeconds, and the first keyframe at or after a bucket's start, in the chunk
 * that holds that start, is read. Decided from the chunk alone, so parallel perceive jobs of one
 * stream agree without talking to each other.
 */
export function ocrDue(chunk: Pick<Chunk, 'start' | 'end'> & { keyframes: { t: number; scene: boolean }[] }, i: number, options: PerceiveOptions): boolean {
  const k = chunk.keyframes[i];
  if (!k) return false;
  if (options.ocrOnSceneCut && k.scene) return true;
  const interval = options.ocrIntervalSeconds;
  if (interval <= 0) return true;
  const bucketStart = Math.floor(k.t / interval + 1e-9) * interval;
  if (bucketStart < chunk.start - 1e-9) return false;
  return !chunk.keyframes.some((other, j) => j !== i && other.t >= bucketStart && (other.t < k.t || (other.t === k.t && j < i)));
}

/**
 * OCR at the configured rate, skipping a due keyframe whose picture has not changed since the
 * stream's last read: the same picture carries the same text.
 */
async function readTexts(chunk: Chunk, signatures: Float32Array[], options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal): Promise<(OcrLine[] | null)[]> {
  const out: (OcrLine[] | null)[] = chunk.keyframes.map(() => null);
  if (!options.ocr || chunk.keyframes.length === 0 || !installed(deps.models, 'ocr')) return out;
  const due = chunk.keyframes.map((_k, i) => ocrDue(chunk, i, options));
  if (!due.some(Boolean)) return out;
  let last = await deps.marks.lastTextRead(chunk.stream);
  for (const [i, k] of chunk.keyframes.entries()) {
    if (!due[i]) continue;
    const signature = signatures[i] as Float32Array;
    // A mark from later stream time belongs to an earlier run or a chunk perceived out of order.
    if (last && k.t > last.t && distance(signature, last.signature) < options.ocrMinChange) continue;
    const lines = await deps.models.readText({ rgb: k.rgb, width: k.width, height: k.height }, signal);
    out[i] = lines.filter((l) => l.text.trim() !== '').map((l) => ({ t: k.t, text: l.text.trim(), confidence: l.confidence }));
    last = { t: k.t, signature };
    await deps.marks.markTextRead(chunk.stream, k.t, signature);
  }
  return out;
}

async function perceiveAudio(chunk: Chunk, audioSpaces: { id: string }[], options: PerceiveOptions, models: PerceptionModels, signal?: AbortSignal): Promise<PerceivedAudio | null> {
  const pcm = chunk.audio;
  if (!pcm || pcm.length === 0) return null;
  const levels = models.audioLevels(pcm, AUDIO_RATE).windows;
  const windows = await Promise.all(
    audioSpaces.map(async (space) => [space.id, (await models.embedAudio(space.id, [pcm], signal))[0] as Float32Array] as const),
  );
  // VAD runs per chunk with fresh state, so perceive stays stateless and parallel; spans cut at a
  // chunk edge are joined again by the segmenter.
  const speech: SpeechSpan[] = installed(models, 'voice-activity')
    ? (await models.detectSpeech(pcm, signal)).map((s) => ({ start: chunk.start + s.start, end: chunk.start + s.end }))
    : [];
  const transcript: TranscriptSpan[] = [];
  if (options.transcribe && speech.length > 0 && installed(models, 'speech-recognition')) {
    // Only the voiced spans (with a little air around them) go to the recogniser, and its
    // segment times are placed back on the stream's clock.
    for (const span of speech) {
      const from = Math.max(0, Math.floor((span.start - chunk.start - SPEECH_PAD_SECONDS) * AUDIO_RATE));
      const to = Math.min(pcm.length, Math.ceil((span.end - chunk.start + SPEECH_PAD_SECONDS) * AUDIO_RATE));
      if (to <= from) continue;
      const offset = chunk.start + from / AUDIO_RATE;
      for (const segment of (await models.transcribe(pcm.subarray(from, to), signal)) ?? []) {
        const text = segment.text.trim();
        if (text !== '') transcript.push({ start: offset + segment.start, end: Math.min(offset + segment.end, chunk.end), text });
      }
    }
  }
  return {
    levelsStart: chunk.start + (levels[0]?.t ?? 0),
    levelWindow: windowLength(levels, 0.5),
    levels: Float32Array.from(levels, (w) => Math.max(-120, w.rmsDb)),
    windows: windows.length > 0 ? [{ t: chunk.start, vectors: Object.fromEntries(windows) }] : [],
    speech,
    transcript,
  };
}
