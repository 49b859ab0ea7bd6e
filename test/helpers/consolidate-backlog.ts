// A consolidation backlog for the benchmarks: closed events queued (inbox entries and jobs) before
// any consolidate worker runs, then the role started and timed until every job is done. The clock
// starts when the first job is taken, so queueing and the role's start-up are not counted.
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import type { ClosedEvent } from '../../pipelines/records/event.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import type { EngramContext } from '../../services/runtime/context.js';
import { startRoles, type RunningRoles } from '../../services/runtime/roles.js';

export interface DrainedBacklog {
  /** performance.now() when the first job was taken, when half the jobs were done, when all were. */
  t0: number;
  half: number;
  t1: number;
  /** The consolidate role, still running: the caller closes it. */
  roles: RunningRoles;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Queues events, starts consolidate and waits until all are done; throws naming a failed job. */
export async function drainConsolidateBacklog(context: EngramContext, events: readonly ClosedEvent[]): Promise<DrainedBacklog> {
  const inbox = new EventInbox(context.redis.connection('bench-inbox'), context.config.redis.prefix);
  for (const e of events) await inbox.put(e);
  for (const e of events) await context.queues.add(JobName.ConsolidateEvent, { stream: e.stream, eventId: e.id }, { jobId: e.id });
  const queue = context.queues.queue(QueueName.Consolidate);
  const roles = await startRoles(context, [Role.Consolidate]);
  for (;;) {
    const c = await queue.getJobCounts('active', 'completed');
    if ((c.active ?? 0) + (c.completed ?? 0) > 0) break;
    await pause(5);
  }
  const t0 = performance.now();
  let half = 0;
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed');
    if ((c.failed ?? 0) > 0) {
      await roles.close();
      throw new Error(`${c.failed} consolidate jobs failed: ${(await queue.getFailed(0, 0))[0]?.failedReason ?? ''}`);
    }
    const done = c.completed ?? 0;
    if (!half && done >= events.length / 2) half = performance.now();
    if (done >= events.length) break;
    await pause(20);
  }
  return { t0, half, t1: performance.now(), roles };
}
