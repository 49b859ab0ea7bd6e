// engram events through the built CLI, reading LanceDB written by the memory store.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { ConfigSchema } from '../../config/schema.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { syntheticEvent } from '../helpers/events.js';

const env = useTestEnv();
const now = Date.now();

describe('engram events', () => {
  beforeAll(async () => {
    const config = ConfigSchema.parse({});
    const store = await MemoryStore.open(join(env.dataDir, 'lancedb'));
    const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });
    // Three hours ago, 90 minutes ago, and 5 minutes ago on two streams.
    const epoch = now - 3 * 3_600_000;
    const events = [
      syntheticEvent({ stream: 'porch', start: 0, epoch, transcript: 'hello', thumbnails: (t) => `porch/${t}.jpg`, seed: 1 }),
      syntheticEvent({ stream: 'porch', start: 5400, epoch, ocr: 'OPEN', seed: 2 }),
      syntheticEvent({ stream: 'garage', start: 10_500, epoch, tags: ['motion-high'], seed: 3 }),
      {
        ...syntheticEvent({ stream: 'garage', start: 10_600, epoch, seed: 4 }),
        objects: {
          labels: ['person', 'traffic light'],
          counts: { person: { distinct: 1, max: 1 }, 'traffic light': { distinct: 1, max: 1 } },
          tracks: [{ id: 3, label: 'person', enter: 10_602, leave: 10_608, enteredAt: epoch + 10_602_000, leftAt: epoch + 10_608_000, entered: true, left: true, score: 0.7 }],
        },
      },
    ];
    for (const e of events) await consolidateEvent(e, { store, summarizer, memory: config.memory });
    await store.close();
  });

  it('prints every event as JSON, oldest first', async () => {
    const r = await runCli(['events', '--json'], { env: env.childEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(lines.map((e) => [e.stream, e.start])).toEqual([['porch', 0], ['porch', 5400], ['garage', 10_500], ['garage', 10_600]]);
    expect(Object.keys(lines[0]!).sort()).toEqual(['counts', 'end', 'endedAt', 'id', 'labels', 'ocr', 'people', 'startedAt', 'stream', 'start', 'summary', 'tags', 'thumbnail', 'tracks', 'transcript'].sort());
    expect(lines[0]).toMatchObject({ id: 'porch.0000000000', transcript: 'hello', thumbnail: 'porch/0.jpg', people: [], startedAt: new Date(now - 3 * 3_600_000).toISOString() });
    expect(lines[1]).toMatchObject({ ocr: 'OPEN' });
  });

  it('filters by stream and by relative or ISO times', async () => {
    const porch = JSON.parse((await runCli(['events', '--stream', 'porch', '--json'], { env: env.childEnv() })).stdout) as { start: number }[];
    expect(porch.map((e) => e.start)).toEqual([0, 5400]);
    const recent = JSON.parse((await runCli(['events', '--since', '2h', '--json'], { env: env.childEnv() })).stdout) as { start: number }[];
    expect(recent.map((e) => e.start)).toEqual([5400, 10_500, 10_600]);
    const until = new Date(now - 60 * 60_000).toISOString();
    const early = JSON.parse((await runCli(['events', '--since', '4h', '--until', until, '--json'], { env: env.childEnv() })).stdout) as { start: number }[];
    expect(early.map((e) => e.start)).toEqual([0, 5400]);
    const text = await runCli(['events', '--stream', 'garage'], { env: env.childEnv() });
    expect(text.stdout).toMatch(/garage {2}10500\.0-10510\.0s {2}High motion on garage for 10 s\./);
  });

  it('lists the events where the detector saw a label, with counts and tracks', async () => {
    const people = JSON.parse((await runCli(['events', '--label', 'person', '--json'], { env: env.childEnv() })).stdout) as { start: number; summary: string; labels: string[]; counts: unknown; tracks: unknown[] }[];
    expect(people.map((e) => e.start)).toEqual([10_600]);
    expect(people[0]).toMatchObject({ labels: ['person', 'traffic light'], counts: { person: { distinct: 1, max: 1 } }, tracks: [{ label: 'person', enter: 10_602, leave: 10_608, entered: true, left: true }] });
    expect(people[0]!.summary).toContain('A person came into view at 2:56:42 and left at 2:56:48.');
    const lights = JSON.parse((await runCli(['events', '--label', 'traffic light', '--label', 'dog', '--json'], { env: env.childEnv() })).stdout) as { start: number }[];
    expect(lights.map((e) => e.start)).toEqual([10_600]);
    const none = await runCli(['events', '--label', 'dog'], { env: env.childEnv() });
    expect(none.stdout).toBe('no events\n');
    const bad = await runCli(['events', '--label', "person' OR 1=1"], { env: env.childEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--label "person' OR 1=1": not a detector label/);
  });

  it('names a bad flag instead of guessing', async () => {
    const r = await runCli(['events', '--since', 'yesterday-ish'], { env: env.childEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since "yesterday-ish": expected an ISO time/);
    const s = await runCli(['events', '--stream', "x' OR 1=1"], { env: env.childEnv() });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--stream "x' OR 1=1": not a stream name/);
  });
});
