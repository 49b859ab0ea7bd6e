// Questions about people, vehicles and things over the real long-term memory (LanceDB in a temp
// directory) and the real WordNet map: events are stored with labels, counts and tracks the way
// consolidate stores them, then asked about in everyday words.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReasonSchema } from '../../config/schema.js';
import type { LabelCount, TrackSpan } from '../../pipelines/records/event.js';
import { StoreMemory } from '../../pipelines/reason/adapters.js';
import { answerQuestion, type ReasonDeps } from '../../pipelines/reason/answer-question.js';
import type { ReasonModels } from '../../pipelines/reason/ports.js';
import { loadLabelWords } from '../../services/reason/label-words.js';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-objq-');
// Saturday 28 November 2026, 14:00 UTC; questions are asked at 18:00 the same day.
const EPOCH = Date.UTC(2026, 10, 28, 14, 0, 0);
const NOW = EPOCH + 4 * 3_600_000;
const signal = new AbortController().signal;

let store: MemoryStore;
let deps: ReasonDeps;

// Object questions never embed; a question that falls through to retrieval here searches text only.
const noTextModels: ReasonModels = {
  textSpaces: () => [],
  imageSpaces: () => [],
  audioSpaces: () => [],
  embedText: () => Promise.reject(new Error('no text encoder in this test')),
  embedImage: () => Promise.reject(new Error('no image encoder in this test')),
  embedAudio: () => Promise.reject(new Error('no audio encoder in this test')),
};

function track(id: number, label: string, enter: number, leave: number, entered: boolean, left: boolean): TrackSpan {
  return { id, label, enter, leave, enteredAt: EPOCH + enter * 1000, leftAt: EPOCH + leave * 1000, entered, left, score: 0.6 };
}

function event(stream: string, start: number, end: number, summary: string, tracks: TrackSpan[], counts: Record<string, LabelCount>): EventWrite {
  const id = `${stream}.${String(start * 1000).padStart(10, '0')}`;
  return {
    id, stream, start, end, startedAt: EPOCH + start * 1000, endedAt: EPOCH + end * 1000, summary, transcript: '', ocr: '', tags: [],
    thumbnail: null, strength: 1, recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true, vectors: {}, salience: 0.5,
    novelty: 0.5, momentCount: 1, mergedIds: [id], closedBy: 'presence', consolidatedAt: EPOCH,
    labels: Object.keys(counts).sort(), counts, tracks,
  };
}

const EVENTS: EventWrite[] = [
  event('garage', 0, 20, 'A person came into view at 0:06 and left at 0:19.', [track(1, 'person', 6, 19, true, true)], { person: { distinct: 1, max: 1 } }),
  event('garage', 20, 30, 'Nothing moved.', [], {}),
  event('garage', 30, 60, '2 cars passed.', [track(2, 'car', 32, 40, true, true), track(3, 'car', 45, 58, true, true)], { car: { distinct: 2, max: 1 } }),
  event('garage', 60, 90, 'A car came into view at 1:05 and left at 1:20.', [track(4, 'car', 65, 80, true, true)], { car: { distinct: 1, max: 1 } }),
  event('kitchen', 0, 30, '3 bottles were seen, at most 3 at once.', [track(1, 'bottle', 0, 29, false, false), track(2, 'bottle', 0, 29, false, false), track(3, 'bottle', 0, 29, false, false)], { bottle: { distinct: 3, max: 3 }, 'dining table': { distinct: 1, max: 1 } }),
  event('kitchen', 30, 60, 'A bottle was in view until 0:35.', [track(1, 'bottle', 30, 59, false, false), track(2, 'bottle', 30, 59, false, false), track(3, 'bottle', 30, 35, false, true)], { bottle: { distinct: 3, max: 2 }, 'dining table': { distinct: 1, max: 1 } }),
];

beforeAll(async () => {
  store = await MemoryStore.open(join(dir, 'lancedb'));
  await store.upsertEvents(EVENTS);
  deps = {
    memory: new StoreMemory(store),
    models: noTextModels,
    settings: ReasonSchema.parse({ reinforce: false }),
    timeZone: 'UTC',
    labelWords: () => loadLabelWords(join(dir, 'cache')),
  };
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = async (question: string) => { const a = await answerQuestion(deps, { question, now: NOW }, signal); if (process.env.SHOW_ANSWERS) console.log(question, '=>', a.answer); return a; };
const cited = (a: { evidence: { eventId: string }[] }) => a.evidence.map((e) => e.eventId);

describe('questions about people, vehicles and things', () => {
  it('presence: "when was someone in the garage?" cites the person event', async () => {
    const a = await ask('when was someone in the garage?');
    expect(cited(a)).toEqual(['garage.0000000000']);
    expect(a.answer).toMatch(/person/);
  });

  it('arrival: "when did a visitor come in?" cites the event where the track starts, with its time', async () => {
    const a = await ask('when did a visitor come in?');
    expect(cited(a)).toEqual(['garage.0000000000']);
    expect(a.answer).toContain('came into view at 14:00:06');
  });

  it('departure: "when did the car leave?" names every car leaving and cites their events', async () => {
    const a = await ask('when did the car leave?');
    expect(cited(a)).toEqual(['garage.0000030000', 'garage.0000060000']);
    expect(a.answer).toContain('left at 14:00:40');
    expect(a.answer).toContain('left at 14:01:20');
  });

  it('counting: "how many cars passed?" states 3 and cites each counted event', async () => {
    const a = await ask('how many cars passed?');
    expect(a.answer).toMatch(/^3 cars passed/);
    expect(cited(a)).toEqual(['garage.0000030000', 'garage.0000060000']);
    // Evidence cards show what each event held.
    expect(a.evidence[0]).toMatchObject({ labels: ['car'], counts: { car: { distinct: 2, max: 1 } } });
  });

  it('a word reaching several labels is answered in the question\'s word: "how many vehicles passed?"', async () => {
    const a = await ask('how many vehicles passed?');
    expect(a.answer).toMatch(/^3 vehicles passed/);
    expect(cited(a)).toEqual(['garage.0000030000', 'garage.0000060000']);
    expect((await ask('were there any animals in the garage?')).answer).toBe('No animal was seen on garage.');
  });

  it('counting in a window: "how many cars passed between 2 and 3 pm?" and none before', async () => {
    expect((await ask('how many cars passed between 2 and 3 pm?')).answer).toMatch(/^3 cars passed/);
    const before = await ask('how many cars passed between 1 and 2 pm?');
    expect(before.answer).toMatch(/^No car was seen/);
    expect(before.evidence).toEqual([]);
  });

  it('counting at once: "how many bottles were on the table?" answers the most seen together', async () => {
    const a = await ask('how many bottles were on the table?');
    expect(a.answer).toMatch(/^3 bottles/);
    expect(cited(a)).toEqual(['kitchen.0000000000']);
  });

  it('"when was a bottle taken away?" cites the event where a bottle left', async () => {
    const a = await ask('when was a bottle taken away?');
    expect(cited(a)).toEqual(['kitchen.0000030000']);
    // The count dropping while the others stay: what a person checks against the picture.
    expect(a.answer).toBe('A bottle left at 14:00:35 (0:35 into kitchen), leaving 2.');
  });

  it('"when was a bottle put back?" answers that none came into view when the count never rose', async () => {
    const a = await ask('when was a bottle put back?');
    expect(a.answer).toMatch(/^A bottle was already in view .*; none came into view/);
  });

  it('absence: "was anyone here last night?" says no one was seen and cites nothing', async () => {
    const a = await ask('was anyone here last night?');
    expect(a.answer).toMatch(/^No one was seen/);
    expect(a.evidence).toEqual([]);
  });

  it('whether, with a match: "was anybody in the garage today?" says yes and cites it', async () => {
    const a = await ask('was anybody in the garage today?');
    expect(a.answer).toMatch(/^Yes/);
    expect(cited(a)).toEqual(['garage.0000000000']);
  });

  it('a label never seen: "when did a dog come by?" answers that none was seen', async () => {
    const a = await ask('when did a dog come by?');
    expect(a.answer).toBe('No dog was seen.');
    expect(a.evidence).toEqual([]);
  });

  it('"how many people came in today?" counts arrivals', async () => {
    const a = await ask('how many people came in today?');
    expect(a.answer).toMatch(/^1 person came in/);
    expect(cited(a)).toEqual(['garage.0000000000']);
  });
});

describe('a memory the detector never saw anything in', () => {
  it('answers object questions through retrieval, never "No car was seen"', async () => {
    const emptyDir = makeTempDir('engram-objq0-');
    const bare = await MemoryStore.open(join(emptyDir, 'lancedb'));
    try {
      await bare.upsertEvents([event('porch', 0, 10, 'A red car parked by the porch.', [], {})]);
      const a = await answerQuestion({ ...deps, memory: new StoreMemory(bare) }, { question: 'when was the red car parked?', now: NOW }, signal);
      expect(a.answer).not.toMatch(/No car was seen/);
      expect(a.evidence.map((e) => e.eventId)).toEqual(['porch.0000000000']);
    } finally {
      await bare.close();
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
