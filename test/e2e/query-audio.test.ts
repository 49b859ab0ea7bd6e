// Query by an example sound, end to end through the public CLI: engram ingest feeds a generated
// audio-only file of three sound scenes through every role, with the tiny test models installed
// (tiny-clap embeds the energy of bands of mel bins, so a tone, noise and silence land apart), and
// `engram query --audio CLIP`, and POST /api/query with the clip as a data URL, must find the scene
// that sounds like the clip.
// Scenes (stream seconds): 0-3 a 440 Hz tone; 3-6 silence; 6-9 white noise (short, because a file
// is ingested at about real time).
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { ingestWithTestModels, queryCli, runCli, type QueryAnswer, type QueryEvidence } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { testModelsConfig, testModelsEnv } from '../helpers/test-models.js';
import { ffmpegRun } from '../helpers/media.js';

const env = useTestEnv();
let scenes = '';
let noiseClip = '';
let toneClip = '';

type Evidence = QueryEvidence;

const childEnv = () => env.childEnv({ ENGRAM_REASON__TIME_ZONE: 'UTC', ...testModelsEnv() });
const ask = (...args: string[]) => queryCli(childEnv(), args);

const near = (e: Evidence | undefined, start: number, end: number) => e !== undefined && Math.abs(e.start - start) <= 2 && Math.abs(e.end - end) <= 2;

beforeAll(async () => {
  scenes = join(env.dataDir, 'sound-scenes.wav');
  noiseClip = join(env.dataDir, 'noise-clip.wav');
  toneClip = join(env.dataDir, 'tone-clip.m4a');
  await ffmpegRun([
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=3',
    '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono:d=3',
    '-f', 'lavfi', '-i', 'anoisesrc=color=white:amplitude=0.3:sample_rate=48000:duration=3:seed=1',
    '-filter_complex', '[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]', '-map', '[a]', '-ac', '1', scenes,
  ]);
  // The examples are other recordings of the same kinds of sound: another noise seed and rate, a
  // shorter tone in a compressed container.
  await ffmpegRun(['-f', 'lavfi', '-i', 'anoisesrc=color=white:amplitude=0.3:sample_rate=44100:duration=3:seed=7', noiseClip]);
  await ffmpegRun(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2', '-c:a', 'aac', toneClip]);
  await ingestWithTestModels(scenes, 'sounds', { env: childEnv(), lastEnd: 8, ingestTimeoutMs: 120_000, waitMs: 30_000 });
}, 240_000);

describe('engram query --audio on ingested sound scenes', () => {
  it('finds the noise scene first for a clip of noise, with no question asked', async () => {
    const a = await ask('--audio', noiseClip);
    expect(a.question).toBe('');
    expect(a.evidence[0], JSON.stringify(a.evidence)).toBeDefined();
    expect(near(a.evidence[0], 6, 9), JSON.stringify(a.evidence)).toBe(true);
    expect(a.answer).toContain('0:06');
  });

  it('finds the tone scene first for a clip of the tone', async () => {
    const a = await ask('--audio', toneClip);
    expect(near(a.evidence[0], 0, 3), JSON.stringify(a.evidence)).toBe(true);
  });

  it('keeps the question text and the stream filter alongside the example', async () => {
    const a = await ask('what did it sound like?', '--audio', noiseClip, '--stream', 'sounds');
    expect(a.question).toBe('what did it sound like?');
    expect(near(a.evidence[0], 6, 9), JSON.stringify(a.evidence)).toBe(true);
  });

  it('refuses a clip that holds no sound, saying so', async () => {
    const notAudio = join(env.dataDir, 'not-audio.wav');
    await ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1', '-frames:v', '1', join(env.dataDir, 'red.png')]);
    copyFileSync(join(env.dataDir, 'red.png'), notAudio);
    const r = await runCli(['query', '--audio', notAudio, '--json'], { env: childEnv(), timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('engram: query audio: the file holds no sound ffmpeg can read\n');
  });
});

describe('POST /api/query with an audio example', () => {
  it('answers as engram query --audio does: the noise scene first', async () => {
    const context = await EngramContext.open(env.loaded({ redis: { prefix: 'api' }, reason: { timeZone: 'UTC' }, ...testModelsConfig() }), silentLogger());
    const { deps, close } = await apiDeps(context);
    const app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
    try {
      const audio = `data:audio/wav;base64,${readFileSync(noiseClip).toString('base64')}`;
      const res = await app.inject({ method: 'POST', url: '/api/query', payload: { audio } });
      expect(res.statusCode, res.body).toBe(200);
      const viaApi = res.json() as QueryAnswer;
      expect(near(viaApi.evidence[0], 6, 9), JSON.stringify(viaApi.evidence)).toBe(true);
      const viaCli = await ask('--audio', noiseClip);
      expect(viaApi.evidence.map((e) => e.eventId)).toEqual(viaCli.evidence.map((e) => e.eventId));
      const tone = await app.inject({ method: 'POST', url: '/api/query', payload: { audio: `data:audio/mp4;base64,${readFileSync(toneClip).toString('base64')}` } });
      expect(near((tone.json() as QueryAnswer).evidence[0], 0, 3), tone.body).toBe(true);
    } finally {
      await app.close();
      await close();
      await context.close();
    }
  });
});
