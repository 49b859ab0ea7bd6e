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
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import type { RecordingDeps } from '../../pipelines/ingest/recorder.js';
import type { EngramContext } from '../runtime/context.js';
import { fileRoots } from '../runtime/file-roots.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';

/** Recording for live streams (recordings.enabled): the index, files and a throttled retention sweep. */
export function recordingDeps(context: EngramContext): RecordingDeps | undefined {
  const config = context.config.recordings;
  if (!config.enabled) return undefined;
  const recordings = RecordingRepository.local(context.redis.connection('recordings'), context.config.redis.prefix, context.paths.recordingsDir);
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
    enqueuePerceive: async (stream, seq, run) => {
      await context.queues.addFollowUp(perceiveChunk(stream, seq, run));
    },
    log: context.log.child({ role: 'ingest' }),
  };
  const recording = recordingDeps(context);
  return recording ? { ...deps, recording } : deps;
}

const role: RoleModule = {
  workerOptions(context) {
    const c = context.config.ingest;
    return { lockDuration: c.lockDurationMs, stalledInterval: c.stalledIntervalMs, maxStalledCount: c.maxStalledCount };
  },
  async handlers(context): Promise<HandlerMap> {
    const deps = ingestDeps(context);
    return {
      [JobName.IngestStream]: async (data, { signal, job, token }) => {
        try {
          const outcome = await ingestStream(deps, data.stream, job.id, signal);
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
