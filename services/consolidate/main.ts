// Composition root of the consolidate role: opens long-term memory (LanceDB), the event inbox,
// the LLM client and blob files, and handles the consolidate queue's four jobs. One writer: the
// queue's concurrency is 1 per process and its global concurrency is set to 1 across processes.
import { PermanentError } from '../../config/errors.js';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { runBuildEpisodes, runMaintainMemory, runOptimizeTables } from '../../pipelines/consolidate/maintenance.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { LivePublisher } from '../../pipelines/repositories/live.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { blobDataUrl, deleteBlobs } from '../../pipelines/repositories/blob-store.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { isLastAttempt } from '../../pipelines/repositories/queue.js';
import type { Closeable, EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';

export async function handlers(context: EngramContext): Promise<HandlerMap> {
  const { config, paths } = context;
  const store = await MemoryStore.open(paths.lancedbUri, { reinforceDays: config.memory.reinforceDays, readConsistencySeconds: config.memory.readConsistencySeconds });
  context.onClose('memory-store', store);
  const inbox = new EventInbox(context.redis.connection('event-inbox'), config.redis.prefix);
  const streams = new StreamRepository(context.redis.connection('consolidate-progress'), config.redis.prefix);
  const live = new LivePublisher(context.redis, config.redis.prefix);
  const llm = new LlmClient(config.llm);
  const blobs = new LocalBlobStore(paths.blobsDir);
  const log = context.log.child({ role: 'consolidate' });
  const summarizer = makeSummarizer(llm, (p) => blobDataUrl(blobs, p), {
    maxImages: config.llm.maxImages,
    failureCooldownMs: config.llm.failureCooldownMs,
    onError: (error) => log.warn({ err: error }, 'LLM summary failed; stored an extractive summary to upgrade later'),
  });

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
        // An event that can never be stored (InvalidEventError, VectorSizeError) is a PermanentError:
        // the queue fails it without retries.
        const outcome = await consolidateEvent(event, { store, summarizer, memory: config.memory, signal });
        jobLog.debug({ ...outcome }, 'consolidated');
        await inbox.delete(eventId);
        if (outcome.status !== 'duplicate') {
          // New or grown memory: tell the live views (best effort, off the job's outcome).
          const stored = await store.getEvent(outcome.id);
          if (stored) await live.publishEvent(stored);
        }
        await settle();
        return outcome.status === 'duplicate' ? 'skipped' : 'done';
      } catch (error) {
        if (isLastAttempt(job, error)) await settle().catch(() => undefined);
        throw error;
      }
    },
    [JobName.BuildEpisodes]: async ({ stream }, { log: jobLog }) => {
      const run = await runBuildEpisodes(store, config.memory, Date.now(), stream);
      jobLog.debug(run, 'episodes built');
      return run.episodes > 0 ? 'done' : 'skipped';
    },
    [JobName.MaintainMemory]: async (_data, { signal, log: jobLog }) => {
      const run = await runMaintainMemory({ store, deleteBlobs: (p) => deleteBlobs(blobs, p), summarizer, llmConfigured: llm.isConfigured, signal }, config.memory, Date.now());
      jobLog.info(run, 'memory maintained');
      return 'done';
    },
    [JobName.OptimizeTables]: async (_data, { log: jobLog }) => {
      const run = await runOptimizeTables(store, config.memory);
      jobLog.info(run, 'tables optimized');
      return 'done';
    },
  };
}

export async function start(context: EngramContext): Promise<Closeable> {
  const { memory } = context.config;
  await context.queues.queue(QueueName.Consolidate).setGlobalConcurrency(1);
  await context.queues.schedule(JobName.BuildEpisodes, {}, memory.episodesEveryMs);
  await context.queues.schedule(JobName.MaintainMemory, {}, memory.maintainEveryMs);
  await context.queues.schedule(JobName.OptimizeTables, {}, memory.optimizeEveryMs);
  return { close: async () => undefined };
}

const role: RoleModule = { handlers, start };
export default role;
