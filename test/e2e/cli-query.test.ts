// engram query through the built CLI, over long-term memory written the way consolidate writes it
// (real LanceDB under the test's data directory): the JSON contract, the readable form, order
// questions, filters and unanswerable questions. cli-query-more.test.ts covers bad input, the
// reason worker and the OpenAI-compatible endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { seedGarageMemory } from '../helpers/garage-memory.js';

const env = useTestEnv();
const EPOCH = Date.now() - 30 * 60_000; // half an hour ago: "in the last hour" includes it, "in the last 10 minutes" does not

beforeAll(() => seedGarageMemory(env.dataDir, EPOCH));

const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: env.childEnv({ ENGRAM_REASON__TIME_ZONE: 'UTC', ...extra }), timeoutMs: 60_000 });

describe('engram query (in-process)', () => {
  it('prints the answer as JSON with cited evidence and timings', async () => {
    const r = await cli(['query', 'What did the delivery notice say?', '--json']);
    expect(r.stderr).not.toContain('engram:');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['answer', 'evidence', 'question', 'timings']);
    expect(out.question).toBe('What did the delivery notice say?');
    expect(out.answer).toContain('DELIVERY NOTICE');
    expect(out.evidence[0]).toEqual({
      eventId: 'garage.0000030000',
      stream: 'garage',
      start: 30,
      end: 40,
      startedAt: new Date(EPOCH + 30_000).toISOString(),
      score: expect.any(Number),
      summary: 'Text on screen: DELIVERY NOTICE',
      quote: 'DELIVERY NOTICE',
      thumbnail: 'thumbs/garage.0000030000.jpg',
      labels: [],
      counts: {},
    });
    expect(out.timings.totalMs).toBeGreaterThan(0);
    for (const key of ['parseMs', 'embedMs', 'searchMs', 'fusionMs', 'detailMs', 'answerMs']) expect(typeof out.timings[key]).toBe('number');
  });

  it('prints a readable answer followed by the evidence with times', async () => {
    const r = await cli(['query', 'What was said about the parcel?']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toContain('someone said "Your parcel is waiting at the front door."');
    expect(r.stdout).toMatch(/Evidence:\n {2}1\. garage {2}0:20–0:30 {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}score/);
    expect(r.stdout).toContain('"Your parcel is waiting at the front door."');
  });

  it('answers an order question by time', async () => {
    const r = await cli(['query', 'What was said after the doorbell rang?', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.evidence.slice(0, 2).map((e: { eventId: string }) => e.eventId)).toEqual(['garage.0000010000', 'garage.0000020000']);
  });

  it('filters by --stream, by --since/--until and by time words in the question', async () => {
    const porch = JSON.parse((await cli(['query', 'what happened', '--stream', 'porch', '--json'])).stdout);
    expect(porch.evidence.map((e: { stream: string }) => e.stream)).toEqual(['porch']);
    const recent = JSON.parse((await cli(['query', 'the delivery notice', '--since', '10m', '--json'])).stdout);
    expect(recent.evidence).toEqual([]);
    expect(recent.answer).toMatch(/^Memory holds no events in that time range/);
    const lastHour = JSON.parse((await cli(['query', 'the delivery notice in the last hour', '--json'])).stdout);
    expect(lastHour.evidence[0].eventId).toBe('garage.0000030000');
    const until = JSON.parse((await cli(['query', 'the delivery notice', '--until', new Date(EPOCH + 25_000).toISOString(), '--json'])).stdout);
    expect(until.evidence.map((e: { eventId: string }) => e.eventId)).not.toContain('garage.0000030000');
  });

  it('says so when nothing relevant is in memory', async () => {
    const out = JSON.parse((await cli(['query', 'What did the astronaut say about the moon?', '--json'])).stdout);
    expect(out.evidence).toEqual([]);
    expect(out.answer).toBe('I found nothing in memory about "astronaut moon". I will not guess.');
  });

});
