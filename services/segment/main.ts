// Composition root of the segment role: one tick advances one stream's segmenter over the records
// that have arrived (pipelines/segment/advance.ts). Each closed event goes to the event inbox and
// then to the consolidate queue with the event id as job id, so a repeated hand-off is a no-op.
import { JobName, Role } from '../../pipelines/jobs.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamLock } from '../../pipelines/repositories/stream-lock.js';
import { chunkUnit, END_UNIT, StreamRepository } from '../../pipelines/repositories/streams.js';
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
  const log = context.log.child({ role: 'segment' });
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
    async owed(stream, seq) {
      // Late is not lost: a chunk whose perceive job is waiting, running, or due for a retry (its
      // worker killed or paused, Redis away) is waited for however long that takes. The queue is
      // asked too, so a job BullMQ failed without running its handler (stalled too often) does
      // not keep its chunk owed forever.
      const runtime = await streams.runtime(stream);
      if (!runtime) return false;
      const unit = chunkUnit(runtime.jobId, seq);
      if (!(await streams.isPending(stream, Role.Perceive, unit))) return false;
      const state = await context.queues.jobState(JobName.PerceiveChunk, unit);
      if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') return true;
      // The job is gone or finished without settling its chunk: nothing will perceive it now.
      await streams.stageSettle(stream, Role.Perceive, unit);
      return false;
    },
    async chunksWhenEnded(stream) {
      const info = await streams.get(stream);
      return info?.state === 'done' ? info.chunks : undefined;
    },
    async lost(stream, lost) {
      log.warn({ stream, seqs: [lost.fromSeq, lost.toSeq - 1], from: lost.from, to: lost.to }, 'chunks were never perceived; recorded as a gap');
      await streams.addGap(stream, { from: lost.from, to: lost.to, wallFrom: lost.wallFrom, wallTo: lost.wallTo, reason: 'not-perceived' });
    },
    async progress(stream, done) {
      await streams.stageSettle(stream, Role.Segment, ...done.seqs.map(String), ...(done.ended ? [END_UNIT] : []));
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
