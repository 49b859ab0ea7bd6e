// The ingest stage: runs one stream from its checkpoint until the source ends, the user stops it,
// or it fails for good. Files resume from the last stored chunk and wait when perception falls
// behind; live sources reconnect with capped exponential backoff, restart on a stall, record
// every gap, and drop keyframes (never audio) when too many chunks are in flight.
import { checkMedia } from './decode-plan.js';
import { HostUnresolvedError } from './network-guard.js';
import { resolveSource } from './source.js';
import { SourceError, type SourceSpec } from '../records/source.js';
import type { MediaInfo } from '../repositories/media-types.js';
import { checkStdinHead, STDIN_TERMINAL_MESSAGE, stdinOwnerGoneMessage } from './stdin.js';
import { TERMINAL_STATES, type StreamRuntime } from '../repositories/streams.js';
import { CHUNKS_PER_WRITE, decodeRun } from './decode-run.js';
import { adoptMedia, backOff, IngestInterrupted, type IngestDeps, type IngestOutcome, type RunResult, type RunState, type StreamRun } from './stream-run.js';

export { IngestInterrupted, NEXT_STAGE, type Decoding, type IngestDeps, type IngestOutcome, type StdinInput } from './stream-run.js';

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

/**
 * Runs one stream: checks it is still this job's, resolves its source, resumes from the checkpoint,
 * then connects, decodes and (for live sources) reconnects until the source ends, a stop or
 * shutdown arrives, or the stream fails for good.
 */
export async function ingestStream(deps: IngestDeps, name: string, jobId: string | undefined, signal: AbortSignal): Promise<IngestOutcome> {
  const { streams } = deps;
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
  const source = await openSource(deps, name, runtime0, fail);
  if (source === 'stale') return 'stale';

  // A stop request or shutdown ends the current ffmpeg run; polled because the request comes from
  // another process.
  const stop = new AbortController();
  const onShutdown = () => stop.abort(new IngestInterrupted('worker shutting down'));
  signal.addEventListener('abort', onShutdown, { once: true });
  const stopPoll = setInterval(() => {
    void streams.stopRequested(name).then((requested) => requested && stop.abort('stop'), () => undefined);
  }, 250);

  try {
    const run: StreamRun = { deps, name, runtime0, ...source, takeover: runtime0.lastEnd !== null, stop, fail };
    const state = await resumeFromCheckpoint(run);
    if (state === 'done') return 'done';
    for (let attempt = 0; !stop.signal.aborted; attempt += 1) {
      const connected = await connectSource(run, state, attempt);
      if (connected === 'stopped') break;
      if (connected === 'retry') continue;
      const outcome = await decodeRun(run, state, connected === 'unprobed' ? undefined : connected);
      if (outcome.killedByStop) break;
      if (outcome.replan) {
        // Not a failed attempt: the same source, planned with what is now known of it.
        state.unprobed = false;
        state.known = outcome.replan === 'probe' ? undefined : outcome.replan;
        attempt -= 1;
        continue;
      }
      if (!state.live) return await finishFile(run, state, outcome);
      await prepareReconnect(run, state, outcome);
    }
    return await endStopped(run);
  } finally {
    clearInterval(stopPoll);
    signal.removeEventListener('abort', onShutdown);
  }
}

/** The stream's source resolved and checked, and a pipe's head read; 'stale' for a finished pipe. */
async function openSource(deps: IngestDeps, name: string, runtime0: StreamRuntime, fail: (message: string) => Promise<never>): Promise<{ spec: SourceSpec; head: Buffer | undefined } | 'stale'> {
  try {
    const spec = resolveStreamSource(deps, runtime0.source);
    if (spec.kind !== 'stdin') return { spec, head: undefined };
    // A worker got the job because the command holding the pipe stopped renewing it. If the
    // command finished the stream and died before removing the job, there is nothing to do.
    if (!deps.stdin && TERMINAL_STATES.includes(runtime0.state)) return 'stale';
    return { spec, head: await readPipeHead(deps, name) };
  } catch (error) {
    if (error instanceof SourceError) return fail(error.message);
    throw error;
  }
}

/** Where this job picks the stream up: after the last stored chunk, or 'done' if that was the last. */
async function resumeFromCheckpoint(run: StreamRun): Promise<RunState | 'done'> {
  const { deps, name, runtime0, spec } = run;
  if (run.takeover && runtime0.nextSeq > 0) {
    // The previous worker may have died between a batch's checkpoint and its enqueue; adding
    // again is a no-op otherwise.
    const from = Math.max(0, runtime0.nextSeq - CHUNKS_PER_WRITE);
    await deps.enqueuePerceive(name, Array.from({ length: runtime0.nextSeq - from }, (_, i) => from + i), runtime0.jobId);
  }
  if (runtime0.finished && runtime0.liveRequested !== true) {
    // The previous worker stored the final chunk and died before saying so: decoding again from
    // the end would add a sliver of a chunk after the final one.
    await deps.streams.setState(name, 'done');
    return 'done';
  }
  const wallOrigin = runtime0.wallOrigin ?? Date.now();
  if (runtime0.wallOrigin === null) await deps.streams.update(name, { wallOrigin });
  return {
    nextSeq: runtime0.nextSeq,
    lastEnd: runtime0.lastEnd,
    lastWallEnd: runtime0.lastWallEnd,
    wallOrigin,
    backoff: deps.config.reconnectMinMs,
    connected: false,
    failures: 0,
    info: undefined,
    live: spec.kind === 'stdin' ? false : (runtime0.liveRequested ?? spec.live),
    gapReason: run.takeover ? 'takeover' : undefined,
    unprobed: spec.kind === 'file' && !(runtime0.liveRequested ?? spec.live),
    known: undefined,
  };
}

/**
 * Checks the source's host and probes it (once for a live source, every run for a file): the media
 * it holds, 'retry' after a failed attempt that may succeed later, 'stopped', or 'unprobed' for a
 * local file that ffmpeg describes itself (see RunState.unprobed).
 */
async function connectSource(run: StreamRun, state: RunState, attempt: number): Promise<MediaInfo | 'retry' | 'stopped' | 'unprobed'> {
  const { deps, name, spec, stop, fail } = run;
  const { config, streams, log } = deps;
  await streams.setState(name, attempt === 0 ? (run.takeover ? 'reconnecting' : 'starting') : 'reconnecting');
  try {
    await deps.checkNetwork(spec);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    if (!(error instanceof HostUnresolvedError)) return fail(error.message);
    // A name that does not resolve now may later: a failed attempt, like a probe that got no answer.
    state.failures += 1;
    if (!state.connected && state.failures >= config.connectAttempts) return fail(`${spec.display}: ${error.message} (${state.failures} attempts)`);
    log.warn({ stream: name, reason: error.message, backoffMs: state.backoff }, 'source host unresolved; retrying');
    await backOff(run, state);
    return 'retry';
  }
  if (state.unprobed) return 'unprobed';
  if (state.info && state.live) return state.info;
  let info: MediaInfo;
  try {
    if (state.known) {
      info = state.known;
      state.known = undefined;
    } else info = await deps.probe(spec, { timeoutMs: config.probeTimeoutMs, signal: stop.signal, ...(run.head ? { head: run.head } : {}) });
    // ffprobe can only guess a pipe's length from its head; the stream ends when the pipe does.
    if (spec.kind === 'stdin') info = { ...info, duration: undefined };
  } catch (error) {
    if (stop.signal.aborted) return 'stopped';
    const reason = (error as Error).message;
    if (spec.kind === 'stdin') return fail(`stdin: not readable media (${reason})`);
    if (spec.kind === 'file') {
      // A demuxer guessed from the file name ("low score") means the bytes are not media at all.
      if (!/low score/.test(reason) && /moov atom not found|end of file|truncat/i.test(reason)) return fail(`${spec.display}: file is truncated or incomplete (${reason})`);
      return fail(`${spec.display}: not a readable media file (${reason})`);
    }
    state.failures += 1;
    if (!state.connected && state.failures >= config.connectAttempts) return fail(`${spec.display}: source never answered after ${state.failures} attempts (${reason})`);
    log.warn({ stream: name, reason, backoffMs: state.backoff }, 'source unavailable; retrying');
    await backOff(run, state);
    return 'retry';
  }
  try {
    checkMedia(info, config, spec.display);
  } catch (error) {
    if (error instanceof SourceError) return fail(error.message);
    throw error;
  }
  await adoptMedia(run, state, info);
  return info;
}

/** A file (or pipe) decoded to its end: 'done', or a failure saying what was missing. */
async function finishFile(run: StreamRun, state: RunState, outcome: RunResult): Promise<'done'> {
  const duration = state.info?.duration;
  const { deps, name, spec, fail } = run;
  const { result, ended, media, stalled } = outcome;
  if (!ended || stalled) return fail(`${spec.display}: decoding failed at ${(state.lastEnd ?? 0).toFixed(1)} s (${stalled ? 'no data for ' + deps.config.stallTimeoutMs + ' ms' : result.message || 'ffmpeg died'})`);
  if (!media && (state.lastEnd ?? 0) === 0) return fail(`${spec.display}: no decodable audio or video (${result.message || 'ffmpeg produced nothing'})`);
  const decodedTo = state.lastEnd ?? 0;
  if (duration !== undefined && decodedTo < duration - Math.max(2 * deps.config.chunkSeconds, 0.05 * duration)) {
    return fail(`${spec.display}: file is truncated or damaged: decoded ${decodedTo.toFixed(1)} s of ${duration.toFixed(1)} s (${result.message || 'ffmpeg stopped early'})`);
  }
  await deps.streams.setState(name, 'done');
  return 'done';
}

/** Live: the source went away, died or stalled. Count the attempt, name the gap, wait, reconnect. */
async function prepareReconnect(run: StreamRun, state: RunState, outcome: RunResult): Promise<void> {
  const { deps, name, spec, fail } = run;
  const { config, streams, log } = deps;
  const { result, media, stalled } = outcome;
  if (media) {
    state.connected = true;
    state.failures = 0;
    state.backoff = config.reconnectMinMs;
  } else {
    state.failures += 1;
    if (!state.connected && state.failures >= config.connectAttempts) await fail(`${spec.display}: source never answered after ${state.failures} attempts (${result.message || 'no data'})`);
  }
  // The gap is named by what ended the last run that produced media, not by failed retries.
  if (media) state.gapReason = stalled ? 'stall' : 'reconnect';
  log.warn({ stream: name, outcome: result.outcome, message: result.message, backoffMs: state.backoff }, 'live source ended; reconnecting');
  await streams.setState(name, 'reconnecting');
  await backOff(run, state);
}

/** Stopped by request ('stopped'), or by this worker's shutdown (thrown, so the job runs again). */
async function endStopped(run: StreamRun): Promise<'stopped'> {
  const { deps, name, stop } = run;
  if (stop.signal.reason instanceof IngestInterrupted) {
    await deps.streams.setState(name, 'waiting');
    throw stop.signal.reason;
  }
  await deps.streams.setState(name, 'stopped');
  return 'stopped';
}
