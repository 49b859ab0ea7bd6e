import type { LabelCount } from '../records/event.js';

// What a question returns, the same over the CLI (--json), the job queue and the HTTP API.

/** One piece of evidence: an event of a stream, with the quote that made it relevant. */
export interface Evidence {
  eventId: string;
  stream: string;
  /** Stream seconds. */
  start: number;
  end: number;
  /** Wall-clock start, ISO 8601 (UTC). */
  startedAt: string;
  /** Fused retrieval score (reciprocal-rank fusion; comparable within one answer only). */
  score: number;
  summary: string;
  /** The transcript or on-screen text that matched, or the best line of it; '' when none. */
  quote: string;
  /** Blob path of the thumbnail (relative to the blobs directory), or null. */
  thumbnail: string | null;
  /** Detector labels the event held, sorted; [] without detections. */
  labels: string[];
  /** Per label: distinct objects and most at once. */
  counts: Record<string, LabelCount>;
}

export interface QueryTimings {
  totalMs: number;
  parseMs: number;
  /** Until the question's last vector was there; the searches of the vectors already there overlap it. */
  embedMs: number;
  /** From the first search to the candidates' rows read (overlapping embedMs). */
  searchMs: number;
  fusionMs: number;
  detailMs: number;
  answerMs: number;
}

export interface QueryAnswer {
  question: string;
  answer: string;
  evidence: Evidence[];
  timings: QueryTimings;
}

/** What a caller asks: the question plus optional filters and an example. */
export interface QueryRequest {
  question: string;
  stream?: string;
  /** Epoch ms bounds on wall-clock time (already parsed from --since/--until). */
  since?: number;
  until?: number;
  /** Query by example: an image or audio file's bytes. */
  image?: Uint8Array;
  audio?: Uint8Array;
  /** "When was this person here?": a photo of a face, recognised against the face identities. */
  face?: Uint8Array;
  /** Epoch ms the question is asked at; defaults to the clock. Tests pin it. */
  now?: number;
}
