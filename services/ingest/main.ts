// Composition root of the ingest role: builds the repositories the ingest stage needs and maps
// the ingest-stream job to it. A source that can never work fails its job unrecoverably.
import { perceiveChunk } from '../../pipelines/follow-ups.js';
import { JobName } from '../../pipelines/jobs.js';
import { IngestInterrupted, ingestStream, type IngestDeps } from '../../pipelines/ingest/ingest-stream.js';
import { PermanentError } from '../../config/errors.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { decode, localFiles, probe } from '../../pipelines/repositories/media.js';
import { checkSourceNetwork } from '../../pipelines/ingest/network-guard.js';
import { localNetwork } from '../../pipelines/repositories/source-network.js';
import { handBack } from '../../pipelines/repositories/queue.js';
import { RecordingCutter } from '../../pipelines/repositories/recording-cuts.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import type { RecordingDeps } from '../../pipelines/ingest/recorder.js';
import type { EngramContext } from '../runtime/context.js';
import { fileRoots } from '../runtime/file-roots.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';
import { blobStore, recordingRepository } from '../runtime/storage.js';
import { resolveSource } from '../../pipelines/ingest/source.js';
import { shareSourceFile } from '../../pipelines/repositories/source-share.js';

/** Recording for live streams (recordings.enabled): the index, files and a throttled retention sweep. */
export function recordingDeps(context: EngramContext): RecordingDeps | undefined {
  const config = context.config.recordings;
  if (!config.enabled) return undefined;
  const recordings = recordingRepository(context.loaded, context.redis.connection('recordings'));
  const cuts = new RecordingCutter(recordings);
  const log = context.log.child({ role: 'ingest' });
  // Every finished segment asks for a sweep; one every few seconds per process is plenty.
  let last = 0;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const now = Date.now();
    if (running || now - last < 5_000) return;
    last = now;
    running = (async () => {
      const result = await recordings.sweep(now, config);
      if (result.deletedByAge + result.deletedByCap > 0) log.info({ ...result }, 'recording retention deleted segments');
      await cuts.sweep(now, config.clipCacheSeconds * 1000);
    })().finally(() => (running = undefined));
    await running;
  };
  return {
    segmentSeconds: config.segmentSeconds,
    sink: {
      streamDir: (stream) => recordings.streamDir(stream),
      size: (file) => recordings.size(file),
      add: (segment) => recordings.add(segment),
      discard: (file) => recordings.discard(file),
      mediaSeconds: (file) => recordings.mediaSeconds(file),
      sweep,
    },
  };
}

export function ingestDeps(context: EngramContext): IngestDeps {
  const prefix = context.config.redis.prefix;
  const redis = context.redis.connection('ingest');
  const deps: IngestDeps = {
    config: context.config.ingest,
    fileRoots: fileRoots(context),
    cwd: process.cwd(),
    streams: new StreamRepository(redis, prefix, context.queues),
    chunks: new ChunkStore(redis, prefix, context.config.ingest.chunkTtlSeconds),
    files: localFiles,
    checkNetwork: (spec) => checkSourceNetwork(spec, context.config, localNetwork),
    probe,
    decode,
    enqueuePerceive: (stream, seqs, run) => context.queues.addFollowUps(seqs.map((seq) => perceiveChunk(stream, seq, run))),
    log: context.log.child({ role: 'ingest' }),
  };
  const recording = recordingDeps(context);
  return recording ? { ...deps, recording } : deps;
}

/**
 * With blobs on shared object storage, a file source is copied there (sources/<stream>/), so the
 * API on another host can cut its events' clips. A failed copy costs only those clips: it is
 * logged, and the stream goes on. Undefined with local blobs: the file is already where the API
 * of a one-host setup reads it.
 */
function sourceSharing(context: EngramContext, deps: IngestDeps): ((stream: string) => Promise<void>) | undefined {
  const blobs = blobStore(context.loaded);
  if (blobs.backend === 'local') return undefined;
  const log = context.log.child({ role: 'ingest' });
  return async (stream) => {
    try {
      const runtime = await deps.streams.runtime(stream);
      if (!runtime) return;
      const spec = resolveSource(runtime.source, { allowedProtocols: deps.config.allowedProtocols, fileRoots: deps.fileRoots, timeoutMs: deps.config.probeTimeoutMs, cwd: deps.cwd, files: deps.files });
      if (spec.kind !== 'file') return;
      const { path, copied } = await shareSourceFile(blobs, stream, spec.source);
      if (copied) log.info({ stream, blob: path, store: blobs.location }, 'copied the file source to object storage for clips');
    } catch (error) {
      log.warn({ err: error, stream }, 'could not copy the file source to object storage; its clips cannot be cut on other hosts');
    }
  };
}

const role: RoleModule = {
  workerOptions(context) {
    const c = context.config.ingest;
    return { lockDuration: c.lockDurationMs, stalledInterval: c.stalledIntervalMs, maxStalledCount: c.maxStalledCount };
  },
  async handlers(context): Promise<HandlerMap> {
    const deps = ingestDeps(context);
    const share = sourceSharing(context, deps);
    return {
      [JobName.IngestStream]: async (data, { signal, job, token }) => {
        try {
          // Alongside the decode, not before it: perception need not wait for the copy.
          const shared = share?.(data.stream);
          const outcome = await ingestStream(deps, data.stream, job.id, signal);
          await shared;
          return outcome === 'stale' ? 'skipped' : 'done';
        } catch (error) {
          // A source that can never work (SourceError) fails at once, without the retry bookkeeping.
          if (error instanceof PermanentError) throw error;
          // This worker is shutting down (SIGTERM): the stream goes back to the queue for another
          // worker to resume from its checkpoint, and keeps all its attempts for real faults.
          if (error instanceof IngestInterrupted) return handBack(job, token);
          // A fault worth a retry; on the last attempt the stream shows why it stopped.
          const attempts = job.opts.attempts ?? 1;
          if (!(error instanceof IngestInterrupted) && job.attemptsMade + 1 >= attempts) {
            await deps.streams.setState(data.stream, 'failed', `ingest failed after ${attempts} attempts: ${(error as Error).message}`).catch(() => undefined);
          }
          throw error;
        }
      },
    };
  },
};

export default role;
export const { handlers, workerOptions } = role;
