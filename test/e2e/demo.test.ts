// npm run demo, as a person runs it: the scripted video is rendered, ingested, and the three
// questions are answered from what the shipped models perceived. The data directory still holds the
// tiny test models older setups generated there: they must not change a word of it (tiny-whisper
// "heard" hello world in every sentence, tiny-color put the delivery notice above the garage door).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';
import { copyTestModels } from '../helpers/test-models.js';

const dir = makeTempDir('engram-demo-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface DemoEvidence {
  start: number;
  end: number;
  quote: string;
}

describe('engram demo', () => {
  it('answers its three questions with the right times, from the shipped models only', { timeout: 240_000 }, async () => {
    copyTestModels(join(dir, 'data', 'models'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ENGRAM_DATA_DIR: join(dir, 'data') };
    const result = await runCli(['demo', '--json'], { env, timeoutMs: 230_000 });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/holds models generated for engram's tests: tiny-clap, tiny-color, tiny-minilm, tiny-whisper\. They are not used/);
    const out = JSON.parse(result.stdout) as { ingest: { chunks: number; events: number }; answers: { question: string; answer: { answer: string; evidence: DemoEvidence[] } }[] };
    expect(out.ingest.chunks).toBe(120);
    expect(out.ingest.events).toBeGreaterThanOrEqual(6);
    // No speech model is installed, so nothing was transcribed and the speech question is not asked.
    expect(out.answers.map((a) => a.question)).toEqual(['What did the delivery notice say?', 'When was the garage door open?', 'What happened after the delivery notice?']);
    expect(result.stdout).not.toMatch(/said "|hello world/i);
    const [notice, garage, after] = out.answers;
    // The notice is on screen from 15 s to 30 s.
    expect(notice?.answer.answer).toMatch(/DELIVERY\s*NOTICE/i);
    expect(notice?.answer.evidence[0]?.start).toBeGreaterThanOrEqual(13);
    expect(notice?.answer.evidence[0]?.start).toBeLessThanOrEqual(17);
    // "GARAGE DOOR OPEN" is on screen from 60 s to 75 s.
    expect(garage?.answer.evidence[0]?.start).toBeGreaterThanOrEqual(58);
    expect(garage?.answer.evidence[0]?.start).toBeLessThanOrEqual(62);
    expect(garage?.answer.answer).toMatch(/GARAG\s*E\s*DOOR\s*OPEN/i);
    // What follows the notice is the scene where someone speaks, from 30 s.
    expect(after?.answer.answer).toMatch(/^After the delivery notice/);
    expect(after?.answer.evidence.map((e) => Math.round(e.start))).toContain(30);
  });
});
