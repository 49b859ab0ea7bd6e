// Composition root of the segment role: one tick advances one stream's segmenter over the records
// that have arrived (pipelines/segment/advance.ts). Each closed event goes to the event inbox and
// then to the consolidate queue with the event id as job id, so a repeated hand-off is a no-op.
import { JobName, Role } from '../../pipelines/jobs.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamLock } from '../../pipelines/repositories/stream-lock.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { advanceStream, type AdvanceDeps } from '../../pipelines/segment/advance.js';
import { consolidateEvent, segmentWake } from '../../pipelines/follow-ups.js';
import type { EngramContext } from '../runtime/context.js';
import type { HandlerMap } from '../runtime/registry.js';
import type { RoleModule } from '../runtime/role-module.js';

export function segmentDeps(context: EngramContext): AdvanceDeps {
  const prefix = context.config.redis.prefix;
  const redis = context.redis.connection('segment');
  const memory = new ShortTermMemory(redis, prefix, { spanSeconds: context.config.segment.shortTermSeconds });
  const inbox = new EventInbox(redis, prefix);
  const streams = new StreamRepository(redis, prefix);
  return {
    memory,
    lock: new StreamLock(redis, prefix),
    async publish(event) {
      // Tracked by id, so a repeated hand-off counts once; consolidate settles it.
      await inbox.put(event);
      await streams.stageTrack(event.stream, Role.Consolidate, event.id);
      const generation = (await streams.get(event.stream))?.startedAt ?? 0;
      await context.queues.addFollowUp(consolidateEvent(event.stream, event.id, generation));
    },
    async wakeLater(stream, delayMs) {
      await context.queues.addFollowUp(segmentWake(stream, delayMs));
    },
    async generation(stream) {
      return (await streams.get(stream))?.startedAt ?? 0;
    },
    async progress(stream, counts) {
      if (counts.records > 0) await streams.stageProgress(stream, Role.Segment, -counts.records);
    },
  };
}

const role: RoleModule = {
  async handlers(context): Promise<HandlerMap> {
    const deps = segmentDeps(context);
    return {
      [JobName.SegmentTick]: async (data, { signal, log }) => {
        const result = await advanceStream(data.stream, context.config.segment, deps, { signal });
        if (result.events.length > 0) log.debug({ stream: data.stream, records: result.records, events: result.events.map((e) => [e.start, e.end, e.closedBy]) }, 'closed events');
        return result.status;
      },
    };
  },
};

export default role;
export const { handlers } = role;
