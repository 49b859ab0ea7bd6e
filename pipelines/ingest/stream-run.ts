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
import type { InputDump } from '../repositories/ffmpeg-output.js';
import type { RecordingDeps } from './recorder.js';

/** The decode session as the stage uses it (the media repository provides the real one). */
export interface Decoding {
  readonly done: Promise<DecodeResult>;
  /** ffmpeg's own description of its input, before it writes any output; undefined without one. */
  readonly input: Promise<InputDump | undefined>;
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
   * Enqueues the perceive jobs for stored chunks (in one round trip), each idempotent by its job
   * id. `run` is the id of this ingest run (the ingest job id): completed jobs are kept for the
   * dashboard, so an id of stream and seq alone would make a second ingest of the same stream
   * skip perception.
   */
  enqueuePerceive(stream: string, seqs: readonly number[], run: string): Promise<void>;
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
  /**
   * A local file not yet probed: the next run starts ffmpeg straight away and reads the facts
   * ffprobe would give from ffmpeg's own log (decode-run.ts says why). Off after such a run
   * could not go on; `known` then holds what its log said, or nothing (run ffprobe).
   */
  unprobed: boolean;
  known: MediaInfo | undefined;
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
  /**
   * Set when a run started without ffprobe found a source its plan did not fit (no audio, cover
   * art, an input ffmpeg could not open): nothing was stored; plan again with these facts, or
   * with ffprobe's ('probe').
   */
  replan?: MediaInfo | 'probe';
}

/** Waits the current backoff (or until a stop), then doubles it up to reconnectMaxMs. */
export async function backOff(run: StreamRun, state: RunState): Promise<void> {
  await sleep(state.backoff, run.stop.signal);
  state.backoff = Math.min(state.backoff * 2, run.deps.config.reconnectMaxMs);
}


/** The source's media is known and accepted: the run goes on with it, and the stream says so. */
export async function adoptMedia(run: StreamRun, state: RunState, info: MediaInfo): Promise<void> {
  state.info = info;
  // A pipe cannot be reopened: however long it runs, it is decoded once, like a file.
  // Only a source that is live by nature (a camera, rtsp, a tcp/udp feed) or was added with
  // --live reconnects. A file or URL without a known duration (a single picture, a raw
  // .h264, an MPEG-TS served over http) ends when its bytes do, like any other file.
  state.live = run.spec.kind === 'stdin' ? false : (run.runtime0.liveRequested ?? run.spec.live);
  await run.deps.streams.update(run.name, { live: state.live ? '1' : '0', ...(info.duration !== undefined && !state.live ? { durationS: info.duration } : {}) });
}
