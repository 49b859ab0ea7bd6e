// Composition root of the perceive role: for each chunk, run the installed models
// (pipelines/perceive/perceive-chunk.ts), append the record to the stream's short-term memory,
// ask for a segment tick, and let go of the chunk. Any number of perceive processes may run;
// the models' micro-batcher groups the chunks in flight in one process across streams.
import { setMaxListeners } from 'node:events';
import { EngramError, PermanentError } from '../../config/errors.js';
import { JobName, Role } from '../../pipelines/jobs.js';
import { perceiveChunk, type PerceiveDeps } from '../../pipelines/perceive/perceive-chunk.js';
import { thumbnailPath } from '../../pipelines/repositories/blob-store.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { isLastAttempt } from '../../pipelines/repositories/queue.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { segmentTick } from '../../pipelines/follow-ups.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import type { EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';

const role: RoleModule = {
  async handlers(context: EngramContext): Promise<HandlerMap> {
    const prefix = context.config.redis.prefix;
    const redis = context.redis.connection('perceive');
    const log = context.log.child({ role: 'perceive' });
    const models = await ModelRepository.open({ config: context.config.models, paths: context.paths, log });
    context.onClose('models', models);
    // Open every session now, so the first chunks of a live stream are not late by a model load.
    // A model that cannot load is reported here and again, by name, on the chunks that need it.
    try {
      await models.warmUp();
    } catch (error) {
      log.warn({ err: error }, 'a model failed to warm up; chunks that need it will fail with the reason');
    }
    const chunks = new ChunkStore(redis, prefix, context.config.ingest.chunkTtlSeconds);
    const memory = new ShortTermMemory(redis, prefix, { spanSeconds: context.config.segment.shortTermSeconds });
    const streams = new StreamRepository(redis, prefix);
    const blobs = new LocalBlobStore(context.paths.blobsDir);
    // Each running job of every role listens on the process's shutdown signal (perceive jobs once,
    // through a child signal their model calls share): legitimately more than Node's warning
    // threshold of 10. The bound still catches a real leak, which grows without limit.
    const queues = context.config.queues;
    setMaxListeners(Math.max(256, 4 * Object.values(queues).reduce((sum, q) => sum + q.concurrency, 0)), context.signal);
    const deps: PerceiveDeps = { models, marks: memory, saveThumbnail: (stream, wallMs, jpeg) => blobs.write(thumbnailPath(stream, wallMs), jpeg) };

    return {
      [JobName.PerceiveChunk]: async ({ stream, seq }, { signal: shutdown, job }) => {
        const signal = AbortSignal.any([shutdown]);
        setMaxListeners(32, signal);
        const chunk = await chunks.get(stream, seq);
        if (!chunk) {
          // Gone: either an earlier attempt of this job finished it (the chunk is deleted only after
          // its progress was counted), or it expired unread; only the latter still owes its count.
          if (job.attemptsMade === 0) await streams.stageProgress(stream, Role.Perceive, -1);
          log.warn({ stream, seq }, 'chunk is no longer in Redis; the segmenter will record a gap');
          return 'skipped';
        }
        try {
          const record = await perceiveChunk(chunk, context.config.perceive, deps, signal);
          if (await memory.append(record)) await streams.stageProgress(stream, Role.Segment, 1);
          await context.queues.addFollowUp(segmentTick(stream));
        } catch (error) {
          const final = error instanceof EngramError ? new PermanentError(`chunk ${seq} of stream "${stream}": ${error.message}`) : error;
          if (isLastAttempt(job, final)) {
            await streams.stageProgress(stream, Role.Perceive, -1);
            // The segmenter treats the missing sequence as a gap once its wait runs out.
            await context.queues.addFollowUp(segmentTick(stream));
          }
          throw final;
        }
        await streams.stageProgress(stream, Role.Perceive, -1);
        await chunks.delete(stream, seq);
        return 'done';
      },
    };
  },
};

export default role;
export const { handlers } = role;
