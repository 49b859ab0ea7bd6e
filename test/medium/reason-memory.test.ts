// The reason stage over the real long-term memory (LanceDB in a temp directory), the real model
// runtime (the weight-free visual signature) and real ffmpeg for query by example: a scripted
// scene of six events is stored the way consolidate stores it, then asked about.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { ReasonSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { RuntimeModels, StoreMemory } from '../../pipelines/reason/adapters.js';
import { answerQuestion, type ReasonDeps } from '../../pipelines/reason/answer-question.js';
import { ExampleMedia } from '../../pipelines/repositories/example-media.js';
import { MemoryStore, type EventWrite, type MomentWrite } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-reason-');
const EPOCH = Date.UTC(2026, 10, 28, 9, 0, 0);
const NOW = EPOCH + 3_600_000;
const signal = new AbortController().signal;
const media = new ExampleMedia({ maxImageSide: 320 });

let store: MemoryStore;
let models: ModelRepository;
let deps: ReasonDeps;
const pending: Promise<unknown>[] = [];

/** A solid-colour PNG, decoded the way a query image is. */
function colourPng(colour: string): Buffer {
  const path = join(dir, `${colour}.png`);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `color=c=${colour}:s=320x180`, '-frames:v', '1', '-y', path]);
  return readFileSync(path);
}

interface Scene {
  start: number;
  colour: string;
  stream?: string;
  transcript?: string;
  ocr?: string;
  summary: string;
  tags?: string[];
}

const SCENES: Scene[] = [
  { start: 0, colour: 'red', summary: 'A red scene', tags: ['motion-low'] },
  { start: 10, colour: 'navy', transcript: 'Ding dong, the doorbell rang.', summary: 'Speech: ding dong, the doorbell rang', tags: ['speech'] },
  { start: 20, colour: 'navy', transcript: 'Your parcel is waiting at the front door.', summary: 'Speech: your parcel is waiting at the front door', tags: ['speech'] },
  { start: 30, colour: 'white', ocr: 'DELIVERY NOTICE', summary: 'Text on screen: DELIVERY NOTICE', tags: ['text'] },
  { start: 40, colour: 'green', summary: 'A green scene', tags: ['motion-low'] },
  { start: 0, colour: 'yellow', stream: 'porch', summary: 'A yellow porch', tags: ['motion-low'] },
];

beforeAll(async () => {
  store = await MemoryStore.open(join(dir, 'lancedb'));
  const loaded = loadConfig({ env: {}, overrides: { dataDir: dir } });
  models = await ModelRepository.open({ config: loaded.config.models, paths: loaded.paths, log: silentLogger() });
  const events: EventWrite[] = [];
  const moments: MomentWrite[] = [];
  for (const s of SCENES) {
    const stream = s.stream ?? 'garage';
    const image = await media.decodeImage(colourPng(s.colour), signal);
    const vector = models.visualSignature(image);
    const id = `${stream}.${String(s.start * 1000).padStart(10, '0')}`;
    for (let t = s.start; t < s.start + 10; t += 2) {
      moments.push({ id: `${id}.k${t}`, eventId: id, stream, kind: 'keyframe', t, startedAt: EPOCH + t * 1000, thumbnail: `thumbs/${stream}/${t}.jpg`, vectors: { 'visual-signature': vector } });
    }
    events.push({
      id, stream, start: s.start, end: s.start + 10, startedAt: EPOCH + s.start * 1000, endedAt: EPOCH + (s.start + 10) * 1000,
      summary: s.summary, transcript: s.transcript ?? '', ocr: s.ocr ?? '', tags: s.tags ?? [], thumbnail: null, strength: 1,
      recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true, vectors: { 'visual-signature': vector }, salience: 0.5,
      novelty: 0.5, momentCount: 5, mergedIds: [id], closedBy: 'surprise', consolidatedAt: EPOCH,
    });
  }
  await store.upsertMoments(moments);
  await store.upsertEvents(events);
  deps = {
    memory: new StoreMemory(store),
    models: new RuntimeModels(models),
    media,
    settings: ReasonSchema.parse({}),
    timeZone: 'UTC',
    background: (p) => pending.push(p),
  };
});

afterAll(async () => {
  await Promise.all(pending);
  await models?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reason over LanceDB memory', () => {
  it('answers an on-screen text question with the event that shows it', async () => {
    const a = await answerQuestion(deps, { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(a.evidence[0]).toMatchObject({ eventId: 'garage.0000030000', stream: 'garage', start: 30, end: 40, quote: 'DELIVERY NOTICE' });
    expect(a.answer).toContain('DELIVERY NOTICE');
    expect(a.evidence[0]?.thumbnail).toBe('thumbs/garage/30.jpg');
  });

  it('answers a speech question with the speech event and its quote', async () => {
    const a = await answerQuestion(deps, { question: 'What was said about the parcel?', now: NOW }, signal);
    expect(a.evidence[0]).toMatchObject({ eventId: 'garage.0000020000', quote: 'Your parcel is waiting at the front door.' });
    expect(a.answer).toContain('someone said "Your parcel is waiting at the front door."');
  });

  it('answers "what happened after the doorbell" with the event that follows it', async () => {
    const a = await answerQuestion(deps, { question: 'What happened after the doorbell rang?', now: NOW }, signal);
    expect(a.evidence.slice(0, 2).map((e) => e.eventId)).toEqual(['garage.0000010000', 'garage.0000020000']);
    expect(a.answer).toMatch(/^After the doorbell rang/);
  });

  it('applies time and stream filters', async () => {
    const before = await answerQuestion(deps, { question: 'the delivery notice', until: EPOCH + 25_000, now: NOW }, signal);
    expect(before.evidence.map((e) => e.eventId)).not.toContain('garage.0000030000');
    expect(before.answer).toMatch(/nothing in memory/);
    const window = await answerQuestion(deps, { question: 'What was on screen at 0:35 into the video on the garage camera?', now: NOW }, signal);
    expect(window.evidence[0]?.eventId).toBe('garage.0000030000');
    const porch = await answerQuestion(deps, { question: 'What happened on the porch?', now: NOW }, signal);
    expect(porch.evidence.map((e) => e.stream)).toEqual(['porch']);
  });

  it('finds the scene of an example image through the visual signature', async () => {
    const a = await answerQuestion(deps, { question: '', image: colourPng('green'), now: NOW }, signal);
    expect(a.evidence[0]?.eventId).toBe('garage.0000040000');
    const yellow = await answerQuestion(deps, { question: '', image: colourPng('yellow'), now: NOW }, signal);
    expect(yellow.evidence[0]?.eventId).toBe('porch.0000000000');
  });

  it('refuses query by audio plainly when no audio embedding model is installed', async () => {
    const wav = join(dir, 'tone.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-y', wav]);
    await expect(answerQuestion(deps, { question: '', audio: readFileSync(wav), now: NOW }, signal)).rejects.toThrow(
      'query by audio needs an audio embedding model; none is installed (see `engram models list`)',
    );
  });

  it('says so for a question memory cannot answer', async () => {
    const a = await answerQuestion(deps, { question: 'What did the astronaut say about the moon?', now: NOW }, signal);
    expect(a.evidence).toEqual([]);
    expect(a.answer).toBe('I found nothing in memory about "astronaut moon". I will not guess.');
  });

  it('reinforces the events an answer used', async () => {
    await Promise.all(pending);
    const before = await store.getEvent('garage.0000030000');
    await answerQuestion(deps, { question: 'delivery notice', now: NOW }, signal);
    await Promise.all(pending);
    const after = await store.getEvent('garage.0000030000');
    expect(after?.recallCount).toBe((before?.recallCount ?? 0) + 1);
    expect(after?.lastRecalledAt).toBe(NOW);
  });
});
