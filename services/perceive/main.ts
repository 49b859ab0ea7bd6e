// Composition root of the perceive role: for each chunk, run the installed models
// (pipelines/perceive/perceive-chunk.ts), append the record to the stream's short-term memory,
// ask for a segment tick, and let go of the chunk. Any number of perceive processes may run;
// the models' micro-batcher groups the chunks in flight in one process across streams.
import { setMaxListeners } from 'node:events';
import { EngramError, PermanentError } from '../../config/errors.js';
import { JobName, Role } from '../../pipelines/jobs.js';
import { perceiveChunk, type PerceiveDeps } from '../../pipelines/perceive/perceive-chunk.js';
import { StreamLanes } from '../../pipelines/perceive/stream-lanes.js';
import { faceCropPath, thumbnailPath } from '../../pipelines/repositories/blob-store.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { isLastAttempt } from '../../pipelines/repositories/queue.js';
import { GateStore } from '../../pipelines/repositories/gate-store.js';
import { GateLock } from '../../pipelines/repositories/gate-lock.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { segmentTick } from '../../pipelines/follow-ups.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import type { EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';
import { blobStore } from '../runtime/storage.js';

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
    const blobs = blobStore(context.loaded);
    const detect = context.config.detect;
    const known = models.detectorLabels();
    if (detect.enabled && known) {
      // A label the model cannot produce would silently never be seen: say so once, at startup.
      const unknown = [...detect.labels, ...Object.keys(detect.thresholds)].filter((l) => !known.includes(l));
      if (unknown.length > 0) log.warn({ unknown: [...new Set(unknown)] }, `detect: the detector has no label ${[...new Set(unknown)].map((l) => JSON.stringify(l)).join(', ')}; known labels are the COCO-80 names (person, car, traffic light, ...)`);
    }
    // Gating state outlives no stream by much: after shortTermSeconds without a chunk every model runs afresh.
    const gates = new GateStore(redis, prefix, { ttlSeconds: context.config.segment.shortTermSeconds });
    // Other perceive processes (serve starts one per core) take turns on a stream's gated part too.
    const gateLock = new GateLock(redis, prefix, { ttlMs: 10_000, waitMs: 10_000 });
    const deps: PerceiveDeps = {
      models,
      gates,
      lanes: new StreamLanes((stream, work) => gateLock.around(stream, work)),
      detect,
      faces: context.config.faces,
      saveThumbnail: (stream, wallMs, jpeg) => blobs.write(thumbnailPath(stream, wallMs), jpeg),
      saveFaceCrop: (stream, wallMs, index, bmp) => blobs.write(faceCropPath(stream, wallMs, index), bmp),
    };

    return {
      [JobName.PerceiveChunk]: async ({ stream, seq }, { signal: shutdown, job }) => {
        const signal = AbortSignal.any([shutdown]);
        setMaxListeners(32, signal);
        // The chunk's unit of perceive work is this job's id (ingest tracked it when it stored the
        // chunk); settling it is idempotent, so a re-run or a duplicate settles nothing twice.
        const settle = () => streams.stageSettle(stream, Role.Perceive, job.id ?? String(seq));
        const chunk = await chunks.get(stream, seq);
        if (!chunk) {
          // Gone: an earlier run of this job finished it (the chunk is deleted only after its record
          // was appended), or it expired unread. Either way nothing is owed any more; segment
          // records a gap if no record for it ever arrived.
          await settle();
          log.warn({ stream, seq }, 'chunk is no longer in Redis; the segmenter will record a gap unless it was perceived already');
          await context.queues.addFollowUp(segmentTick(stream));
          return 'skipped';
        }
        try {
          const record = await perceiveChunk(chunk, context.config.perceive, deps, signal);
          if (await memory.append(record)) await streams.stageTrack(stream, Role.Segment, String(seq));
        } catch (error) {
          const final = error instanceof EngramError ? new PermanentError(`chunk ${seq} of stream "${stream}": ${error.message}`) : error;
          if (isLastAttempt(job, final)) {
            await settle();
            // The segmenter records the missing sequence as a gap once nothing owes it any more.
            await context.queues.addFollowUp(segmentTick(stream));
          }
          throw final;
        }
        await settle();
        await context.queues.addFollowUp(segmentTick(stream));
        await chunks.delete(stream, seq);
        return 'done';
      },
    };
  },
};

export default role;
export const { handlers } = role;
