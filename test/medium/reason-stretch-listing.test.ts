// The stretches guessed from the fused candidates' ids (read in the same query as their rows) must
// make widening cite exactly what its own listing makes it cite, over the real LanceDB store: when
// the guess covers (events up to a minute long) it replaces that listing and the context read, and
// when it does not (a merged event of several minutes, hits that are not the first candidates)
// widening lists again and cites the same.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReasonSchema } from '../../config/schema.js';
import { eventId, type StoredEvent } from '../../pipelines/records/event.js';
import { StoreMemory } from '../../pipelines/reason/adapters.js';
import { SourceKind } from '../../pipelines/reason/fusion.js';
import type { ReasonMemory } from '../../pipelines/reason/ports.js';
import { parseQuestion } from '../../pipelines/reason/question.js';
import type { RankedEvent } from '../../pipelines/reason/retrieve.js';
import { guessStretches, StretchListing } from '../../pipelines/reason/stretch-listing.js';
import { widenEvidence } from '../../pipelines/reason/widen-evidence.js';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';
import { makeTempDir } from '../helpers/env.js';
import { countedReads, garagePorchScene, SCENE_EPOCH, storeScene } from '../helpers/garage-porch-scene.js';

const dir = makeTempDir('engram-stretch-');
const EPOCH = SCENE_EPOCH;
const settings = ReasonSchema.parse({});
const WINDOW_S = Math.max(settings.visualWindowS, settings.audioWindowS);

let store: MemoryStore;
let memory: StoreMemory;
let events: Map<string, StoredEvent>;

const scene = (): EventWrite[] => garagePorchScene({ every: 20, until: 600 });

/** Widening's input for hits on these events, in this order, as retrieval would rank them. */
function ranked(ids: readonly string[]): RankedEvent[] {
  return ids.map((id, i) => ({
    event: events.get(id) ?? expect.unreachable(`no event ${id} in the scene`),
    fused: { id, score: 1 / (i + 1), consensus: 1, ranks: {} },
    confidence: 0.8,
    coverage: 1,
    similarity: 0.8,
    bestSource: i % 2 === 0 ? SourceKind.FullText : SourceKind.ImageText,
    moments: [],
  }));
}

const counted = (calls: Map<string, number>): ReasonMemory => countedReads(memory, calls);

async function widen(hits: readonly string[], fused: readonly string[] | undefined, question = 'what did they say about the words?') {
  const calls = new Map<string, number>();
  const reads = counted(calls);
  // What retrieval reads: the candidates' rows, with the stretches guessed from them when asked to.
  const read = await StretchListing.readWith(reads, hits, fused ? guessStretches(fused, WINDOW_S) : undefined);
  expect(read.events.map((e) => e.id)).toEqual(hits);
  calls.clear();
  const guessed = read.listing;
  const parsed = parseQuestion(question, { now: EPOCH + 86_400_000, timeZone: 'UTC', streams: ['garage', 'porch'] });
  const items = await widenEvidence(reads, settings, { parsed, words: parsed.keywords, wall: undefined, browse: false }, ranked(hits), guessed);
  return { evidence: items.map((i) => ({ id: i.event.id, role: i.role, quote: i.quote, thumbnail: i.thumbnail })), calls: Object.fromEntries(calls) };
}

beforeAll(async () => {
  ({ store, memory, events } = await storeScene(dir, scene()));
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the stretch listing guessed from candidate ids', () => {
  const g = (start: number) => eventId('garage', start);
  const p = (start: number) => eventId('porch', start);

  it('cites the same evidence as widening alone, with no listing of its own when the guess covers', async () => {
    for (const hits of [[g(480), p(200), g(504)], [g(0)], [p(580), g(1796)], [g(2600), g(1796)]]) {
      const alone = await widen(hits, undefined);
      const guessed = await widen(hits, hits);
      expect(guessed.evidence).toEqual(alone.evidence);
      expect(guessed.evidence.filter((e) => e.role === 'context').length).toBeGreaterThan(0);
      // Widening made no listing and no read of its own; alone it made a listing per stream and a context read.
      expect(guessed.calls).toEqual({});
      expect(alone.calls.listEventSpans).toBe(new Set(hits.map((id) => id.split('.')[0])).size);
      expect(alone.calls.getEvents).toBe(1);
    }
  });

  it('lists again, and cites the same, when the guess does not cover the hits', async () => {
    // The 400 s merged event: its end is not in its id, so its neighbourhood reaches past the guess.
    const merged = [g(1000), g(1400)];
    expect((await widen(merged, merged)).evidence).toEqual((await widen(merged, undefined)).evidence);
    expect((await widen(merged, merged)).calls.listEventSpans).toBe(1);
    // The hits are not the first fused candidates (the moments stage re-ranked them).
    const reranked = [g(120), p(40)];
    const stale = [g(900), g(912)];
    const again = await widen(reranked, stale);
    expect(again.evidence).toEqual((await widen(reranked, undefined)).evidence);
    expect(again.calls.listEventSpans).toBe(2);
  });

  it('guesses nothing from ids that are not made by eventId', () => {
    expect(guessStretches(['e1', 'garage.12'], WINDOW_S)).toBeUndefined();
    expect(guessStretches([g(480), 'e1'], WINDOW_S)).toBeUndefined();
  });

  it('reads candidates that lie outside the stretches, and merged ids, in the order asked', async () => {
    // Candidate ids from far away and a merged id (garage.1000 absorbed garage.1200) come back like getEvents.
    const ids = [p(200), g(1200), g(480), 'garage.9999999999'];
    await store.upsertEvents([{ ...(scene().find((e) => e.id === g(1000)) as EventWrite), mergedIds: [g(1000), g(1200)] }]);
    const read = await StretchListing.readWith(memory, ids, guessStretches([g(480)], WINDOW_S));
    expect(read.events.map((e) => e.id)).toEqual((await memory.getEvents(ids)).map((e) => e.id));
    expect(read.events.map((e) => e.id)).toEqual([p(200), g(1000), g(480)]);
    expect(read.listing?.covering('garage', [{ stream: 'garage', start: 470, end: 500 }])?.map((e) => e.id)).toEqual([g(468), g(480), g(492)]);
    expect(read.listing?.covering('porch', [{ stream: 'porch', start: 190, end: 210 }])).toBeUndefined();
  });
});
