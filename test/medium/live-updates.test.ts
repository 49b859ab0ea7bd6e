// What /api/live relays: a stream changing state and a newly stored event reach live listeners
// from the stages themselves (ingest's StreamRepository, the consolidate role), over real Redis.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JobName, Role } from '../../pipelines/jobs.js';
import { eventId, type ClosedEvent } from '../../pipelines/records/event.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { LiveSubscriber, LiveType, type LiveMessage } from '../../pipelines/repositories/live.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

describe('live updates', () => {
  it('stream state changes and stored events are published to live listeners', async () => {
    const context = await EngramContext.open(env.loaded({ redis: { prefix: 'live1' } }), silentLogger());
    const subscriber = new LiveSubscriber(context.redis, 'live1');
    const seen: LiveMessage[] = [];
    await subscriber.listen((message) => seen.push(message));
    try {
      const streams = new StreamRepository(context.redis.connection('t'), 'live1', context.queues);
      await streams.add({ name: 'porch', source: '/x.mp4' });
      await streams.setState('porch', 'failed', 'file not found: /x.mp4');
      await until(() => seen.some((m) => m.type === LiveType.Stream));
      expect(seen.find((m) => m.type === LiveType.Stream)).toMatchObject({ stream: 'porch', state: 'failed', message: 'file not found: /x.mp4' });

      await startRoles(context, [Role.Consolidate]);
      const start = 12;
      const event: ClosedEvent = {
        id: eventId('porch', start),
        stream: 'porch',
        start,
        end: 20,
        startedAt: Date.now() - 8_000,
        endedAt: Date.now(),
        transcript: [],
        ocr: [{ t: 13, text: 'PARCEL AT DOOR' }],
        tags: ['text', 'motion-low'],
        vectors: { 'visual-signature': Float32Array.from([1, 0, 0, 0]) },
        moments: [{ kind: 'keyframe', t: 13, vectors: { 'visual-signature': Float32Array.from([1, 0, 0, 0]) } }],
        thumbnail: null,
        novelty: 0.5,
        closedBy: 'text',
      };
      await new EventInbox(context.redis.connection('inbox'), 'live1').put(event);
      await context.queues.add(JobName.ConsolidateEvent, { stream: 'porch', eventId: event.id }, { jobId: event.id });
      await until(() => seen.some((m) => m.type === LiveType.Event));
      const message = seen.find((m) => m.type === LiveType.Event);
      expect(message && message.type === LiveType.Event ? message.event : undefined).toMatchObject({ id: event.id, stream: 'porch', start: 12, end: 20 });
    } finally {
      await subscriber.close();
      await context.close();
    }
  });
});
