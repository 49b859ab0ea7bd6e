// The records that flow between stages: what segment hands to consolidate (a closed event), and
// what long-term memory returns to reason and the API. Vectors are keyed by embedding space id
// (for example "clip-vit-b32", "clap", "minilm", "visual-signature"), so a new model adds a key.

/** A vector per embedding space. Float32Array on hot paths; number[] after JSON. */
export type VectorsBySpace = Record<string, Float32Array | number[]>;

export interface TranscriptSpan {
  /** Stream seconds. */
  start: number;
  end: number;
  text: string;
}

export interface OcrLine {
  /** Stream seconds of the keyframe it was read from. */
  t: number;
  text: string;
  confidence?: number;
}

/** One object the detector found on a keyframe. */
export interface Detection {
  /** COCO-80 label as the model names it: "person", "car", "traffic light", … */
  label: string;
  /** Detector confidence, 0..1. */
  score: number;
  /** [x1, y1, x2, y2] in pixels of the keyframe the detector saw (ingest's scaled frame). */
  box: [number, number, number, number];
  /** Track id, unique within its stream; given by segment's tracker, absent in perception records. */
  track?: number;
  /**
   * [width, height] of the keyframe `box` is in. Thumbnails are scaled differently from keyframes
   * (ingest.thumbnailWidth against ingest.frameMaxSide, never upscaled), so a box drawn over a
   * thumbnail needs it; absent in detections stored before it was recorded.
   */
  frame?: [number, number];
}

/** A face found on a keyframe that passed the quality gate (pipelines/faces/perceive-faces.ts). */
export interface KeyframeFace {
  /** Detector score, 0..1. */
  score: number;
  /** [x1, y1, x2, y2] in pixels of the keyframe. */
  box: [number, number, number, number];
  /** L2-normalised FaceRes descriptor (1024-d). */
  descriptor: Float32Array | number[];
  /** Blob path of the aligned 112x112 crop. */
  crop: string;
}

/** A face inside a closed event: which keyframe it was on. */
export interface EventFace extends KeyframeFace {
  /** Stream seconds of its keyframe. */
  t: number;
}

/** How many of one label an event held. */
export interface LabelCount {
  /** Distinct tracks of the label inside the event ("3 cars passed"). */
  distinct: number;
  /** Most detections of the label on one keyframe ("at most 2 at once"). */
  max: number;
}

/** One tracked object's time in view, as far as it lies inside one event. */
export interface TrackSpan {
  /** Unique within the stream: the same object in two events has the same id. */
  id: number;
  label: string;
  /** Stream seconds of its first and last detection inside the event. */
  enter: number;
  leave: number;
  /** Wall-clock epoch ms of enter and leave. */
  enteredAt: number;
  leftAt: number;
  /** It came into view inside this event (false: it was already there when the event began). */
  entered: boolean;
  /** It left view inside this event (false: still there when the event ended). */
  left: boolean;
  /** Best detector score along the track. */
  score: number;
}

/** What the detector saw during an event: empty lists without a detector. */
export interface EventObjects {
  /** Labels seen (by a confirmed presence or a track), sorted. */
  labels: string[];
  counts: Record<string, LabelCount>;
  tracks: TrackSpan[];
}

/** One kept keyframe or audio window inside an event: a row of the `moments` table. */
export interface MomentRecord {
  kind: 'keyframe' | 'audio';
  /** Stream seconds. */
  t: number;
  vectors: VectorsBySpace;
  /** Blob path (relative to the blobs directory) of the keyframe's JPEG thumbnail, if any. */
  thumbnail?: string | null;
  /** Keyframes: what the detector found, with track ids; absent without a detector. */
  detections?: Detection[];
}

/** A closed event, as the segment stage produces it and consolidate stores it. */
export interface ClosedEvent {
  /** Deterministic from stream and start: eventId(stream, start). */
  id: string;
  stream: string;
  /** Stream seconds. */
  start: number;
  end: number;
  /** Wall-clock epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  transcript: TranscriptSpan[];
  ocr: OcrLine[];
  /** speech, silence, motion-low|motion-medium|motion-high, text, gap, … */
  tags: string[];
  /** Mean of the kept moments' vectors, per space. */
  vectors: VectorsBySpace;
  moments: MomentRecord[];
  /** Blob path of the representative thumbnail. */
  thumbnail: string | null;
  /** 0..1: how unlike its predecessor this event was (surprise at its opening boundary). */
  novelty: number;
  /** The reason the event closed: surprise, silence, speech, text, presence, max-length, end-of-stream, idle, gap. */
  closedBy: string;
  /** Labels, counts and tracks; absent in events closed before the detector existed. */
  objects?: EventObjects;
  /** Gated faces of every keyframe of the event; absent when the face stage did not run. */
  faces?: EventFace[];
}

/** A stored event, as long-term memory returns it. */
export interface StoredEvent {
  id: string;
  stream: string;
  start: number;
  end: number;
  startedAt: number;
  endedAt: number;
  summary: string;
  transcript: string;
  ocr: string;
  tags: string[];
  thumbnail: string | null;
  strength: number;
  recallCount: number;
  lastRecalledAt: number | null;
  /** 0 for an event; episodes summarise at higher levels. */
  level: number;
  /** True when the summary is extractive and an LLM should upgrade it later. */
  needsSummary: boolean;
  /** Labels seen, sorted; [] when nothing was detected (or no detector ran). */
  labels: string[];
  /** Per label: distinct tracks and most at once. */
  counts: Record<string, LabelCount>;
  /** Objects' entries and exits inside the event. */
  tracks: TrackSpan[];
  /** Ids of the face identities seen in the event (the people table), sorted; [] when none. */
  people: string[];
}

/**
 * Deterministic event id: the same stream and start always give the same id. No ':' (BullMQ
 * refuses it in job ids, and the id is the consolidate job's id).
 */
export function eventId(stream: string, start: number): string {
  const ms = Math.round(start * 1000);
  return `${stream}.${String(ms).padStart(10, '0')}`;
}

/** Stream and start of an event id made by eventId above; undefined for any other id. */
export function parseEventId(id: string): { stream: string; start: number } | undefined {
  const dot = id.lastIndexOf('.');
  const stream = id.slice(0, dot);
  const ms = id.slice(dot + 1);
  if (dot <= 0 || !STREAM_NAME.test(stream) || !/^\d{10,}$/.test(ms)) return undefined;
  return { stream, start: Number(ms) / 1000 };
}

/** Stream names: lower-case letters, digits, '-' and '_', so they are safe in keys, ids and paths. */
export const STREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
