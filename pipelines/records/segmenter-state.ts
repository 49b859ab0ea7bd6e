// The segmenter's whole memory of a stream, as plain data: it is saved to Redis after every tick
// (encodeJson keeps Float32Arrays compact), so another worker continues exactly where this one stopped.
import type { Detection, KeyframeFace, OcrLine, TranscriptSpan } from './event.js';
import type { SpeechSpan } from './perception.js';

/** One object followed across keyframes by segment's tracker. */
export interface LiveTrack {
  id: number;
  label: string;
  box: [number, number, number, number];
  /** Stream seconds of its first and last detection. */
  first: number;
  last: number;
  /** Keyframes it was detected on. */
  hits: number;
  score: number;
}

export interface TrackerState {
  nextId: number;
  live: LiveTrack[];
  /** Tracks that ended (unseen past their memory) and were not yet reported with a closed event. */
  ended: LiveTrack[];
}

/** Presence of one detector label on a stream (see segment/presence.ts). */
export interface LabelPresence {
  present: boolean;
  /** The last `window` keyframes: [stream seconds, detected], oldest first. */
  recent: [number, boolean][];
  /** Stream seconds of the last keyframe it was detected on. */
  lastSeen: number | null;
  /** The first keyframe after lastSeen it was missing from; null while it is seen. */
  missingSince: number | null;
}

export type PresenceState = Record<string, LabelPresence>;

export enum BoundaryReason {
  Surprise = 'surprise',
  Text = 'text',
  /** A detector label came into view or left it. */
  Presence = 'presence',
  Speech = 'speech',
  Silence = 'silence',
  MaxLength = 'max-length',
  EndOfStream = 'end-of-stream',
  Idle = 'idle',
  Gap = 'gap',
}

export interface Candidate {
  /** Stream seconds: the new event would start here. */
  t: number;
  reason: BoundaryReason;
  /** Comparable across reasons; 1 is "just over the threshold". */
  strength: number;
  /** Presence candidates: a label arrived (true) or left (false). */
  arrival?: boolean;
}

export interface SurpriseRun {
  start: number;
  last: number;
  /** Strongest surprise in the run, and where it was. */
  peak: number;
  peakT: number;
}

/** Running surprise statistics of one vector space. */
export interface SpaceTrack {
  /** Sum and count of the vectors since the last surprise in this modality: the running event. */
  sum: Float32Array;
  count: number;
  /** Recent distances from the running event, newest last. */
  history: number[];
}

export interface BufferedKeyframe {
  t: number;
  /** Image spaces plus the visual signature under SIGNATURE_SPACE. */
  vectors: Record<string, Float32Array>;
  thumbnail: string | null;
  /** Change from the previous keyframe (centred cosine distance of the visual signatures); null for the first. */
  motion: number | null;
  /** The detector's objects with track ids; absent when the detector did not run on it. */
  detections?: Detection[];
  /** Labels present (with hysteresis) once this keyframe was seen. */
  present?: string[];
  /** Gated faces; absent when the face stage did not run on it. */
  faces?: KeyframeFace[];
}

export interface BufferedAudioWindow {
  t: number;
  vectors: Record<string, Float32Array>;
}

export interface OpenEvent {
  start: number;
  /** Wall-clock epoch ms at start. */
  startedAt: number;
  /** The media just before this event is missing. */
  gapBefore: boolean;
  /** Mean vectors of the previous event, to score this one's novelty when it closes. */
  previousMeans: Record<string, Float32Array> | null;
}

export interface SegmenterState {
  version: 1;
  stream: string;
  /** Which run of the stream this state belongs to (when it was added); a re-added stream starts afresh. */
  generation: number;
  /** The next sequence number to consume. */
  nextSeq: number;
  /** Stream seconds reached (end of the last record consumed); null before the first. */
  reached: number | null;
  /** Wall-clock ms when the last record was consumed; drives the idle close on live streams. */
  lastConsumedAt: number | null;
  /** Closed by the final record; later records (a restarted source) open a new event. */
  ended: boolean;
  eventsClosed: number;
  open: OpenEvent | null;
  /**
   * Everything perceived since open.start, including what lies past still-pending boundaries;
   * split off when a boundary is committed.
   */
  keyframes: BufferedKeyframe[];
  audioWindows: BufferedAudioWindow[];
  /** Level windows: start times and dBFS, row-aligned. */
  levelT: number[];
  levelDb: number[];
  speech: SpeechSpan[];
  transcript: TranscriptSpan[];
  ocr: OcrLine[];
  /** [stream seconds, wall ms] at each record start, to map stream time to wall-clock. */
  anchors: [number, number][];
  tracks: Record<string, SpaceTrack>;
  pending: Candidate[];
  /** The run of consecutive surprising observations in progress, per modality. */
  runs: { image: SurpriseRun | null; audio: SurpriseRun | null };
  voice: {
    /** Stream seconds where audio was first seen (silence before the first word counts from here). */
    audioSince: number | null;
    lastSpeechEnd: number | null;
    /** A silence candidate was already raised for lastSpeechEnd. */
    silenceRaised: boolean;
  };
  /** Normalised words of the last OCR read; null before the first read. */
  textTokens: string[] | null;
  previousSignature: Float32Array | null;
  /** Short-term memory entry id of the earliest record not yet consumed ('0-0' at first). */
  scanFrom: string;
  /** A sequence number found missing: when it was first noticed (wall ms). */
  hole: { seq: number; since: number } | null;
  /** Tracks and label presence; absent in states saved before the detector existed. */
  objects?: {
    tracker: TrackerState;
    presence: PresenceState;
    /** Stream seconds of the first keyframe the detector ran on: what is seen there was already in view. */
    since?: number;
  };
}

export function initialState(stream: string, generation = 0): SegmenterState {
  return {
    version: 1,
    stream,
    generation,
    nextSeq: 0,
    reached: null,
    lastConsumedAt: null,
    ended: false,
    eventsClosed: 0,
    open: null,
    keyframes: [],
    audioWindows: [],
    levelT: [],
    levelDb: [],
    speech: [],
    transcript: [],
    ocr: [],
    anchors: [],
    tracks: {},
    pending: [],
    runs: { image: null, audio: null },
    voice: { audioSince: null, lastSpeechEnd: null, silenceRaised: false },
    textTokens: null,
    previousSignature: null,
    // Entries that arrived before this run was added belong to an earlier run.
    scanFrom: `${generation}-0`,
    hole: null,
  };
}
