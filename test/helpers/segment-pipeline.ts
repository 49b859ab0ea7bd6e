// Runs files through the real ingest, perceive and segment roles in this process (real ffmpeg,
// Redis, BullMQ and onnxruntime) and returns the events segment handed to consolidation.
// Use from a test file:  const pipeline = useSegmentPipeline();  ...  await pipeline.segmentFile(name, path)
import { afterAll, beforeAll, expect } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { useTestEnv, type TestEnv } from './env.js';
import { SHARED_MEDIA } from './media.js';

export interface SegmentPipeline {
  readonly env: TestEnv;
  segmentFile(name: string, file: string): Promise<ClosedEvent[]>;
}

export function useSegmentPipeline(overrides: Record<string, unknown> = {}): SegmentPipeline {
  const env = useTestEnv();
  let context: EngramContext | undefined;
  let streams: StreamRepository;
  let inbox: EventInbox;
  let memory: ShortTermMemory;
  beforeAll(async () => {
    const loaded = env.loaded({ ingest: { fileRoots: [env.dataDir, SHARED_MEDIA] }, ...overrides });
    context = await EngramContext.open(loaded, silentLogger());
    await startRoles(context, [Role.Ingest, Role.Perceive, Role.Segment]);
    const redis = context.redis.connection('test');
    streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
    inbox = new EventInbox(redis, loaded.config.redis.prefix);
    memory = new ShortTermMemory(redis, loaded.config.redis.prefix, { spanSeconds: 600 });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
  });
  return {
    env,
    async segmentFile(name, file) {
      if (!context) throw new Error('useSegmentPipeline: used before beforeAll ran');
      await streams.add({ name, source: file });
      const info = await streams.waitUntilProcessed(name, { stages: [Role.Perceive, Role.Segment] });
      expect(info.state, info.error ?? '').toBe('done');
      const jobs = await context.queues.queue(QueueName.Consolidate).getJobs(['waiting', 'delayed', 'prioritized']);
      // Job ids are the event id plus the run; the event id is in the job's data.
      const ids = jobs.map((j) => (j.data as { eventId: string }).eventId).filter((id) => id.startsWith(`${name}.`));
      const events = (await Promise.all(ids.map((id) => inbox.get(id)))).filter((e): e is ClosedEvent => e !== undefined);
      events.sort((a, b) => a.start - b.start);
      expect(events.length, 'every closed event was handed on').toBe((await memory.loadState(name))?.eventsClosed);
      return events;
    },
  };
}

/** A compact view of events for test output. */
export function describeEvents(events: readonly ClosedEvent[]) {
  return events.map((e) => ({ start: +e.start.toFixed(2), end: +e.end.toFixed(2), closedBy: e.closedBy, tags: e.tags, ocr: e.ocr.map((l) => l.text), transcript: e.transcript.map((s) => s.text) }));
}
