// An order question's sequel read with the candidates' rows, guessed from the first candidate's id,
// must make widening cite exactly what its own read of the anchor's sequel makes it cite, over the
// real LanceDB store: when the guessed stretch holds the sequel it replaces that read, and when it
// does not (another anchor, a sparse stream, the end of a stream, a wall-clock window that leaves
// too few) widening reads again and cites the same.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReasonSchema } from '../../config/schema.js';
import { eventId, type StoredEvent } from '../../pipelines/records/event.js';
import { StoreMemory } from '../../pipelines/reason/adapters.js';
import { SourceKind } from '../../pipelines/reason/fusion.js';
import type { MemoryFilter, ReasonMemory } from '../../pipelines/reason/ports.js';
import { parseQuestion } from '../../pipelines/reason/question.js';
import type { RankedEvent } from '../../pipelines/reason/retrieve.js';
import { GuessedSequel, sequelAsk } from '../../pipelines/reason/sequel.js';
import { widenEvidence } from '../../pipelines/reason/widen-evidence.js';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';
import { makeTempDir } from '../helpers/env.js';
import { countedReads, garagePorchScene, SCENE_EPOCH, storeScene } from '../helpers/garage-porch-scene.js';

const dir = makeTempDir('engram-sequel-');
const EPOCH = SCENE_EPOCH;
const settings = ReasonSchema.parse({});
const g = (start: number) => eventId('garage', start);
const p = (start: number) => eventId('porch', start);

let store: MemoryStore;
let memory: StoreMemory;
let events: Map<string, StoredEvent>;

const scene = (): EventWrite[] => garagePorchScene({ every: 200, until: 4000 });

function ranked(id: string): RankedEvent[] {
  return [{ event: events.get(id) ?? expect.unreachable(`no event ${id} in the scene`), fused: { id, score: 1, consensus: 1, ranks: {} }, confidence: 0.8, coverage: 1, similarity: 0.8, bestSource: SourceKind.FullText, moments: [] }];
}

const counted = (calls: Map<string, number>): ReasonMemory => countedReads(memory, calls);

/** Widening of an order question whose anchor is `anchor`, with the sequel guessed from `first` (the first candidate) or not guessed. */
async function widen(question: string, anchor: string, first: string | undefined, wall?: MemoryFilter['wall']) {
  const calls = new Map<string, number>();
  const reads = counted(calls);
  const parsed = parseQuestion(question, { now: EPOCH + 86_400_000, timeZone: 'UTC', streams: ['garage', 'porch'] });
  const ask = sequelAsk(parsed, wall, settings.maxEvidence) ?? expect.unreachable(`not an order question: ${question}`);
  let guessed: GuessedSequel | undefined;
  if (first !== undefined) {
    // What retrieval reads for an order question: the candidates' rows with the guessed stretch.
    const ids = [first, anchor, p(400)];
    const read = await GuessedSequel.readWith(reads, ids, ask);
    expect(read.events.map((e) => e.id)).toEqual([...new Set(ids)]);
    guessed = read.sequel;
  }
  calls.clear();
  const items = await widenEvidence(reads, settings, { parsed, words: parsed.order?.anchorKeywords ?? [], wall, browse: false }, ranked(anchor), undefined, guessed);
  return { evidence: items.map((i) => ({ id: i.event.id, role: i.role, quote: i.quote })), calls: Object.fromEntries(calls) };
}

beforeAll(async () => {
  ({ store, memory, events } = await storeScene(dir, scene()));
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("an order question's sequel guessed from the first candidate", () => {
  const after = 'what happened after the words?';
  const before = 'what happened before the words?';
  const saidAfter = 'what was said after the words?';

  it('cites the same evidence as widening alone, with no read of its own when the guess holds the sequel', async () => {
    const wall = { from: EPOCH, to: EPOCH + 900_000 };
    for (const [question, anchor, w] of [[after, g(480), undefined], [before, g(480), undefined], [saidAfter, g(120), undefined], [after, g(1000), undefined], [before, g(1400), undefined], [after, g(480), wall]] as const) {
      const alone = await widen(question, anchor, undefined, w);
      const guessed = await widen(question, anchor, anchor, w);
      expect(guessed.evidence).toEqual(alone.evidence);
      expect(guessed.evidence.filter((e) => e.role === 'sequel').length).toBe(settings.maxEvidence - 1);
      expect(guessed.calls).toEqual({});
      expect(alone.calls.listEvents).toBe(1);
    }
  });

  it('reads again, and cites the same, when the guess does not hold the sequel', async () => {
    const cases = [
      // The anchor is not the first candidate (the moments stage re-ranked the hits) and ends before its stretch.
      [after, g(120), g(480), undefined],
      [before, g(480), g(120), undefined],
      // A sparse stream: the guessed stretch holds 5 of the 16 events a sequel read keeps.
      [after, p(1000), p(1000), undefined],
      // The end of a stream: the guess cannot tell that no more events follow the gap.
      [after, g(1796), g(1796), undefined],
      [before, g(24), g(24), undefined],
      // The wall-clock window leaves too few of the stretch's events.
      [after, g(480), g(480), { from: EPOCH, to: EPOCH + 600_000 }],
    ] as const;
    for (const [question, anchor, first, wall] of cases) {
      const alone = await widen(question, anchor, undefined, wall);
      const guessed = await widen(question, anchor, first, wall);
      expect(guessed.evidence).toEqual(alone.evidence);
      expect(guessed.evidence.length).toBeGreaterThan(1);
      expect(guessed.calls.listEvents, `${question} anchor ${anchor}, first ${first}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('answers for another anchor whose sequel the stretch holds too', async () => {
    // The first candidate was the event before the anchor: the anchor's sequel starts inside the stretch.
    const alone = await widen(after, g(480), undefined);
    const guessed = await widen(after, g(480), g(468));
    expect(guessed.evidence).toEqual(alone.evidence);
    expect(guessed.calls).toEqual({});
  });

  it('guesses nothing from an id not made by eventId, and still reads the candidates', async () => {
    const parsed = parseQuestion(after, { now: EPOCH + 86_400_000, timeZone: 'UTC', streams: ['garage', 'porch'] });
    const ask = sequelAsk(parsed, undefined, settings.maxEvidence) ?? expect.unreachable('an order question');
    const read = await GuessedSequel.readWith(memory, ['e1', g(480)], ask);
    expect(read.sequel).toBeUndefined();
    expect(read.events.map((e) => e.id)).toEqual([g(480)]);
  });
});
