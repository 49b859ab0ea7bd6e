// Perception of one chunk: runs every installed model that applies and returns the perception
// record. Before any model, each keyframe gets a small grey copy and the cheap change signal; the
// expensive models (detector, image embeddings, OCR) run only where the picture changed since their
// last run on the stream or their refresh interval passed, and carry their last result elsewhere
// (gating.ts). That per-stream state lives in Redis (GateMarks), so any number of perceive
// processes share it. Cross-stream batching happens below, in the model runtime's micro-batcher,
// which groups the calls of every chunk in flight in this process.
import type { DetectOptions, FacesOptions, PerceiveOptions } from '../../config/schema.js';
import { perceiveFaces, type FaceModels } from '../faces/perceive-faces.js';
import type { Chunk } from '../records/chunk.js';
import { AUDIO_RATE } from '../records/chunk.js';
import type { Detection, KeyframeFace, OcrLine, TranscriptSpan } from '../records/event.js';
import type { GateMark, GateMarks, GateWrite } from '../records/gate-state.js';
import { observeGate } from '../metrics.js';
import { SIGNATURE_SPACE, type PerceivedAudio, type PerceivedKeyframe, type PerceptionRecord, type SpeechSpan } from '../records/perception.js';
import { changedBox, changedRegions, greyCopy, type GreyFrame } from './change-signal.js';
import { detectWindow, mergeWindow, type DetectWindow } from './detect-window.js';
import { markWrite, planGate, runGated, trackBackground, type GateDecision } from './gating.js';
import type { StreamLanes } from './stream-lanes.js';

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
  /**
   * Lines on a frame; `previous` lines whose box and pixels are unchanged keep their reading, and
   * with `regions` (frame pixels, one box per place where the picture changed since `previous` was
   * read) text is looked for only there, the previous lines elsewhere kept (ModelRepository.readText).
   */
  readText(frame: Frame, signal?: AbortSignal, previous?: readonly ReadLine[], regions?: readonly Box[]): Promise<ReadLine[]>;
  /** Objects per frame, boxes in the frame's pixels (ModelRepository.detectObjects). */
  detectObjects?(frames: Frame[], filter: Omit<DetectOptions, 'enabled'>, signal?: AbortSignal): Promise<Detection[][]>;
  /** Objects inside a window of each frame with the smaller crop graph, boxes in the frame's pixels (ModelRepository.detectObjectsIn). */
  detectObjectsIn?(items: { frame: Frame; window: DetectWindow }[], filter: Omit<DetectOptions, 'enabled'>, signal?: AbortSignal): Promise<Detection[][]>;
  /** Square input sides of the frame detector and its crop graph (crop undefined: none installed). */
  detectorSizes?(): { frame: number; crop: number | undefined } | undefined;
  /** Face detection and descriptors (ModelRepository); faceDescriptorSize() is undefined while blazeface or faceres is missing. */
  detectFaces?: FaceModels['detectFaces'];
  faceDescriptorSize?: FaceModels['faceDescriptorSize'];
  describeFaces?: FaceModels['describeFaces'];
}

/** [x0, y0, x1, y1] in frame pixels. */
type Box = [number, number, number, number];

/** A box on the grey copy, in the frame's pixels (rounded outwards). */
function inFrame(box: Box, grey: GreyFrame, frame: { width: number; height: number }): Box {
  const sx = frame.width / grey.width;
  const sy = frame.height / grey.height;
  return [Math.floor(box[0] * sx), Math.floor(box[1] * sy), Math.min(frame.width, Math.ceil(box[2] * sx)), Math.min(frame.height, Math.ceil(box[3] * sy))];
}

/** One line as the OCR runtime returns it: with its box and a fingerprint of its pixels, kept in the OCR gate's mark. */
export interface ReadLine {
  text: string;
  confidence: number;
  box?: [number, number, number, number];
  fingerprint?: Uint8Array;
  reused?: boolean;
}

export interface PerceiveDeps {
  models: PerceptionModels;
  /** The per-stream gating state (GateStore in Redis). */
  gates: GateMarks;
  /** Serialises the gated part of one stream's chunks in this process (StreamLanes); without it chunks do not wait for each other. */
  lanes?: StreamLanes;
  /** Stores a keyframe's JPEG and returns its blob path (relative to the blobs directory). */
  saveThumbnail(stream: string, wallMs: number, jpeg: Buffer): Promise<string>;
  /** The `detect` config section; without it (or disabled, or no detector installed) no objects are detected. */
  detect?: DetectOptions;
  /** The `faces` config section; without it (or disabled, or blazeface/faceres missing) no faces are looked for. */
  faces?: FacesOptions;
  /** Stores a face's aligned crop (BMP) and returns its blob path; needed with `faces`. */
  saveFaceCrop?(stream: string, wallMs: number, index: number, bmp: Buffer): Promise<string>;
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

interface GatedFrame {
  t: number;
  grey: GreyFrame;
}

export async function perceiveChunk(chunk: Chunk, options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal): Promise<PerceptionRecord> {
  const { models } = deps;
  const gating = options.gating;
  const frames: Frame[] = chunk.keyframes.map((k) => ({ rgb: k.rgb, width: k.width, height: k.height }));
  const signatures = frames.map((f) => models.visualSignature(f));
  // The change signal first: everything after it may be skipped because of it.
  const gated: GatedFrame[] = chunk.keyframes.map((k, i) => ({ t: k.t, grey: greyCopy(frames[i] as Frame, gating.width) }));
  const audioSpaces = models.spaces().filter((s) => s.modalities.includes('audio'));
  // Thumbnails and audio are not gated and do not wait for the stream's lane.
  const ungated = Promise.all([
    perceiveAudio(chunk, audioSpaces, options, models, signal),
    Promise.all(chunk.keyframes.map((k) => deps.saveThumbnail(chunk.stream, Math.round(chunk.wallStart + (k.t - chunk.start) * 1000), k.jpeg))),
  ]);
  ungated.catch(() => undefined); // awaited below; a rejection must not go unhandled while the lane waits
  const visual = () => perceiveGated(chunk, frames, gated, options, deps, signal);
  const [seen, [audio, thumbnails]] = await Promise.all([deps.lanes && frames.length > 0 ? deps.lanes.run(chunk.stream, visual) : visual(), ungated]);
  const { imageVectors, detections, ocr, faces, change, carried } = seen;

  const keyframes: PerceivedKeyframe[] = chunk.keyframes.map((k, i) => {
    const vectors: Record<string, Float32Array> = {};
    for (const [space, list] of imageVectors) vectors[space] = list[i] as Float32Array;
    const kept = carried[i] as Record<string, number>;
    return {
      t: k.t,
      vectors,
      signature: signatures[i] as Float32Array,
      thumbnail: thumbnails[i] ?? null,
      ocr: ocr[i] ?? null,
      detections: withFrame(detections?.[i] ?? undefined, k),
      change: change[i] ?? null,
      faces: faces?.[i] ?? null,
      ...(Object.keys(kept).length > 0 ? { carried: kept } : {}),
    };
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
 * The gated part of a chunk: load the stream's gating state, record the change signal, run or carry
 * the detector, image embeddings and OCR, and save the state.
 */
async function perceiveGated(chunk: Chunk, frames: Frame[], gated: GatedFrame[], options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal) {
  const { models } = deps;
  const gating = options.gating;
  const state = frames.length > 0 ? await deps.gates.loadGate(chunk.stream) : { marks: {} };
  const background = trackBackground(gated, state.background, gating);
  const writes: (GateWrite | undefined)[] = [background.write];
  const carried: Record<string, number>[] = chunk.keyframes.map(() => ({}));
  const noteCarried = (gate: string, from: (number | null)[], plan: GateDecision[]) => {
    from.forEach((t, i) => {
      if (t !== null) (carried[i] as Record<string, number>)[gate] = t;
    });
    observeGate(gate, 'ran', plan.filter((d) => d?.run).length);
    observeGate(gate, 'carried', from.filter((t) => t !== null).length);
  };
  const change = { pixelThreshold: gating.pixelThreshold, minArea: gating.minArea };
  const everyKeyframe = gated.map(() => true);

  const imageSpaces = models.spaces().filter((s) => s.modalities.includes('image') && s.id !== SIGNATURE_SPACE);
  const imageVectors = new Map<string, Float32Array[]>();
  const detect = deps.detect;
  // The crop graph alone (centernet-coco-320 without centernet-coco) is no detector: detectorSizes says so.
  const detecting = frames.length > 0 && detect?.enabled === true && models.detectObjects !== undefined && installed(models, 'object-detection') && (models.detectorSizes ? models.detectorSizes() !== undefined : true);
  const embed = async (space: string) => {
    const field = `image:${space}`;
    const mark = state.marks[field] as GateMark<Float32Array> | undefined;
    const plan = planGate(gated, everyKeyframe, mark, gating.image, change);
    const out = await runGated(field, gated, plan, mark, (indices) => models.embedImages(space, indices.map((i) => frames[i] as Frame), signal));
    imageVectors.set(space, out.results as Float32Array[]);
    writes.push(out.write);
    noteCarried('image', out.carriedFrom, plan);
  };
  const detectAll = async (): Promise<(Detection[] | null)[] | undefined> => {
    if (!detecting) return undefined;
    const mark = state.marks.detect as GateMark<Detection[]> | undefined;
    const plan = planGate(gated, everyKeyframe, mark, gating.detect, change);
    const out = await runGated('detect', gated, plan, mark, (indices) => detectKeyframes(indices, frames, gated, plan, mark, detect as DetectOptions, options, models, signal));
    writes.push(out.write);
    noteCarried('detect', out.carriedFrom, plan);
    return out.results;
  };
  const [, detections] = await Promise.all([frames.length === 0 ? Promise.resolve() : Promise.all(imageSpaces.map((space) => embed(space.id))), detectAll()]);

  // Faces wait for the detector: they are looked for only where it sees a person.
  const [ocr, faces] = await Promise.all([
    readTexts(chunk, gated, state.marks.ocr as GateMark<ReadLine[]> | undefined, options, deps, signal),
    perceiveKeyframeFaces(chunk, frames, gated, detections, state.marks.faces as GateMark<KeyframeFace[]> | undefined, options, deps, signal),
  ]);
  writes.push(ocr.write);
  noteCarried('ocr', ocr.carriedFrom, ocr.plan);
  if (faces) {
    writes.push(faces.write);
    noteCarried('faces', faces.carriedFrom, faces.plan);
  }
  await deps.gates.saveGate(chunk.stream, writes.filter((w): w is GateWrite => w !== undefined));
  return { imageVectors, detections, ocr: ocr.lines, faces: faces?.results, change: background.change, carried };
}

/**
 * The detector on the keyframes its gate runs it on: where it runs because the picture changed and
 * the change fits a window (detect-window.ts) and a crop graph is installed, on that window with
 * the crop graph, keeping the detections of the run it changed from that lie clear of it; else on
 * the whole frame. Keyframes in order, since a window's earlier detections may be this call's.
 */
async function detectKeyframes(indices: number[], frames: Frame[], gated: GatedFrame[], plan: GateDecision[], mark: GateMark<Detection[]> | undefined, detect: DetectOptions, options: PerceiveOptions, models: PerceptionModels, signal?: AbortSignal): Promise<Detection[][]> {
  const sizes = options.gating.detect.crops && options.gating.detect.enabled ? models.detectorSizes?.() : undefined;
  const crop = sizes?.crop;
  const found = new Map<number, Detection[]>();
  const windows = indices.map((i) => {
    const decision = plan[i];
    if (!crop || !sizes || !decision?.run || !decision.since || decision.sinceFrom === undefined) return undefined;
    const previous = decision.sinceFrom === 'mark' ? mark?.result : undefined;
    const frame = frames[i] as Frame;
    const box = changedBox((gated[i] as GatedFrame).grey, decision.since, options.gating.pixelThreshold);
    // A change the grey copies cannot place (nothing over the threshold) is looked at whole.
    if (!box || (decision.sinceFrom === 'mark' && !previous)) return undefined;
    const window = detectWindow(inFrame(box, (gated[i] as GatedFrame).grey, frame), previous ?? [], frame, { frame: sizes.frame, crop });
    return window ? { window, from: decision.sinceFrom } : undefined;
  });
  const whole = indices.filter((_i, j) => !windows[j]);
  const ran = whole.length > 0 ? await (models.detectObjects as NonNullable<PerceptionModels['detectObjects']>).call(models, whole.map((i) => frames[i] as Frame), detect, signal) : [];
  whole.forEach((i, j) => found.set(i, ran[j] as Detection[]));
  for (const [j, i] of indices.entries()) {
    const w = windows[j];
    if (!w) continue;
    const previous = w.from === 'mark' ? (mark as GateMark<Detection[]>).result : found.get(w.from);
    // The run it changed from is a later keyframe of this chunk only if the plan is broken; see it whole then.
    if (!previous) {
      found.set(i, ((await (models.detectObjects as NonNullable<PerceptionModels['detectObjects']>).call(models, [frames[i] as Frame], detect, signal))[0]) as Detection[]);
      continue;
    }
    const [inWindow] = await (models.detectObjectsIn as NonNullable<PerceptionModels['detectObjectsIn']>).call(models, [{ frame: frames[i] as Frame, window: w.window }], detect, signal);
    observeGate('detect', 'region');
    found.set(i, mergeWindow(w.window, inWindow as Detection[], previous, detect.maxPerFrame));
  }
  return indices.map((i) => found.get(i) as Detection[]);
}

/** Whether a keyframe's detections (run or carried) hold a person; undefined when the detector cannot say (not run, or person not among its kept labels). */
function personSeen(detections: (Detection[] | null)[] | undefined, detect: DetectOptions | undefined, i: number): boolean | undefined {
  if (!detections || !detect || (detect.labels.length > 0 && !detect.labels.includes(PERSON))) return undefined;
  return (detections[i] ?? []).some((d) => d.label === PERSON);
}

const PERSON = 'person';

/**
 * Described faces per keyframe, each crop stored; undefined when the face stage is off or its
 * models are missing. Gated like the other models, and by the detector: a face needs a person, so
 * where the detector runs (its result fresh or carried) faces are looked for only on keyframes
 * with a person (null elsewhere: not looked for); of those, only where the picture changed since
 * the face stage last ran or its refresh interval passed. The rest carry the faces of that run,
 * the same crops and descriptors (close-event.ts counts each crop once per event). Without a
 * detector every keyframe is eligible, so faces still work alone.
 */
async function perceiveKeyframeFaces(chunk: Chunk, frames: Frame[], gated: GatedFrame[], detections: (Detection[] | null)[] | undefined, mark: GateMark<KeyframeFace[]> | undefined, options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal) {
  const { models, faces: faceOptions, saveFaceCrop } = deps;
  if (frames.length === 0 || faceOptions?.enabled !== true || !saveFaceCrop || !models.detectFaces || !models.describeFaces || !models.faceDescriptorSize) return undefined;
  if (models.faceDescriptorSize() === undefined) return undefined;
  const gate = options.gating.faces;
  const eligible = gated.map((_g, i) => !gate.enabled || personSeen(detections, deps.detect, i) !== false);
  const plan = planGate(gated, eligible, mark, gate, options.gating);
  const faceModels = { detectFaces: models.detectFaces.bind(models), describeFaces: models.describeFaces.bind(models), faceDescriptorSize: models.faceDescriptorSize.bind(models) };
  const run = async (indices: number[]): Promise<KeyframeFace[][]> => {
    const found = await perceiveFaces(indices.map((i) => frames[i] as Frame), faceOptions, faceModels, signal);
    const out: KeyframeFace[][] = indices.map(() => []);
    await Promise.all(
      found.map(async (face) => {
        const k = chunk.keyframes[indices[face.frame] as number];
        const list = out[face.frame];
        if (!k || !list) return;
        const index = list.length;
        const entry: KeyframeFace = { score: face.score, box: face.box, descriptor: face.descriptor, crop: '' };
        list.push(entry);
        entry.crop = await saveFaceCrop(chunk.stream, Math.round(chunk.wallStart + (k.t - chunk.start) * 1000), index, face.crop);
      }),
    );
    return out;
  };
  return { ...(await runGated('faces', gated, plan, mark, run)), plan };
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
 * OCR at the configured rate, gated like the other models: a due keyframe whose picture has not
 * changed since the stream's last read (and within the OCR refresh interval) carries that read.
 * When it does run, the previous read goes along so unchanged lines skip the recogniser.
 */
async function readTexts(chunk: Chunk, gated: GatedFrame[], mark: GateMark<ReadLine[]> | undefined, options: PerceiveOptions, deps: PerceiveDeps, signal?: AbortSignal) {
  const lines: (OcrLine[] | null)[] = chunk.keyframes.map(() => null);
  const carriedFrom: (number | null)[] = chunk.keyframes.map(() => null);
  if (!options.ocr || chunk.keyframes.length === 0 || !installed(deps.models, 'ocr')) return { lines, carriedFrom, plan: [] as GateDecision[], write: undefined };
  const gate = options.gating.ocr;
  const due = chunk.keyframes.map((_k, i) => ocrDue(chunk, i, options));
  const plan = planGate(gated, due, mark, gate, options.gating);
  const read: (ReadLine[] | undefined)[] = [];
  let previous: readonly ReadLine[] = mark && gate.enabled ? mark.result : [];
  let write: GateWrite | undefined;
  for (const [i, k] of chunk.keyframes.entries()) {
    const decision = plan[i];
    if (!decision) continue;
    let result: ReadLine[];
    if (decision.run) {
      // Run because the picture changed since the last read: text can only have changed where the
      // picture did, each place that changed looked at on its own (a car that crossed the picture
      // changed where it was and where it is, not the road between).
      const grey = (gated[i] as GatedFrame).grey;
      const places = gate.enabled && decision.since ? changedRegions(grey, decision.since, options.gating.pixelThreshold) : [];
      const regions = places.length > 0 ? places.map((box) => inFrame(box, grey, k)) : undefined;
      if (regions) observeGate('ocr', 'region');
      result = await deps.models.readText({ rgb: k.rgb, width: k.width, height: k.height }, signal, gate.enabled ? previous : undefined, regions);
      previous = result;
      write = markWrite('ocr', gated[i] as GatedFrame, result);
    } else {
      result = decision.from === 'mark' ? (mark as GateMark<ReadLine[]>).result : (read[decision.from] ?? []);
      carriedFrom[i] = decision.t;
    }
    read[i] = result;
    lines[i] = result.filter((l) => l.text.trim() !== '').map((l) => ({ t: k.t, text: l.text.trim(), confidence: l.confidence }));
  }
  return { lines, carriedFrom, plan, write };
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
  // Below the quiet floor throughout there is no speech to find: VAD is skipped and says so.
  const quiet = options.gating.vad.enabled && levels.length > 0 && levels.every((w) => w.rmsDb < options.gating.vad.quietDbfs);
  const speech: SpeechSpan[] = installed(models, 'voice-activity') && !quiet
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
    ...(quiet ? { quiet: true } : {}),
  };
}
