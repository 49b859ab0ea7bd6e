// The ingest stage: runs one stream from its checkpoint until the source ends, the user stops it,
// or it fails for good. Files resume from the last stored chunk and wait when perception falls
// behind; live sources reconnect with capped exponential backoff, restart on a stall, record
// every gap, and drop keyframes (never audio) when too many chunks are in flight.
import type { IngestConfig } from '../../config/schema.js';
import { Role } from '../jobs.js';
import type { Log } from '../log.js';
import { ChunkAssembler } from './assembler.js';
import type { Chunk } from '../records/chunk.js';
import { buildDecodePlan, checkMedia } from './decode-plan.js';
import { RunRecorder, type RecordingDeps } from './recorder.js';
import { HostUnresolvedError } from './network-guard.js';
import { resolveSource } from './source.js';
import { SourceError, type FileFacts, type SourceSpec } from '../records/source.js';
import type { DecodePlan, MediaInfo } from '../repositories/media-types.js';
import { checkStdinHead, STDIN_TERMINAL_MESSAGE, stdinOwnerGoneMessage } from './stdin.js';
import { chunkUnit, TERMINAL_STATES, type StreamRepository, type StreamGap } from '../repositories/streams.js';
import type { ChunkStore } from '../repositories/chunk-store.js';
import type { DecodeHandlers, DecodeResult } from '../repositories/media.js';

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
const sleep = (ms: number, signal: AbortSignal) =>
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
/** How many chunks of audio a live stream lets pass while its video track delivers nothing. */
const LIVE_MAX_SKEW_CHUNKS = 3;

/** The stream's source string, resolved and checked; SourceError when it can never work. */
function resolveStreamSource(deps: IngestDeps, source: string): SourceSpec {
  const { config } = deps;
  return resolveSource(source, { allowedProtocols: config.allowedProtocols, fileRoots: deps.fileRoots, timeoutMs: config.probeTimeoutMs, cwd: deps.cwd, files: deps.files });
}

/**
 * A pipe is read once: its head is buffered for ffprobe and fed to ffmpeg again with the rest.
 * SourceError when this process does not hold the pipe, it is a terminal, or it is not media.
 */
async function readPipeHead(deps: IngestDeps, name: string): Promise<Buffer> {
  if (!deps.stdin) throw new SourceError(stdinOwnerGoneMessage(name));
  if (deps.stdin.isTerminal) throw new SourceError(STDIN_TERMINAL_MESSAGE);
  let head: Buffer;
  try {
    head = await deps.stdin.head(deps.config.stdinHeadBytes);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`stdin: cannot be read (${(error as Error).message})`);
  }
  checkStdinHead(head);
  return head;
}

export async function ingestStream(deps: IngestDeps, name: string, jobId: string | undefined, signal: AbortSignal): Promise<IngestOutcome> {
  const { config, streams, log } = deps;
  const runtime0 = await streams.runtime(name);
  if (!runtime0 || (jobId !== undefined && runtime0.jobId !== jobId)) return 'stale';
  if (runtime0.stopRequested) {
    await streams.setState(name, 'stopped');
    return 'stopped';
  }
  const fail = async (message: string): Promise<never> => {
    await streams.setState(name, 'failed', message);
    throw new SourceError(message);
  };

  let spec: SourceSpec;
  let head: Buffer | undefined;
  try {
    spec = resolveStreamSource(deps, runtime0.source);
    if (spec.kind === 'stdin') {
      // A worker got the job because the command holding the pipe stopped renewing it. If the
      // command finished the stream and died before removing the job, there is nothing to do.
      if (!deps.stdin && TERMINAL_STATES.includes(runtime0.state)) return 'stale';
      head = await readPipeHead(deps, name);
    }
  } catch (error) {
    if (error instanceof SourceError) return fail(error.message);
    throw error;
  }

  // A stop request or shutdown ends the current ffmpeg run; polled because the request comes from
  // another process.
  const stop = new AbortController();
  const onShutdown = () => stop.abort(new IngestInterrupted('worker shutting down'));
  signal.addEventListener('abort', onShutdown, { once: true });
  const stopPoll = setInterval(() => {
    void streams.stopRequested(name).then((requested) => requested && stop.abort('stop'), () => undefined);
  }, 250);

  try {
    let nextSeq = runtime0.nextSeq;
    let lastEnd = runtime0.lastEnd;
    let lastWallEnd = runtime0.lastWallEnd;
    const takeover = lastEnd !== null;
    if (takeover && nextSeq > 0) {
      // The previous worker may have died between checkpoint and enqueue; adding again is a no-op otherwise.
      await deps.enqueuePerceive(name, nextSeq - 1, runtime0.jobId);
    }
    if (runtime0.finished && runtime0.liveRequested !== true) {
      // The previous worker stored the final chunk and died before saying so: decoding again from
      // the end would add a sliver of a chunk after the final one.
      await streams.setState(name, 'done');
      return 'done';
    }
    let wallOrigin = runtime0.wallOrigin ?? Date.now();
    if (runtime0.wallOrigin === null) await streams.update(name, { wallOrigin });
    let backoff = config.reconnectMinMs;
    let connected = false;
    let failures = 0;
    let info: MediaInfo | undefined;
    let live = spec.kind === 'stdin' ? false : (runtime0.liveRequested ?? spec.live);
    let gapReason: string | undefined = takeover ? 'takeover' : undefined;

    for (let attempt = 0; ; attempt += 1) {
      if (stop.signal.aborted) break;
      await streams.setState(name, attempt === 0 ? (takeover ? 'reconnecting' : 'starting') : 'reconnecting');
      try {
        await deps.checkNetwork(spec);
      } catch (error) {
        if (!(error instanceof SourceError)) throw error;
        if (!(error instanceof HostUnresolvedError)) return await fail(error.message);
        // A name that does not resolve now may later: a failed attempt, like a probe that got no answer.
        failures += 1;
        if (!connected && failures >= config.connectAttempts) return await fail(`${spec.display}: ${error.message} (${failures} attempts)`);
        log.warn({ stream: name, reason: error.message, backoffMs: backoff }, 'source host unresolved; retrying');
        await sleep(backoff, stop.signal);
        backoff = Math.min(backoff * 2, config.reconnectMaxMs);
        continue;
      }
      // ---- probe ----
      if (!info || !live) {
        try {
          info = await deps.probe(spec, { timeoutMs: config.probeTimeoutMs, signal: stop.signal, ...(head ? { head } : {}) });
          // ffprobe can only guess a pipe's length from its head; the stream ends when the pipe does.
          if (spec.kind === 'stdin') info = { ...info, duration: undefined };
        } catch (error) {
          if (stop.signal.aborted) break;
          const reason = (error as Error).message;
          if (spec.kind === 'stdin') return await fail(`stdin: not readable media (${reason})`);
          if (spec.kind === 'file') {
            // A demuxer guessed from the file name ("low score") means the bytes are not media at all.
            if (!/low score/.test(reason) && /moov atom not found|end of file|truncat/i.test(reason)) return await fail(`${spec.display}: file is truncated or incomplete (${reason})`);
            return await fail(`${spec.display}: not a readable media file (${reason})`);
          }
          failures += 1;
          if (!connected && failures >= config.connectAttempts) return await fail(`${spec.display}: source never answered after ${failures} attempts (${reason})`);
          log.warn({ stream: name, reason, backoffMs: backoff }, 'source unavailable; retrying');
          await sleep(backoff, stop.signal);
          backoff = Math.min(backoff * 2, config.reconnectMaxMs);
          continue;
        }
        try {
          checkMedia(info, config, spec.display);
        } catch (error) {
          if (error instanceof SourceError) return await fail(error.message);
          throw error;
        }
        // A pipe cannot be reopened: however long it runs, it is decoded once, like a file.
        // Only a source that is live by nature (a camera, rtsp, a tcp/udp feed) or was added with
        // --live reconnects. A file or URL without a known duration (a single picture, a raw
        // .h264, an MPEG-TS served over http) ends when its bytes do, like any other file.
        live = spec.kind === 'stdin' ? false : (runtime0.liveRequested ?? spec.live);
        await streams.update(name, { live: live ? '1' : '0', ...(info.duration !== undefined && !live ? { durationS: info.duration } : {}) });
      }

      // ---- where this run starts in stream time ----
      const now = Date.now();
      let offset = 0;
      let gapBefore: StreamGap | undefined;
      if (lastEnd !== null) {
        if (live) {
          offset = lastEnd + Math.max(0, (now - (lastWallEnd ?? now)) / 1000);
          gapBefore = { from: lastEnd, to: offset, wallFrom: lastWallEnd ?? now, wallTo: now, reason: gapReason ?? 'reconnect' };
        } else {
          offset = lastEnd;
        }
      }
      const runWall = live ? now : wallOrigin + offset * 1000;
      // The same ffmpeg records a live stream: no second connection to the camera.
      const recorder = live && deps.recording ? await RunRecorder.start(deps.recording, name, info, { runWall, offset }, log) : undefined;
      const plan = buildDecodePlan(spec, info, { config, ...(live ? {} : { seekS: offset }), ...(recorder ? { record: recorder.plan } : {}) });
      const assembler = new ChunkAssembler({
        stream: name,
        chunkSeconds: config.chunkSeconds,
        firstSeq: nextSeq,
        offset,
        hasVideo: plan.hasVideo,
        hasAudio: plan.hasAudio,
        holdLast: !live,
        // A live stream keeps its audio flowing when video lags; a file always waits for its video.
        ...(live ? { maxSkewChunks: LIVE_MAX_SKEW_CHUNKS } : {}),
        width: plan.width,
        height: plan.height,
        wallAt: (t) => runWall + (t - offset) * 1000,
        ...(gapBefore ? { gapBefore: { from: gapBefore.from, to: gapBefore.to, wallFrom: gapBefore.wallFrom, wallTo: gapBefore.wallTo } } : {}),
      });

      // ---- decode: chunks flow through one async pump so Redis writes keep their order ----
      const pending: Chunk[] = [];
      let pumping: Promise<void> | undefined;
      let pumpError: unknown;
      let gapRecorded = false;
      const runStarted = Date.now();
      const session = deps.decode(
        plan,
        {
          frame: (f) => assembler.addFrame(f),
          videoEnded: () => assembler.videoEnded(),
          audio: (s) => assembler.addAudio(s),
          ...(recorder ? { segment: (segment) => recorder.finished(segment) } : {}),
        },
        stop.signal,
        config.sceneThreshold,
      );
      const flush = (chunks: Chunk[]) => {
        if (chunks.length === 0) return;
        pending.push(...chunks);
        if (pending.length > 4 && !session.paused) session.pause();
        pumping ??= pump().finally(() => (pumping = undefined));
      };
      const store = async (chunk: Chunk) => {
        if (!gapRecorded && gapBefore) {
          gapRecorded = true;
          await streams.addGap(name, gapBefore);
        }
        let inFlight = await streams.outstanding(name, NEXT_STAGE);
        if (inFlight >= config.maxChunksInFlight) {
          if (live) {
            chunk.droppedKeyframes = chunk.keyframes.length;
            chunk.keyframes = [];
          } else {
            // A file waits for perception; ffmpeg stalls on its full pipes meanwhile.
            session.pause();
            while (inFlight >= config.maxChunksInFlight && !stop.signal.aborted) {
              await streams.setState(name, 'waiting');
              await sleep(100, stop.signal);
              inFlight = await streams.outstanding(name, NEXT_STAGE);
            }
            if (stop.signal.aborted) return;
            await streams.setState(name, 'running');
          }
        }
        await deps.chunks.put(chunk);
        const wallEnd = chunk.wallStart + (chunk.end - chunk.start) * 1000;
        const lagS = live ? Math.max(0, (Date.now() - runStarted) / 1000 - (chunk.end - offset)) : 0;
        await streams.recordChunk(
          name,
          { seq: chunk.seq, end: chunk.end, wallEnd, keyframes: chunk.keyframes.length, droppedKeyframes: chunk.droppedKeyframes, lagS, ...(chunk.final ? { final: true } : {}) },
          NEXT_STAGE,
          chunkUnit(runtime0.jobId, chunk.seq),
        );
        await deps.enqueuePerceive(name, chunk.seq, runtime0.jobId);
        nextSeq = chunk.seq + 1;
        lastEnd = chunk.end;
        lastWallEnd = wallEnd;
      };
      const pump = async () => {
        try {
          while (pending.length > 0) {
            const chunk = pending.shift()!;
            if (stop.signal.aborted) {
              pending.length = 0;
              break;
            }
            await store(chunk);
          }
        } catch (error) {
          pumpError = error;
          session.kill();
        }
        if (session.paused && !stop.signal.aborted) session.resume();
      };
      let stalled = false;
      const ticker = setInterval(() => {
        flush(assembler.take());
        // Until the first bytes, connecting and probing may take up to probeTimeoutMs as well.
        const allowed = config.stallTimeoutMs + (session.lastDataAt === startedAt ? config.probeTimeoutMs : 0);
        if (!session.paused && Date.now() - session.lastDataAt > allowed) {
          log.warn({ stream: name }, 'no data from the source; restarting ffmpeg');
          stalled = true;
          session.kill();
        }
      }, 50);
      const startedAt = session.lastDataAt;
      await streams.setState(name, 'running');
      let result: DecodeResult;
      try {
        result = await session.done;
      } finally {
        clearInterval(ticker);
      }
      const killedByStop = result.outcome === 'killed' && stop.signal.aborted;
      const ended = result.outcome === 'ended';
      const media = assembler.framesSeen > 0 || assembler.emittedUntil > offset;
      if (killedByStop) flush(assembler.take());
      else flush(assembler.finish(!live && ended, info.duration !== undefined ? info.duration - offset : undefined));
      while (pumping) await pumping;
      await recorder?.close(lastEnd ?? offset);
      if (pumpError) throw pumpError;
      if (killedByStop) break;

      if (!live) {
        if (!ended || stalled) return await fail(`${spec.display}: decoding failed at ${(lastEnd ?? 0).toFixed(1)} s (${stalled ? 'no data for ' + config.stallTimeoutMs + ' ms' : result.message || 'ffmpeg died'})`);
        if (!media && (lastEnd ?? 0) === 0) return await fail(`${spec.display}: no decodable audio or video (${result.message || 'ffmpeg produced nothing'})`);
        const decodedTo = lastEnd ?? 0;
        if (info.duration !== undefined && decodedTo < info.duration - Math.max(2 * config.chunkSeconds, 0.05 * info.duration)) {
          return await fail(`${spec.display}: file is truncated or damaged: decoded ${decodedTo.toFixed(1)} s of ${info.duration.toFixed(1)} s (${result.message || 'ffmpeg stopped early'})`);
        }
        await streams.setState(name, 'done');
        return 'done';
      }
      // Live: the source went away, died or stalled. Reconnect from the live edge.
      if (media) {
        connected = true;
        failures = 0;
        backoff = config.reconnectMinMs;
      } else {
        failures += 1;
        if (!connected && failures >= config.connectAttempts) return await fail(`${spec.display}: source never answered after ${failures} attempts (${result.message || 'no data'})`);
      }
      // The gap is named by what ended the last run that produced media, not by failed retries.
      if (media) gapReason = stalled ? 'stall' : 'reconnect';
      log.warn({ stream: name, outcome: result.outcome, message: result.message, backoffMs: backoff }, 'live source ended; reconnecting');
      await streams.setState(name, 'reconnecting');
      await sleep(backoff, stop.signal);
      backoff = Math.min(backoff * 2, config.reconnectMaxMs);
    }
    if (stop.signal.reason instanceof IngestInterrupted) {
      await streams.setState(name, 'waiting');
      throw stop.signal.reason;
    }
    await streams.setState(name, 'stopped');
    return 'stopped';
  } finally {
    clearInterval(stopPoll);
    signal.removeEventListener('abort', onShutdown);
  }
}
