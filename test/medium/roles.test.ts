// Roles over real BullMQ queues: a role's worker runs jobs from its queue, a missing handler stops
// start-up, and shutdown lets a running job finish before Redis closes.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { defineRoleForTest, parseRoles, startRoles } from '../../services/runtime/roles.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();
const undo: (() => void)[] = [];
afterEach(() => undo.splice(0).forEach((fn) => fn()));

describe('roles on real queues', () => {
  it('runs jobs from the role queue and lets a running job finish on shutdown', async () => {
    const seen: string[] = [];
    let finished = false;
    undo.push(
      defineRoleForTest(Role.Segment, async () => ({
        handlers: async () => ({
          [JobName.SegmentTick]: async (data) => {
            seen.push(data.stream);
            if (data.stream === 'slow') {
              await sleep(800);
              finished = true;
            }
            return 'done';
          },
        }),
      })),
    );
    expect(parseRoles('segment')).toEqual([Role.Segment]);
    const context = await EngramContext.open(env.loaded({ redis: { prefix: 'roles1' } }), silentLogger());
    await startRoles(context, [Role.Segment]);
    const job = await context.queues.add(JobName.SegmentTick, { stream: 'cam1' }, { jobId: 'tick-cam1' });
    const queueEvents = await import('bullmq').then(({ QueueEvents }) => new QueueEvents(QueueName.Segment, { connection: context.redis.connection('events'), prefix: 'roles1' }));
    await job.waitUntilFinished(queueEvents, 10_000);
    expect(seen).toEqual(['cam1']);
    await context.queues.add(JobName.SegmentTick, { stream: 'slow' });
    while (!seen.includes('slow')) await sleep(20);
    await queueEvents.close();
    await context.close();
    expect(finished).toBe(true);
    // The finished job was recorded as completed before the connection closed.
    const check = await EngramContext.open(env.loaded({ redis: { prefix: 'roles1' } }), silentLogger());
    expect((await check.queues.counts()).segment).toMatchObject({ completed: 2, active: 0, waiting: 0 });
    await check.close();
  });

  it('refuses to start a role whose queue has a job without a handler', async () => {
    undo.push(defineRoleForTest(Role.Consolidate, async () => ({ handlers: async () => ({ [JobName.ConsolidateEvent]: async () => 'done' as const }) })));
    const context = await EngramContext.open(env.loaded({ redis: { prefix: 'roles2' } }), silentLogger());
    try {
      await expect(startRoles(context, [Role.Consolidate])).rejects.toThrow(/job "build-episodes" on queue "consolidate" has no handler/);
    } finally {
      await context.close();
    }
  });
});
