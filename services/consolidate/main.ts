// Composition root of the consolidate role: opens long-term memory (LanceDB), the event inbox,
// the LLM client and blob files, and handles the consolidate queue's four jobs. A process holds
// many ConsolidateEvent jobs at once and writes their events in batches; one batch or maintenance
// job at a time writes, across all processes, under the memory write lock (memory-lock.ts).
import { PermanentError } from '../../config/errors.js';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { consolidateBatch, validateEvent, type ConsolidateOutcome } from '../../pipelines/consolidate/consolidate.js';
import { runBuildEpisodes, runMaintainMemory, runOptimizeTables } from '../../pipelines/consolidate/maintenance.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { holdFor } from '../../pipelines/records/recording-retention.js';
import { LivePublisher } from '../../pipelines/repositories/live.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { blobDataUrl, deleteBlobs } from '../../pipelines/repositories/blob-store.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { reclusterIdentities } from '../../pipelines/faces/identity-upkeep.js';
import { isLastAttempt } from '../../pipelines/repositories/queue.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import { MicroBatcher } from '../../models/runtime/batcher.js';
import type { Closeable, EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';
import { blobStore, lanceAccess, recordingRepository } from '../runtime/storage.js';

export async function handlers(context: EngramContext): Promise<HandlerMap> {
  const { config, paths } = context;
  const store = await MemoryStore.open(paths.lancedbUri, { ...lanceAccess(context.loaded, context.redis), reinforceDays: config.memory.reinforceDays, readConsistencySeconds: config.memory.readConsistencySeconds });
  context.onClose('memory-store', store);
  const inbox = new EventInbox(context.redis.connection('event-inbox'), config.redis.prefix);
  const streams = new StreamRepository(context.redis.connection('consolidate-progress'), config.redis.prefix);
  const live = new LivePublisher(context.redis, config.redis.prefix);
  const recordings = recordingRepository(context.loaded, context.redis.connection('consolidate-progress'));
  const llm = new LlmClient(config.llm);
  const blobs = blobStore(context.loaded);
  const log = context.log.child({ role: 'consolidate' });
  const summarizer = makeSummarizer(llm, (p) => blobDataUrl(blobs, p), {
    maxImages: config.llm.maxImages,
    failureCooldownMs: config.llm.failureCooldownMs,
    trackMemorySeconds: config.segment.tracks.memorySeconds,
    onError: (error) => log.warn({ err: error }, 'LLM summary failed; stored an extractive summary to upgrade later'),
  });
  // Faces off: no people tables are opened, and events' faces (there are none) would be ignored.
  const people = config.faces.enabled ? await PeopleStore.open(paths.lancedbUri, blobs, config.faces, lanceAccess(context.loaded, context.redis)) : undefined;
  if (people) context.onClose('people-store', people);
  const lock = new MemoryWriteLock(context.redis.connection('memory-lock'), config.redis.prefix);
  // Closed events from every job this process holds, written together: one merge-insert per
  // table per batch instead of per event. A batch that fails is retried event by event, so a
  // fault reaches only the job whose event caused it.
  const batcher = new MicroBatcher<ClosedEvent, ConsolidateOutcome>(
    async (events, signal) => {
      const outcomes = await lock.run(() => consolidateBatch(events, { store, summarizer, memory: config.memory, signal, ...(people ? { people, faceGroupDistance: config.faces.eventGroupDistance } : {}) }), signal);
      const changed = [...new Set(outcomes.filter((o) => o.status !== 'duplicate').map((o) => o.id))];
      if (changed.length > 0) {
        const stored = await store.getEvents(changed);
        // The events keep their stretch of recording past recordings.retainDays, per label
        // (recordings.labelRetainDays: detector labels such as "person", or tags such as "speech").
        for (const e of stored) await recordings.hold(e.stream, holdFor({ id: e.id, startedAt: e.startedAt, endedAt: e.endedAt, labels: [...e.labels, ...e.tags] }, config.recordings));
        // New or grown memory: tell the live views (best effort, off the jobs' outcomes).
        void Promise.all(stored.map((e) => live.publishEvent(e))).catch((error: unknown) => log.warn({ err: error }, 'live event update failed'));
      }
      return outcomes;
    },
    { maxSize: config.memory.consolidateBatchEvents, maxWaitMs: config.memory.consolidateBatchMs },
  );
  context.onClose('consolidate-batches', { close: async () => batcher.close() });

  return {
    [JobName.ConsolidateEvent]: async ({ stream, eventId }, { signal, log: jobLog, job }) => {
      // Settle the stream's progress once the event is stored, merged, a duplicate, or given up.
      const settle = () => streams.stageSettle(stream, Role.Consolidate, eventId);
      try {
        const event = await inbox.get(eventId);
        if (!event) {
          if (await store.hasEvent(eventId) || (await store.getEvent(eventId))) {
            await settle();
            return 'skipped';
          }
          throw new PermanentError(`closed event ${eventId} is not in the event inbox (expired after its TTL or never put); it cannot be consolidated`);
        }
        // A bad event fails its own job at once instead of costing its batch a retry. An event that
        // can never be stored (InvalidEventError, VectorSizeError) is a PermanentError: the queue
        // fails it without retries.
        validateEvent(event);
        const outcome = await batcher.submit(event, signal);
        jobLog.debug({ ...outcome }, 'consolidated');
        await inbox.delete(eventId);
        await settle();
        return outcome.status === 'duplicate' ? 'skipped' : 'done';
      } catch (error) {
        if (isLastAttempt(job, error)) await settle().catch(() => undefined);
        throw error;
      }
    },
    [JobName.BuildEpisodes]: async ({ stream }, { log: jobLog }) => {
      const run = await lock.run(() => runBuildEpisodes(store, config.memory, Date.now(), stream));
      jobLog.debug(run, 'episodes built');
      return run.episodes > 0 ? 'done' : 'skipped';
    },
    [JobName.MaintainMemory]: async (_data, { signal, log: jobLog }) => {
      const run = await lock.run(async () => {
        const maintained = await runMaintainMemory({ store, deleteBlobs: (p) => deleteBlobs(blobs, p), summarizer, llmConfigured: llm.isConfigured, signal }, config.memory, Date.now());
        // Identities whose centroids drifted together as faces were added are merged; their events follow.
        const merged = people ? await reclusterIdentities({ people, events: store }) : [];
        return { ...maintained, mergedIdentities: merged.length };
      }, signal);
      jobLog.info(run, 'memory maintained');
      return 'done';
    },
    [JobName.OptimizeTables]: async (_data, { log: jobLog }) => {
      const run = await lock.run(() => runOptimizeTables(store, config.memory));
      jobLog.info(run, 'tables optimized');
      return 'done';
    },
  };
}

export async function start(context: EngramContext): Promise<Closeable> {
  const { memory } = context.config;
  // Writers are serialised by the memory write lock, not by the queue: earlier versions capped the
  // queue at one job across all processes, which left nothing to batch.
  await context.queues.queue(QueueName.Consolidate).removeGlobalConcurrency();
  await context.queues.schedule(JobName.BuildEpisodes, {}, memory.episodesEveryMs);
  await context.queues.schedule(JobName.MaintainMemory, {}, memory.maintainEveryMs);
  await context.queues.schedule(JobName.OptimizeTables, {}, memory.optimizeEveryMs);
  return { close: async () => undefined };
}

const role: RoleModule = { handlers, start };
export default role;
