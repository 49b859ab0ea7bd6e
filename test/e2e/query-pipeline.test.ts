// The whole pipeline through the public CLI on a generated scene with known content: engram ingest
// feeds a scripted 40 s video (colour scenes, an on-screen delivery notice, two spoken sentences
// between silences) through every built role in its own process, and engram query must then find
// what is where.
// Scenes (stream seconds): 0-8 red, silent; 8-16 white with "DELIVERY NOTICE", silent; 16-24 green
// with speech at 17 s; 24-32 blue with speech at 25 s; 32-40 yellow, silent.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderScene, type RenderOptions, type Scene } from '../../pipelines/repositories/scripted-scene.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { ingestWithTestModels, queryCli, type QueryAnswer, type QueryEvidence } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { testModelsConfig, testModelsEnv } from '../helpers/test-models.js';

const env = useTestEnv();
let video = '';
let greenPng = '';

type Evidence = QueryEvidence;

const childEnv = () => env.childEnv({ ENGRAM_REASON__TIME_ZONE: 'UTC', ...testModelsEnv() });
const ask = (...args: string[]) => queryCli(childEnv(), args);

const overlaps = (e: Evidence, start: number, end: number) => e.start < end && e.end > start;

/** The scene the answers are checked against (stream seconds in the file header comment). */
const SCRIPT: Scene[] = [
  { seconds: 8, color: 'red' },
  { seconds: 8, color: 'white', text: 'DELIVERY NOTICE', textColor: 'black' },
  { seconds: 8, color: 'green', speech: 'Ding dong. Somebody is ringing the doorbell.', speechAt: 1 },
  { seconds: 8, color: 'blue', speech: 'Your parcel is waiting at the front door.', speechAt: 1 },
  { seconds: 8, color: 'yellow' },
];
/** Drawn like the demo: plain text in ffmpeg's default font. */
const STYLE: RenderOptions = { width: 640, height: 360, wordsPerMinute: 150, fontSize: 'fit', font: null, textBox: false };

beforeAll(async () => {
  video = join(env.dataDir, 'scripted.mp4');
  greenPng = join(env.dataDir, 'green.png');
  await renderScene(SCRIPT, video, STYLE);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=green:s=640x360', '-frames:v', '1', '-y', greenPng]);
  // The tiny test models (an image/text pair aligned on colour words) make "green" findable.
  await ingestWithTestModels(video, 'scripted', { env: childEnv(), lastEnd: 38, ingestTimeoutMs: 300_000, waitMs: 120_000 });
}, 480_000);

describe('engram query on an ingested scripted scene', () => {
  it('finds the on-screen delivery notice within 2 s', async () => {
    const a = await ask('What did the delivery notice say?');
    const top = a.evidence[0];
    expect(top).toBeDefined();
    expect(Math.abs((top?.start ?? -99) - 8)).toBeLessThanOrEqual(2);
    expect(a.answer.toUpperCase()).toContain('DELIVERY');
  });

  it('returns a speech event for a question about speech', async () => {
    const a = await ask('When did somebody speak?');
    const top = a.evidence[0];
    expect(top).toBeDefined();
    expect(overlaps(top!, 17, 20) || overlaps(top!, 25, 28)).toBe(true);
  });

  it('finds the green scene through the tiny aligned colour model', async () => {
    const a = await ask('When did I see green?');
    expect(overlaps(a.evidence[0]!, 16, 24)).toBe(true);
  });

  it('excludes what time filters exclude', async () => {
    const early = await ask('What did the delivery notice say in the first 5 seconds of the video?');
    expect(early.evidence.some((e) => overlaps(e, 8, 16))).toBe(false);
    const old = await ask('the delivery notice', '--until', '2020-01-01T00:00:00Z');
    expect(old.evidence).toEqual([]);
  });

  it('answers "after X" with the event that follows X', async () => {
    const a = await ask('What happened after the delivery notice?');
    const [anchor, next] = a.evidence;
    expect(overlaps(anchor!, 8, 16)).toBe(true);
    expect(next!.start).toBeGreaterThanOrEqual(anchor!.start);
    expect(Math.abs(next!.start - anchor!.end)).toBeLessThanOrEqual(2);
  });

  it('finds the scene of an example image', async () => {
    const a = await ask('--image', greenPng);
    expect(overlaps(a.evidence[0]!, 16, 24)).toBe(true);
  });

  it('finds the scene of an example image sent to POST /api/query as a data URL', async () => {
    const context = await EngramContext.open(env.loaded({ redis: { prefix: 'api' }, reason: { timeZone: 'UTC' }, ...testModelsConfig() }), silentLogger());
    const { deps, close } = await apiDeps(context);
    const app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
    try {
      const image = `data:image/png;base64,${readFileSync(greenPng).toString('base64')}`;
      const res = await app.inject({ method: 'POST', url: '/api/query', payload: { image } });
      expect(res.statusCode, res.body).toBe(200);
      expect(overlaps((res.json() as QueryAnswer).evidence[0]!, 16, 24), res.body).toBe(true);
    } finally {
      await app.close();
      await close();
      await context.close();
    }
  });

  it('says so when the question cannot be answered from memory', async () => {
    const a = await ask('What did the astronaut say about the moon?');
    expect(a.evidence).toEqual([]);
    expect(a.answer).toMatch(/nothing in memory/);
  });
});
