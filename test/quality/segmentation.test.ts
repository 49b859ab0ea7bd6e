// Boundary quality through the real roles: ingest (ffmpeg) -> perceive (the models that need no
// download: visual signature, levels, Silero VAD, PaddleOCR) -> segment, over real Redis and
// BullMQ. A boundary counts when it lies within 2 s of a true one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { QueueName, Role } from '../../pipelines/jobs.js';
import type { ClosedEvent } from '../../pipelines/records.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { ShortTermMemory } from '../../pipelines/repositories/short-term-memory.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { boundaryF1, eventBoundaries } from '../helpers/boundary-f1.js';
import { useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { renderScript, type Scene } from '../helpers/scripted-video.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let inbox: EventInbox;
let memory: ShortTermMemory;

beforeAll(async () => {
  const loaded = env.loaded({ ingest: { fileRoots: [env.dataDir, SHARED_MEDIA] } });
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

/** Ingests a file through the roles and returns the events handed to consolidation, in order. */
async function segmentFile(name: string, file: string): Promise<ClosedEvent[]> {
  await streams.add({ name, source: file });
  const info = await streams.waitUntilProcessed(name, { stages: [Role.Perceive, Role.Segment] });
  expect(info.state, info.error ?? '').toBe('done');
  const jobs = await context.queues.queue(QueueName.Consolidate).getJobs(['waiting', 'delayed', 'prioritized']);
  const ids = jobs.map((j) => j.id as string).filter((id) => id.startsWith(`${name}.`));
  const events = (await Promise.all(ids.map((id) => inbox.get(id)))).filter((e): e is ClosedEvent => e !== undefined);
  events.sort((a, b) => a.start - b.start);
  expect(events.length).toBe((await memory.loadState(name))?.eventsClosed);
  return events;
}

function describeEvents(events: ClosedEvent[]) {
  return events.map((e) => ({ start: +e.start.toFixed(2), end: +e.end.toFixed(2), closedBy: e.closedBy, tags: e.tags, ocr: e.ocr.map((l) => l.text) }));
}

describe('segmentation quality', () => {
  it('finds the scene changes of a scripted video (F1 >= 0.9)', async () => {
    // Scene changes carry different cues: colour, a moving test pattern, text only (same
    // background as before), and speech that starts a second or so after the picture changes.
    const script: Scene[] = [
      { seconds: 7, color: 'navy', text: 'Front door', speech: 'Someone is knocking at the front door.', speechAt: 1 },
      { seconds: 6, color: 'darkgreen', text: 'Garden' },
      { seconds: 8, source: 'testsrc2', text: 'Garage', speech: 'The car is parked in the garage.', speechAt: 1.5 },
      { seconds: 7, color: 'darkgreen', text: 'Kitchen', speech: 'The kettle is boiling.', speechAt: 1 },
      { seconds: 6, color: 'darkgreen', text: 'Living room' },
      { seconds: 7, color: 'maroon', speech: 'Goodbye, see you tomorrow.', speechAt: 1 },
    ];
    const video = await renderScript(script, join(env.dataDir, 'script.mp4'));
    const events = await segmentFile('script', video.path);
    const score = boundaryF1(eventBoundaries(events), video.boundaries, 2);
    console.log(JSON.stringify({ clip: 'scripted', truth: video.boundaries, score, events: describeEvents(events) }));
    expect(score.f1).toBeGreaterThanOrEqual(0.9);
    // The events cover the video without holes and carry what was in them.
    expect(events[0]!.start).toBe(0);
    expect(events[events.length - 1]!.end).toBeCloseTo(video.duration, 0);
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.start).toBe(events[i - 1]!.end);
    const at = (t: number) => events.find((e) => e.start <= t && t < e.end)!;
    expect(at(3).tags).toContain('speech');
    expect(at(10).tags).not.toContain('speech');
    expect(at(10).ocr.map((l) => l.text.toLowerCase())).toContain('garden');
    expect(at(31).ocr.map((l) => l.text.toLowerCase())).toContain('living room');
    expect(at(10).thumbnail).toMatch(/^script\/.+\.jpg$/);
  }, 120_000);

  it('segments real camera footage where the cars pass (car-detection.mp4)', async () => {
    const events = await segmentFile('cars', CAR_DETECTION);
    // Cars cross at about 5-8 s, 14-18 s and 25-27 s: each crossing starts and ends an event.
    const truth = [5, 8, 14, 18, 25, 27];
    const score = boundaryF1(eventBoundaries(events), truth, 2);
    console.log(JSON.stringify({ clip: 'car-detection', truth, score, events: describeEvents(events) }));
    expect(score.f1).toBeGreaterThanOrEqual(0.6);
    // Each crossing overlaps an event tagged with more motion than the empty lane around it.
    for (const [from, to] of [[5, 8], [14, 18], [25, 27]] as const) {
      const busy = events.filter((e) => e.start < to && e.end > from && !e.tags.includes('motion-low'));
      expect(busy.length, `an event with motion during ${from}-${to} s`).toBeGreaterThan(0);
    }
    // The soundtrack is digital silence: no event claims speech.
    expect(events.every((e) => e.tags.includes('silence') && !e.tags.includes('speech'))).toBe(true);
  }, 120_000);
});
