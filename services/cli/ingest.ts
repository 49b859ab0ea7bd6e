// engram ingest SOURCE: adds a stream and, for a finite source, waits until the roles that exist
// have processed all of it. With no ingest worker running anywhere, it runs the built roles in
// this process for the duration.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { ingestStream, type IngestDeps } from '../../pipelines/ingest/ingest-stream.js';
import { assertStreamName, defaultStreamName } from '../../pipelines/ingest/source.js';
import { SourceError } from '../../pipelines/records/source.js';
import { decode, PipeInput } from '../../pipelines/repositories/media.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { ingestDeps } from '../ingest/main.js';
import { builtRoles, startRoles } from '../runtime/roles.js';
import type { EngramContext } from '../runtime/context.js';
import { load, logger, printJson, withContext } from './common.js';

export interface IngestReport {
  stream: string;
  durationS: number;
  chunks: number;
  keyframes: number;
  droppedFrames: number;
  gaps: number;
  elapsedMs: number;
  /** Media seconds per wall-clock second. */
  realtimeFactor: number;
  /** Events segmentation closed for this run of the stream (0 where the segment role is not built). */
  events: number;
  /** Each gap: stream seconds from..to and why (reconnect, stall, takeover, not-perceived). */
  gapSpans: { from: number; to: number; reason: string }[];
  state: string;
  /** Set when Ctrl-C (or SIGTERM) ended the wait before every role had processed the stream. */
  interrupted?: boolean;
  error?: string;
}

/** A path-like source is made absolute here, since the worker that reads it may run elsewhere. */
export function normaliseSource(source: string, cwd = process.cwd()): string {
  // file:///path is the same file as /path, and is trusted the same way on the command line.
  if (/^file:\/\//i.test(source)) {
    try {
      return fileURLToPath(source);
    } catch {
      return source; // resolveSource names what is wrong with it
    }
  }
  if (source === '-' || /^[a-z][a-z0-9+.-]*:/i.test(source)) return source;
  return resolve(cwd, source);
}

export function report(info: StreamInfo, elapsedMs: number, events = 0): IngestReport {
  const out: IngestReport = {
    stream: info.name,
    durationS: Number(info.mediaTime.toFixed(3)),
    chunks: info.chunks,
    keyframes: info.keyframes,
    droppedFrames: info.droppedFrames,
    gaps: info.gaps.length,
    elapsedMs,
    realtimeFactor: elapsedMs > 0 ? Number(((info.mediaTime * 1000) / elapsedMs).toFixed(2)) : 0,
    events,
    gapSpans: info.gaps.map((g) => ({ from: Number(g.from.toFixed(3)), to: Number(g.to.toFixed(3)), reason: g.reason })),
    state: info.state,
  };
  if (info.error) out.error = info.error;
  return out;
}

export interface IngestRequest {
  name: string;
  /** Absolute path or URL (see normaliseSource). */
  source: string;
  live?: boolean;
  /** What a "-" source reads: this process's stdin. */
  stdin?: Readable & { isTTY?: boolean };
}

const LIVE_PIPE_MESSAGE = '--live cannot be used with "-": a pipe is read once, to its end, and cannot reconnect; serve a live feed over tcp:// or udp:// instead';

/**
 * Runs the ingest of a "-" stream in this process, the only one that can read the pipe. The
 * stream's ingest job stays delayed while this runs, its delay renewed every third of
 * ingest.lockDurationMs: if this process dies, the job comes due and the worker that takes it
 * fails the stream with a message saying why, instead of the stream hanging in "running".
 */
async function ingestPipe(context: EngramContext, streams: StreamRepository, name: string, jobId: string, input: Readable & { isTTY?: boolean }): Promise<void> {
  const holdMs = context.config.ingest.lockDurationMs;
  const pipe = new PipeInput(input);
  const deps: IngestDeps = {
    ...ingestDeps(context),
    stdin: pipe,
    decode: (plan, handlers, signal, sceneThreshold) => decode(plan, handlers, signal, sceneThreshold, plan.stdin ? pipe : undefined),
  };
  const holder = setInterval(() => void streams.holdJob(jobId, holdMs).catch(() => undefined), Math.max(100, Math.floor(holdMs / 3)));
  try {
    await ingestStream(deps, name, jobId, context.signal);
  } catch (error) {
    // A SourceError has already put its message on the stream; anything else is said here.
    if (!(error instanceof SourceError)) await streams.setState(name, 'failed', `ingest from stdin failed: ${(error as Error).message}`);
  } finally {
    clearInterval(holder);
    await streams.releaseJob(jobId).catch(() => undefined);
    pipe.close();
  }
}

/**
 * Adds the stream and waits until the roles that exist have processed it. With no ingest worker
 * running anywhere, the built roles (all but api) run in this process for the duration. Shared by
 * `engram ingest` and `engram demo`.
 */
export async function ingestAndWait(context: EngramContext, request: IngestRequest): Promise<{ info: StreamInfo; report: IngestReport }> {
  const { name, source } = request;
  const piped = source === '-';
  if (piped && !request.stdin) throw new EngramError('source "-" reads stdin, and none was given');
  if (piped && request.live) throw new EngramError(LIVE_PIPE_MESSAGE);
  const started = Date.now();
  let events = 0;
  const countEvents = async (stream: StreamInfo) => {
    // The segmenter's state counts the events of the run it belongs to (its generation).
    const memory = new ShortTermMemory(context.redis.connection('cli-ingest-events'), context.config.redis.prefix, { spanSeconds: context.config.segment.shortTermSeconds });
    const state = await memory.loadState(stream.name);
    events = state && state.generation === stream.startedAt ? state.eventsClosed : 0;
    return stream;
  };
  const streams = new StreamRepository(context.redis.connection('cli-ingest'), context.config.redis.prefix, context.queues);
  const workers = await context.queues.queue(QueueName.Ingest).getWorkers();
  const local = workers.length === 0;
  // A piped stream is ingested by this process itself (ingestPipe), never by an ingest worker.
  const roles = builtRoles().filter((role) => role !== Role.Api && !(piped && role === Role.Ingest));
  if (local) {
    // A file named on this command line is trusted when this process ingests it: whoever runs
    // the command can read it anyway. ingest.fileRoots guards sources that arrive otherwise
    // (the HTTP API, a daemon's workers), so it is widened only for the in-process roles.
    if (isAbsolute(source)) {
      const ingest = context.config.ingest;
      const roots = ingest.fileRoots.length > 0 ? ingest.fileRoots : [process.cwd(), context.paths.dataDir];
      ingest.fileRoots = [...roots, dirname(source)];
    }
    await startRoles(context, roles);
  }
  await streams.add({ name, source, ...(request.live ? { live: true } : {}) }, piped ? { holdMs: context.config.ingest.lockDurationMs } : {});
  let info: StreamInfo;
  if (request.live && !local) {
    info = (await streams.get(name))!;
  } else {
    // The first Ctrl-C stops the stream and this wait (whatever stage it is in, even when ingest
    // has finished and only later roles are still busy), and the command reports what it has; a
    // second one exits at once.
    const interrupted = new AbortController();
    const onSignal = () => {
      if (interrupted.signal.aborted) process.exit(130);
      interrupted.abort(new Error('interrupted'));
      void streams.stop(name).catch(() => undefined);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (piped) await ingestPipe(context, streams, name, (await streams.runtime(name))!.jobId, request.stdin!);
      // The roles that consume what ingest produces; ingest itself ends with a terminal state.
      const stages = roles.filter((role) => role !== Role.Ingest);
      try {
        info = await countEvents(await streams.waitUntilProcessed(name, { stages, signal: AbortSignal.any([context.signal, interrupted.signal]) }));
      } catch (error) {
        if (!interrupted.signal.aborted || context.signal.aborted) throw error;
        // Give the stop a moment to land, so the report says "stopped" rather than "running".
        info = await countEvents(await streams.waitUntilProcessed(name, { signal: AbortSignal.any([context.signal, AbortSignal.timeout(3_000)]) }).catch(async () => (await streams.get(name))!));
        return { info, report: { ...report(info, Date.now() - started, events), interrupted: true } };
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  return { info, report: report(info, Date.now() - started, events) };
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('add a source (file, rtsp/http/tcp/udp URL, v4l2:/dev/videoN, alsa:DEV, pulse:DEV, - for stdin) and wait until it is processed')
    .argument('<source>', 'file path or URL')
    .option('--name <name>', 'stream name (default: from the file name)')
    .option('--live', 'treat as a live source: drop frames when behind, reconnect, never "finish"')
    .option('--json', 'print the result as JSON')
    .action(async (sourceArg: string, options: { name?: string; live?: boolean; json?: boolean }, command: Command) => {
      const loaded = load(command);
      const log = logger(loaded, { cmd: 'ingest' });
      const name = options.name ?? defaultStreamName(sourceArg);
      assertStreamName(name);
      if (sourceArg.trim() === '-' && options.live) throw new EngramError(LIVE_PIPE_MESSAGE);
      const source = normaliseSource(sourceArg);
      const { info, report: result } = await withContext(loaded, log, (context) =>
        ingestAndWait(context, { name, source, ...(options.live ? { live: true } : {}), ...(source === '-' ? { stdin: process.stdin } : {}) }),
      );
      if (options.json) printJson(result);
      else if (info.state !== 'failed') {
        process.stdout.write(
          `${result.stream}: ${result.state}, ${result.durationS} s in ${result.chunks} chunks, ${result.keyframes} keyframes, ${result.droppedFrames} dropped, ${result.gaps} gaps, ${result.events} events, ${(result.elapsedMs / 1000).toFixed(1)} s (${result.realtimeFactor}x real time)\n`,
        );
      }
      if (info.state === 'failed') throw new EngramError(`stream ${name} failed: ${info.error ?? 'unknown error'}`);
      if (result.interrupted) throw new EngramError(`interrupted: stream ${name} is ${info.state}; what was processed so far stays in memory`, { exitCode: 130 });
    });
}
