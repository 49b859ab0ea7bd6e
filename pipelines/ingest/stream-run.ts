// What the steps of one stream's ingest share: the stage's dependencies, the state carried from one
// ffmpeg run to the next, and the small waits between runs. Split from ingest-stream.ts so the
// decode run (decode-run.ts) and the loop around it read as separate steps.
import type { IngestConfig } from '../../config/schema.js';
import { Role } from '../jobs.js';
import type { Log } from '../log.js';
import type { FileFacts, SourceSpec } from '../records/source.js';
import type { DecodePlan, MediaInfo } from '../repositories/media-types.js';
import type { StreamRepository, StreamRuntime } from '../repositories/streams.js';
import type { ChunkStore } from '../repositories/chunk-store.js';
import type { DecodeHandlers, DecodeResult } from '../repositories/media.js';
import type { RecordingDeps } from './recorder.js';

/** The decode session as the stage uses it (the media repository provides the real one). */
export interface Decoding {
  readonly done: Promise<DecodeResult>;
  readonly lastDataAt: number;
  readonly paused: boolean;
  pause(): void;
  resume(): void;
  kill(): void;
}

export interface IngestDeps {
  config: IngestConfig;
  /** Directories file sources may come from (already resolved to real paths). */
  fileRoots: string[];
  cwd: string;
  streams: StreamRepository;
  chunks: ChunkStore;
  files: FileFacts;
  /**
   * Refuses a network source aimed at engram's own API or Redis or outside ingest.allowedHosts
   * (throws SourceError). Run before every connection attempt: a host name may change its answer.
   */
  checkNetwork(spec: SourceSpec): Promise<void>;
  /** With `head`, the source is a pipe: ffprobe reads those bytes rather than opening the source. */
  probe(spec: SourceSpec, options: { timeoutMs: number; signal: AbortSignal; head?: Buffer }): Promise<MediaInfo>;
  decode(plan: DecodePlan, handlers: DecodeHandlers, signal: AbortSignal, sceneThreshold: number): Decoding;
  /**
   * Enqueues the perceive job for a stored chunk, idempotent by its job id. `run` is the id of
   * this ingest run (the ingest job id): completed jobs are kept for the dashboard, so an id of
   * stream and seq alone would make a second ingest of the same stream skip perception.
   */
  enqueuePerceive(stream: string, seq: number, run: string): Promise<void>;
  /**
   * The pipe a "-" source means, present only in the `engram ingest -` process that added the
   * stream (its decode() feeds this pipe to ffmpeg). A worker has none and fails such a stream.
   */
  stdin?: StdinInput;
  /** Live streams are recorded into segment files when present (recordings.enabled). */
  recording?: RecordingDeps;
  log: Log;
}

export interface StdinInput {
  readonly isTerminal: boolean;
  /** The first maxBytes of the pipe (all of it when shorter), kept to be fed to ffmpeg again. */
  head(maxBytes: number): Promise<Buffer>;
}

export type IngestOutcome = 'done' | 'stopped' | 'stale';

/** Thrown when this process shuts down mid-stream: the job should run again elsewhere. */
export class IngestInterrupted extends Error {
  override readonly name = 'IngestInterrupted';
}

/**
 * Waits ms or until the signal aborts. The abort listener goes when the timer fires: a file that
 * waits for perception sleeps ten times a second on one signal, and listeners left behind
 * piled up past Node's MaxListenersExceededWarning within a second of the first stream.
 */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Stage name that ingest hands work to (for StreamRepository progress counters). */
export const NEXT_STAGE = Role.Perceive;
/** What an ingest carries from one ffmpeg run to the next (reconnects, retries, resumed files). */
export interface RunState {
  nextSeq: number;
  /** Stream seconds and wall-clock ms where the last stored chunk ended; null before the first. */
  lastEnd: number | null;
  lastWallEnd: number | null;
  wallOrigin: number;
  backoff: number;
  /** A run has produced media: later failures reconnect without counting against connectAttempts. */
  connected: boolean;
  failures: number;
  info: MediaInfo | undefined;
  live: boolean;
  gapReason: string | undefined;
}

/** What every step of one stream's ingest needs. */
export interface StreamRun {
  deps: IngestDeps;
  name: string;
  runtime0: StreamRuntime;
  spec: SourceSpec;
  head: Buffer | undefined;
  takeover: boolean;
  /** Aborted by a stop request (reason 'stop') or this worker's shutdown (an IngestInterrupted). */
  stop: AbortController;
  /** Marks the stream failed with the message and throws it as a SourceError. */
  fail(message: string): Promise<never>;
}

/** How one ffmpeg run ended, as the steps after it need to know. */
export interface RunResult {
  result: DecodeResult;
  killedByStop: boolean;
  ended: boolean;
  /** The run produced frames or audio. */
  media: boolean;
  stalled: boolean;
}

/** Waits the current backoff (or until a stop), then doubles it up to reconnectMaxMs. */
export async function backOff(run: StreamRun, state: RunState): Promise<void> {
  await sleep(state.backoff, run.stop.signal);
  state.backoff = Math.min(state.backoff * 2, run.deps.config.reconnectMaxMs);
}

