// The reason stage over small in-memory repositories: retrieval, order questions, windows,
// completion, gating and reinforcement, checked by what the answer says and cites. The real
// LanceDB store and models are exercised by test/medium/reason-memory.test.ts and the CLI e2e test.
import { describe, expect, it } from 'vitest';
import { ReasonSchema } from '../../config/schema.js';
import type { StoredEvent } from '../records/event.js';
import { answerQuestion, type ReasonDeps } from './answer-question.js';
import { SourceKind } from './fusion.js';
import { words } from './keywords.js';
import type { EventHit, MemoryFilter, MomentHit, ReasonMemory, ReasonModels, StreamStretch } from './ports.js';

const T0 = Date.UTC(2026, 10, 28, 14, 0);
const NOW = Date.UTC(2026, 10, 28, 15, 0);
const COLOURS = ['red', 'green', 'blue'];

function colourVector(text: string): Float32Array {
  const v = new Float32Array(3);
  for (const w of words(text)) {
    const i = COLOURS.indexOf(w);
    if (i >= 0) v[i] = 1;
  }
  return v;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

interface FakeEvent extends StoredEvent {
  colour: string;
}

function ev(stream: string, start: number, end: number, fields: Partial<FakeEvent>): FakeEvent {
  return {
    id: `${stream}.${String(start * 1000).padStart(10, '0')}`,
    stream,
    start,
    end,
    startedAt: T0 + start * 1000,
    endedAt: T0 + end * 1000,
    summary: '',
    transcript: '',
    ocr: '',
    tags: [],
    thumbnail: null,
    strength: 1,
    recallCount: 0,
    lastRecalledAt: null,
    level: 0,
    needsSummary: false,
    labels: [],
    counts: {},
    tracks: [],
    people: [],
    colour: '',
    ...fields,
  };
}

function matches(e: StoredEvent, f: MemoryFilter): boolean {
  if (f.streams && !f.streams.includes(e.stream)) return false;
  if (f.wall && !(e.startedAt < f.wall.to && e.endedAt > f.wall.from)) return false;
  if (f.streamTime && !(e.start <= f.streamTime.end && e.end >= f.streamTime.start)) return false;
  if (f.streamTimes && !f.streamTimes.some((w) => e.start <= w.end && e.end >= w.start)) return false;
  if (f.eventIds && !f.eventIds.includes(e.id)) return false;
  return true;
}

/** Long-term memory as a list: the same contract as the LanceDB adapter, small enough to read. */
class ListMemory implements ReasonMemory {
  reinforced: string[] = [];
  constructor(readonly events: FakeEvent[]) {}
  async streams() {
    return [...new Set(this.events.map((e) => e.stream))].sort();
  }
  async vectorSpaces() {
    return { events: ['colour'], moments: ['colour'], episodes: [] };
  }
  async searchEvents(_space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EventHit[]> {
    return this.events
      .filter((e) => matches(e, filter))
      .map((e) => ({ id: e.id, similarity: cosine(vector, colourVector(e.colour)) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, limit);
  }
  async searchMoments(_space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<MomentHit[]> {
    return this.events
      .filter((e) => matches(e, filter))
      .map((e) => ({ eventId: e.id, stream: e.stream, t: (e.start + e.end) / 2, kind: 'keyframe' as const, thumbnail: `thumbs/${e.id}.jpg`, similarity: cosine(vector, colourVector(e.colour)) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, limit);
  }
  async searchEpisodes() {
    return [];
  }
  async textSearchEvents(query: string, limit: number, filter: MemoryFilter): Promise<EventHit[]> {
    const q = new Set(words(query));
    return this.events
      .filter((e) => matches(e, filter))
      .map((e) => ({ e, n: words(`${e.summary} ${e.transcript} ${e.ocr}`).filter((w) => q.has(w)).length }))
      .filter((x) => x.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, limit)
      .map((x) => ({ id: x.e.id }));
  }
  async textSearchEpisodes() {
    return [];
  }
  async listEvents(filter: MemoryFilter, limit: number, newestFirst = false) {
    const list = this.events.filter((e) => matches(e, filter)).sort((a, b) => a.startedAt - b.startedAt);
    return (newestFirst ? list.reverse() : list).slice(0, limit);
  }
  async listEventSpans(filter: MemoryFilter, limit: number) {
    return (await this.listEvents(filter, limit)).map(({ id, stream, start, end }) => ({ id, stream, start, end }));
  }
  async countEvents(filter: MemoryFilter) {
    return this.events.filter((e) => matches(e, filter)).length;
  }
  async neighbours(event: StoredEvent, before: number, after: number) {
    const list = this.events.filter((e) => e.stream === event.stream).sort((a, b) => a.start - b.start);
    const i = list.findIndex((e) => e.id === event.id);
    return [...list.slice(Math.max(0, i - before), i), ...list.slice(i + 1, i + 1 + after)];
  }
  momentReads = 0;
  async momentsInWindows(stream: string, windows: readonly { start: number; end: number }[]): Promise<MomentHit[]> {
    this.momentReads += 1;
    return this.events
      .filter((e) => e.stream === stream && windows.some((w) => e.start <= w.end && e.end >= w.start))
      .map((e) => ({ eventId: e.id, stream, t: e.start, kind: 'keyframe' as const, thumbnail: `thumbs/${e.id}.jpg`, similarity: 0 }));
  }
  async getEvents(ids: readonly string[]) {
    return this.events.filter((e) => ids.includes(e.id));
  }
  async eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number) {
    const inStretches = this.events
      .filter((e) => stretches.some((s) => s.stream === e.stream && e.start <= s.end && e.end >= s.start))
      .sort((a, b) => a.startedAt - b.startedAt);
    return { events: await this.getEvents(ids), inStretches: inStretches.slice(0, limit), complete: inStretches.length <= limit };
  }
  async reinforce(ids: readonly string[]) {
    this.reinforced.push(...ids);
  }
}

const models: ReasonModels = {
  textSpaces: () => [{ id: 'colour', kind: SourceKind.ImageText }],
  imageSpaces: () => [],
  audioSpaces: () => [],
  embedText: async (_space, text) => colourVector(text),
  embedImage: async () => new Float32Array(3),
  embedAudio: async () => new Float32Array(3),
};

const SCENE = [
  ev('garage', 0, 10, { colour: 'red', summary: 'A red scene' }),
  ev('garage', 10, 20, { transcript: 'The doorbell rang twice.', tags: ['speech'], summary: 'Speech: the doorbell rang twice' }),
  ev('garage', 20, 30, { transcript: 'Your parcel is at the front door.', tags: ['speech'], summary: 'Speech about a parcel' }),
  ev('garage', 30, 40, { ocr: 'DELIVERY NOTICE', colour: 'blue', summary: 'Text on screen: DELIVERY NOTICE' }),
  ev('garage', 40, 50, { colour: 'green', summary: 'A green scene' }),
  ev('porch', 0, 10, { colour: 'green', summary: 'Porch, green' }),
];

function deps(memory: ListMemory, extra: Partial<ReasonDeps> = {}): ReasonDeps {
  return { memory, models, settings: ReasonSchema.parse({ maxEvidence: 4 }), timeZone: 'UTC', ...extra };
}

const signal = new AbortController().signal;

describe('answerQuestion', () => {
  it('answers an on-screen text question with the event that shows it', async () => {
    const memory = new ListMemory(SCENE);
    const a = await answerQuestion(deps(memory), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(a.evidence[0]).toMatchObject({ eventId: 'garage.0000030000', start: 30, end: 40, quote: 'DELIVERY NOTICE' });
    expect(a.answer).toContain('DELIVERY NOTICE');
    expect(a.answer).toContain('0:30–0:40 into garage');
    expect(a.timings.totalMs).toBeGreaterThanOrEqual(0);
  });

  it('finds a colour through the aligned space and fills a thumbnail from its moments', async () => {
    const memory = new ListMemory(SCENE);
    const a = await answerQuestion(deps(memory), { question: 'When did I see a red scene?', now: NOW }, signal);
    expect(a.evidence[0]?.eventId).toBe('garage.0000000000');
    expect(a.evidence[0]?.thumbnail).toBe('thumbs/garage.0000000000.jpg');
  });

  it('reads keyframe moments only for evidence without its own thumbnail', async () => {
    const bare = new ListMemory(SCENE);
    const a = await answerQuestion(deps(bare), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(a.evidence[0]?.thumbnail).toBe('thumbs/garage.0000030000.jpg');
    expect(bare.momentReads).toBe(1);
    // Events that carry their thumbnail (what consolidation stores) need no moments read.
    const own = new ListMemory(SCENE.map((e) => ({ ...e, thumbnail: `own/${e.id}.jpg` })));
    const b = await answerQuestion(deps(own), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(b.evidence.map((e) => e.thumbnail)).toEqual(b.evidence.map((e) => `own/${e.eventId}.jpg`));
    expect(b.evidence.length).toBeGreaterThan(1);
    expect(own.momentReads).toBe(0);
  });

  it('answers "what happened after X" with the event that follows X, by time', async () => {
    const memory = new ListMemory(SCENE);
    const a = await answerQuestion(deps(memory), { question: 'What was said after the doorbell rang?', now: NOW }, signal);
    expect(a.evidence.map((e) => e.eventId).slice(0, 2)).toEqual(['garage.0000010000', 'garage.0000020000']);
    expect(a.answer).toMatch(/^After the doorbell rang .*someone said "Your parcel is at the front door\."/);
  });

  it('respects stream and time filters', async () => {
    const memory = new ListMemory(SCENE);
    const porch = await answerQuestion(deps(memory), { question: 'Anything green?', stream: 'porch', now: NOW }, signal);
    expect(porch.evidence.every((e) => e.stream === 'porch')).toBe(true);
    const early = await answerQuestion(deps(memory), { question: 'What did the delivery notice say?', until: T0 + 25_000, now: NOW }, signal);
    expect(early.evidence.map((e) => e.eventId)).not.toContain('garage.0000030000');
    const window = await answerQuestion(deps(memory), { question: 'What was on screen at 0:35 into the video on the garage camera?', now: NOW }, signal);
    expect(window.evidence[0]?.eventId).toBe('garage.0000030000');
  });

  it('says so when nothing relevant is in memory, and reinforces only what an answer used', async () => {
    const memory = new ListMemory(SCENE);
    const none = await answerQuestion(deps(memory), { question: 'What did the astronaut say about the moon?', now: NOW }, signal);
    expect(none.evidence).toEqual([]);
    expect(none.answer).toMatch(/nothing in memory about "astronaut moon"/);
    expect(memory.reinforced).toEqual([]);
    const pending: Promise<unknown>[] = [];
    await answerQuestion(deps(memory, { background: (p) => pending.push(p) }), { question: 'the delivery notice', now: NOW }, signal);
    await Promise.all(pending);
    expect(memory.reinforced[0]).toBe('garage.0000030000');
  });

  it('ignores an encoder that embeds every question alike (no contrast with a neutral question)', async () => {
    // A degenerate sentence space: every text gets the same vector, so every event looks 0.99 similar.
    class FlatMemory extends ListMemory {
      override async vectorSpaces() {
        return { events: ['colour', 'flat'], moments: [], episodes: [] };
      }
      override async searchEvents(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EventHit[]> {
        if (space !== 'flat') return super.searchEvents(space, vector, limit, filter);
        return this.events.filter((e) => matches(e, filter)).map((e) => ({ id: e.id, similarity: 0.99 }));
      }
    }
    const flatModels: ReasonModels = {
      ...models,
      textSpaces: () => [{ id: 'colour', kind: SourceKind.ImageText }, { id: 'flat', kind: SourceKind.Sentence }],
      embedText: async (space, text) => (space === 'flat' ? new Float32Array([0.6, 0.8]) : colourVector(text)),
    };
    const memory = new FlatMemory(SCENE);
    const none = await answerQuestion(deps(memory, { models: flatModels }), { question: 'What did the astronaut say about the moon?', now: NOW }, signal);
    expect(none.evidence).toEqual([]);
    const red = await answerQuestion(deps(memory, { models: flatModels }), { question: 'When did I see a red scene?', now: NOW }, signal);
    expect(red.evidence[0]?.eventId).toBe('garage.0000000000');
  });

  it('answers "what happened" in a window with an account in time order', async () => {
    const memory = new ListMemory(SCENE);
    const a = await answerQuestion(deps(memory), { question: 'What happened in the first 15 seconds of the video on the garage camera?', now: NOW }, signal);
    expect(a.evidence.map((e) => e.eventId).sort()).toEqual(['garage.0000000000', 'garage.0000010000']);
    expect(a.answer).toBe('At 14:00:00 (0:00–0:10 into garage): A red scene; at 14:00:10 (0:10–0:20 into garage): someone said "The doorbell rang twice."');
  });

  it('finds on-screen text that OCR read without spaces', async () => {
    const memory = new ListMemory([...SCENE.slice(0, 3), ev('garage', 30, 40, { ocr: 'DELIVERYNOTICE', summary: 'On screen: "DELIVERYNOTICE"' })]);
    const a = await answerQuestion(deps(memory), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(a.evidence[0]).toMatchObject({ eventId: 'garage.0000030000', quote: 'DELIVERYNOTICE' });
  });

  it('answers "when did somebody speak" with the speech events only', async () => {
    const memory = new ListMemory(SCENE);
    const a = await answerQuestion(deps(memory), { question: 'When did somebody speak?', now: NOW }, signal);
    expect(a.evidence.map((e) => e.eventId).sort()).toEqual(['garage.0000010000', 'garage.0000020000']);
  });

  it('refuses an unknown stream and an empty question with messages that name the problem', async () => {
    const memory = new ListMemory(SCENE);
    await expect(answerQuestion(deps(memory), { question: 'x', stream: 'attic' }, signal)).rejects.toThrow('no stream "attic" in memory (streams: garage, porch)');
    await expect(answerQuestion(deps(memory), { question: '  ' }, signal)).rejects.toThrow(/question is empty/);
  });

  it('answers through the chat model and drops citations it invented', async () => {
    const memory = new ListMemory(SCENE);
    let prompt = '';
    const chat = {
      complete: async (messages: { content: string }[]) => {
        prompt = messages.map((m) => m.content).join('\n');
        return JSON.stringify({ answer: 'A delivery notice was shown.', citations: ['garage.0000030000', 'garage.9999999999'] });
      },
    };
    const a = await answerQuestion(deps(memory, { chat }), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(prompt).toContain('id: garage.0000030000');
    expect(prompt).toContain('on screen: DELIVERY NOTICE');
    expect(a.answer).toBe('A delivery notice was shown.');
    expect(a.evidence.map((e) => e.eventId)).toEqual(['garage.0000030000']);
  });

  it('falls back to the extractive answer when the chat model fails', async () => {
    const memory = new ListMemory(SCENE);
    const chat = { complete: async () => { throw new Error('connection refused'); } };
    const a = await answerQuestion(deps(memory, { chat }), { question: 'What did the delivery notice say?', now: NOW }, signal);
    expect(a.answer).toContain('DELIVERY NOTICE');
  });
});
