// What the HTTP routes need from the rest of engram, as small interfaces: the api role's
// composition root (main.ts) adapts the real repositories to them, and a route whose part of
// engram is not running in this build answers 503 naming what is missing.
import type { Readable } from 'node:stream';
import type { Detection, StoredEvent } from '../../pipelines/records/event.js';
import type { ExportOutcome } from '../../pipelines/recordings/export-range.js';
import type { RecordedSpan } from '../../pipelines/records/recorded-spans.js';
import type { LiveListener } from '../../pipelines/repositories/live.js';
import type { PersonFace } from '../../pipelines/repositories/people.js';
import type { QueueCounts, QueueRepository, QueueWorker } from '../../pipelines/repositories/queue.js';
import type { PersonLine } from '../runtime/person-line.js';

/** A stream as the API shows it (ingest's StreamInfo; its other fields pass through untouched). */
export interface StreamView {
  name: string;
  /** The source with any password hidden. */
  source: string;
  state: string;
  /** Seconds behind real time. */
  lagS: number;
  droppedFrames: number;
  gaps: unknown[];
  /** Bytes of the stream's recording on disk (live streams; 0 when none). */
  recordingBytes?: number;
}

export interface AddStreamInput {
  name: string;
  /** A file path, file://, rtsp://, http(s)://, tcp://, v4l2 or alsa device, or - for stdin. */
  source: string;
  /** Force live handling (drop frames, reconnect); unset: ingest decides by probing. */
  live?: boolean;
}

export interface StreamsPort {
  add(input: AddStreamInput): Promise<StreamView>;
  get(name: string): Promise<StreamView | null>;
  list(): Promise<StreamView[]>;
  /** False when there is no such stream. */
  stop(name: string): Promise<boolean>;
}

export interface EventQuery {
  stream?: string;
  /** Wall-clock epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** Events where the detector saw any of these labels. */
  labels?: string[];
  /** Events where any of these face identities was seen. */
  people?: string[];
  limit: number;
  offset: number;
}

/** What the detector found on the keyframe an event shows as its thumbnail. */
export interface ThumbnailDetections {
  /** Stream seconds of that keyframe; null when no stored keyframe is the thumbnail. */
  t: number | null;
  /** [width, height] of the keyframe the boxes are in; null for detections stored without it. */
  frame: [number, number] | null;
  detections: Detection[];
}

export interface EventsPort {
  list(query: EventQuery): Promise<StoredEvent[]>;
  get(id: string): Promise<StoredEvent | null>;
  /** The detections of the event's thumbnail keyframe (moments row whose thumbnail is the event's). */
  thumbnailDetections(event: StoredEvent): Promise<ThumbnailDetections>;
  /** Rows per LanceDB table. */
  tableRows(): Promise<Record<string, number>>;
}

export interface QueryInput {
  question: string;
  stream?: string;
  /** Wall-clock epoch ms bounds. */
  since?: number;
  until?: number;
  /** When the question was asked (relative times are relative to it). */
  now: number;
  /** Query by example: an image or audio file's bytes (decoded by ffmpeg when answering). */
  image?: Uint8Array;
  audio?: Uint8Array;
  /** A photo of a face: the person it is recognised as is looked up in memory. */
  face?: Uint8Array;
}

export interface QueryPort {
  /** The same JSON as `engram query --json`. Must stop work when the signal aborts. */
  answer(input: QueryInput, signal: AbortSignal): Promise<unknown>;
  /** Reads a time bound as `engram query --since` does (ISO, HH:MM, 2pm, yesterday, 10m); undefined when it is not one. */
  parseTime(text: string, now: number): number | undefined;
}

export interface BlobsPort {
  /** Null for a missing blob or a stored path that could leave the store. */
  stat(ref: string): Promise<{ size: number; contentType: string } | null>;
  /** A byte range (both ends inclusive) or the whole blob; null when it is gone. */
  open(ref: string, range?: { start: number; end: number }): Promise<{ stream: Readable; size: number; contentType: string } | null>;
}

export interface ClipsPort {
  /** Null when the stream's source is not a file (a live camera has nothing to cut from). */
  sourcePath(stream: string): Promise<string | null>;
  cut(request: { path: string; start: number; duration: number; signal: AbortSignal }): Promise<{ contentType: string; stream: Readable }>;
}

export interface RecordingsPort {
  /** A wall-clock range of a stream's recording as an MP4 (pipelines/recordings/export-range.ts). */
  export(stream: string, fromMs: number, toMs: number, signal: AbortSignal): Promise<ExportOutcome>;
  /** Recording bytes stored per stream (on disk, or in the bucket with storage.blobs s3). */
  bytes(): Promise<Record<string, number>>;
  /** What a stream has recorded overlapping [fromMs, toMs), and up to when retention deleted it (null: never). */
  spans(stream: string, fromMs: number, toMs: number): Promise<{ spans: RecordedSpan[]; prunedUntil: number | null }>;
  /** recordings.segmentSeconds: how long until the segment being written is indexed, at most. */
  readonly segmentSeconds: number;
  /** recordings.exportMaxSeconds. */
  readonly exportMaxSeconds: number;
}

/**
 * The identities of face clustering (pipelines/repositories/people.ts). Unknown ids throw
 * UnknownPersonError; an empty name or a merge of a person with itself throw EngramError.
 */
export interface PeoplePort {
  /** Most recently seen first, as `engram people list --json`. */
  list(): Promise<PersonLine[]>;
  get(id: string): Promise<PersonLine | null>;
  name(id: string, name: string): Promise<void>;
  /** Moves every face (and every event) of `absorbed` into `kept`. */
  merge(kept: string, absorbed: string): Promise<void>;
  /** Deletes the person, its descriptors and crops, and its id on events; says how many went. */
  forget(id: string): Promise<{ faces: number; crops: number; events?: number }>;
  /** Blob path of the person's best face crop; null when it has none; throws UnknownPersonError. */
  cropPath(id: string): Promise<string | null>;
  /** The person's kept faces, best first, with their crops' blob paths; throws UnknownPersonError. */
  faces(id: string): Promise<PersonFace[]>;
}

export interface LivePort {
  listen(listener: LiveListener): Promise<() => void>;
}

export interface QueuesPort {
  all(): ReturnType<QueueRepository['allQueues']>;
  counts(): Promise<Record<string, QueueCounts>>;
  /** Mean run time of the most recent completed jobs per queue, seconds (null when none). */
  recentDurations(): Promise<Record<string, number | null>>;
  /** The worker processes connected to each queue now, on every host. */
  workers(): Promise<Record<string, QueueWorker[]>>;
}

export interface ModelView {
  name: string;
  task: string;
  installed: boolean;
  /** Execution provider in use (cuda, cpu), null before the model first ran. */
  provider: string | null;
}

export interface ModelsPort {
  /** Every model the catalog knows, installed or not. */
  status(): Promise<ModelView[]>;
}

/** Readiness checks by name (redis, lancedb, blobs); each throws when its dependency is unreachable. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

export interface ApiDeps {
  queues: QueuesPort;
  checks: ReadinessChecks;
  streams?: StreamsPort;
  events?: EventsPort;
  query?: QueryPort;
  blobs?: BlobsPort;
  clips?: ClipsPort;
  recordings?: RecordingsPort;
  live?: LivePort;
  models?: ModelsPort;
  people?: PeoplePort;
}
