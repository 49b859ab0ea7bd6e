// Hybrid retrieval: the question embedded in every installed text space and searched against
// events and episodes, full-text over what was said and written, all fused by rank; then, when
// the first stage is not confident, moments (single keyframes and audio windows) are consulted.
import type { Config } from '../../config/schema.js';
import type { StoredEvent } from '../records/event.js';
import { AnchorModality, type Anchor } from './completion.js';
import { fuseByRank, routedWeight, SourceKind, type FusedHit, type RankedList } from './fusion.js';
import { calibrate, confidence, gate, Stage, type SimilarityScale } from './gating.js';
import { compounds, coverage } from './keywords.js';
import { ModalityHint, type ParsedQuestion } from './question.js';
import type { EpisodeHit, MemoryFilter, ReasonMemory } from './ports.js';
import { GuessedSequel, type SequelAsk } from './sequel.js';
import { guessStretches, StretchListing } from './stretch-listing.js';

export type ReasonSettings = Config['reason'];

/**
 * A query vector and the kind of comparison it stands for. For a text question the vector is the
 * question's embedding minus a neutral question's, so cosine x `scale` is the contrast
 * sim(question, event) - sim(neutral, event) (stored vectors are unit length).
 */
export interface QueryVector {
  space: string;
  kind: SourceKind;
  vector: Float32Array;
  /** Length of the difference vector; 1 for a plain (example) vector. */
  scale: number;
}

export interface RankedEvent {
  event: StoredEvent;
  fused: FusedHit;
  /** 0..1, see gating.ts. */
  confidence: number;
  coverage: number;
  /** Best calibrated similarity across spaces, 0..1. */
  similarity: number;
  /** Kind of the source that ranked it best (decides whether it anchors as visual or audio). */
  bestSource: SourceKind | 'browse';
  /** Moment hits inside it, when detail was consulted. */
  moments: { t: number; kind: 'keyframe' | 'audio'; thumbnail: string | null; similarity: number }[];
}

export interface Retrieval {
  ranked: RankedEvent[];
  episodes: EpisodeHit[];
  stage: Stage;
  /** Confidence of the best hit after the first stage. */
  firstConfidence: number;
  searchMs: number;
  fusionMs: number;
  detailMs: number;
  /** The stretches guessed from the first stage's candidates, read with their rows (stretchWindowS). */
  listing?: StretchListing;
  /** The sequel of the first fused candidate, read with the candidates' rows (RetrieveInput.sequel). */
  sequel?: GuessedSequel;
}

export interface RetrieveInput {
  parsed: ParsedQuestion;
  filter: MemoryFilter;
  /** The question's vectors, each searched as soon as it resolves (undefined: nothing to search). */
  vectors: readonly Promise<QueryVector | undefined>[];
  /** Words for full-text and coverage (the anchor's words for an order question). */
  words: string[];
  quoted: string[];
  /** No words and no example: list the filtered window instead of searching it. */
  browse: boolean;
  /**
   * Widening's completion window (seconds either side of a hit) when widening will list stretches
   * around the hits: the stretches guessed from the first stage's fused ids are then read in the
   * same query as the candidates' rows (see stretch-listing.ts). Absent: nothing is listed here.
   */
  stretchWindowS?: number;
  /**
   * An order question's sequel: what followed (or preceded) the first fused candidate is read
   * with the candidates' rows, for widening to take if that candidate is the anchor (sequel.ts).
   */
  sequel?: SequelAsk;
}

function scaleFor(q: QueryVector, settings: ReasonSettings): SimilarityScale {
  if (q.kind === SourceKind.Example) return { min: settings.exampleMinSimilarity, strong: settings.exampleStrongSimilarity };
  return settings.spaceSimilarity[q.space] ?? { min: settings.minSimilarity, strong: settings.strongSimilarity };
}

function eventText(event: StoredEvent): string {
  return `${event.summary}\n${event.transcript}\n${event.ocr}`;
}

function now(): number {
  return performance.now();
}

/** Runs both stages of retrieval. */
export async function retrieve(memory: ReasonMemory, input: RetrieveInput, settings: ReasonSettings): Promise<Retrieval> {
  const { parsed, filter } = input;
  const type = parsed.type;
  const limit = settings.candidates;
  // Rows read of the fused candidates: the evidence (maxEvidence items) comes from the top of the
  // fused list, and twice that leaves room for ids that resolve to one merged event. Reading all
  // `candidates` rows (every column of 50 events) cost more CPU than the searches themselves.
  const rowsToRead = Math.min(limit, Math.max(3, settings.maxEvidence * 2));
  const events = new Map<string, StoredEvent>();
  const similarity = new Map<string, number>(); // calibrated, best across spaces
  const bestSource = new Map<string, { kind: SourceKind | 'browse'; weight: number }>();
  const lists: RankedList[] = [];
  const episodes: EpisodeHit[] = [];

  const noteSource = (id: string, kind: SourceKind | 'browse', weight: number) => {
    const current = bestSource.get(id);
    if (!current || weight > current.weight) bestSource.set(id, { kind, weight });
  };
  const readRows = async (ids: string[]) => {
    const wanted = ids.filter((id) => !events.has(id));
    if (wanted.length > 0) for (const e of await memory.getEvents(wanted)) events.set(e.id, e);
  };
  const noteSimilarity = (id: string, q: QueryVector, raw: number) => {
    const value = calibrate(raw, scaleFor(q, settings));
    if (value > (similarity.get(id) ?? 0)) similarity.set(id, value);
  };

  // Stage 1: events and episodes, every source in parallel.
  const searchStart = now();
  const spaces = await memory.vectorSpaces();
  const jobs: Promise<void>[] = [];
  if (input.browse) {
    jobs.push(
      (async () => {
        // "What happened this morning": the window itself is the answer, in time order; with no
        // time named, the most recent events.
        const recent = !filter.wall && !filter.streamTime;
        // "When did somebody speak?", "what was written this morning?": the sense asked about
        // narrows the window to events that have it.
        const listed = (await memory.listEvents(filter, settings.maxEvidence * 4, recent)).filter((e) => hasSense(e, parsed.hints));
        for (const e of listed) {
          events.set(e.id, e);
          noteSource(e.id, 'browse', 1);
        }
        lists.push({ source: 'browse', weight: 1, ids: listed.map((e) => e.id) });
      })(),
    );
  }
  const textQuery = [...input.quoted, ...input.words, ...compounds(input.words)].join(' ').trim();
  if (textQuery) {
    jobs.push(
      (async () => {
        const hits = await memory.textSearchEvents(textQuery, limit, filter);
        const weight = routedWeight(SourceKind.FullText, 'events', type, settings.weights);
        for (const h of hits) noteSource(h.id, SourceKind.FullText, weight);
        lists.push({ source: 'fulltext:events', weight, ids: hits.map((h) => h.id) });
      })(),
      (async () => {
        if (spaces.episodes.length === 0) return;
        episodes.push(...(await memory.textSearchEpisodes(textQuery, Math.max(3, Math.floor(limit / 10)), filter)));
      })(),
    );
  }
  for (const pending of input.vectors) {
    jobs.push(
      pending.then(async (q) => {
        if (!q) return;
        const searches: Promise<void>[] = [];
        if (spaces.events.includes(q.space)) {
          searches.push(
            (async () => {
              const min = scaleFor(q, settings).min;
              const hits = (await memory.searchEvents(q.space, q.vector, limit, filter)).filter((h) => (h.similarity ?? -1) * q.scale >= min);
              const weight = routedWeight(q.kind, 'events', type, settings.weights);
              for (const h of hits) {
                noteSimilarity(h.id, q, (h.similarity ?? -1) * q.scale);
                noteSource(h.id, q.kind, weight);
              }
              lists.push({ source: `vector:events:${q.space}`, weight, ids: hits.map((h) => h.id) });
            })(),
          );
        }
        if (spaces.episodes.includes(q.space)) {
          searches.push(
            (async () => {
              const min = scaleFor(q, settings).min;
              const hits = await memory.searchEpisodes(q.space, q.vector, Math.max(3, Math.floor(limit / 10)), filter);
              episodes.push(...hits.filter((h) => (h.similarity ?? -1) * q.scale >= min));
            })(),
          );
        }
        await Promise.all(searches);
      }),
    );
  }
  await Promise.all(jobs);

  // Episodes point at stretches of time: the events inside the best ones join at the episode's rank.
  const uniqueEpisodes = [...new Map(episodes.map((e) => [e.id, e])).values()].sort((a, b) => (b.similarity ?? 0) - (a.similarity ?? 0));
  if (uniqueEpisodes.length > 0) {
    const inside = await Promise.all(
      uniqueEpisodes.slice(0, 3).map((ep) => memory.listEvents({ ...filter, streams: [ep.stream], wall: intersect(filter.wall, { from: ep.startedAt, to: ep.endedAt }) }, 5)),
    );
    const ids: string[] = [];
    for (const list of inside) for (const e of list) {
      events.set(e.id, e);
      ids.push(e.id);
    }
    const weight = routedWeight(SourceKind.Sentence, 'episodes', type, settings.weights);
    lists.push({ source: 'episodes', weight, ids });
  }
  // The searches returned ids; the rows of the best fused candidates are read once, together.
  const firstFused = fuseByRank(lists, settings.rrfK);
  const guessed = input.stretchWindowS === undefined ? undefined : guessStretches(firstFused.map((f) => f.id), input.stretchWindowS);
  const toRead = firstFused.slice(0, rowsToRead).map((f) => f.id).filter((id) => !events.has(id));
  // An order question reads its sequel's guessed stretch instead (it widens by no other stretches).
  const first: { events: StoredEvent[]; listing?: StretchListing; sequel?: GuessedSequel } =
    input.sequel && toRead.length > 0 && toRead[0] === firstFused[0]?.id ? await GuessedSequel.readWith(memory, toRead, input.sequel) : await StretchListing.readWith(memory, toRead, guessed);
  for (const e of first.events) events.set(e.id, e);
  const searchMs = now() - searchStart;

  const fusionStart = now();
  const rank = (fusedList: FusedHit[]): RankedEvent[] =>
    fusedList
      .filter((f) => events.has(f.id))
      .map((f) => {
        const event = events.get(f.id) as StoredEvent;
        const cov = coverage(input.words, eventText(event));
        const quotedMatch = input.quoted.some((q) => eventText(event).toLowerCase().includes(q.toLowerCase()));
        const sim = similarity.get(f.id) ?? 0;
        const source = bestSource.get(f.id)?.kind ?? SourceKind.FullText;
        return {
          event,
          fused: f,
          coverage: cov,
          similarity: sim,
          confidence: source === 'browse' ? 1 : confidence({ coverage: cov, similarity: sim, quotedMatch }),
          bestSource: source,
          moments: [],
        };
      });
  let ranked = rank(firstFused);
  const firstConfidence = ranked[0]?.confidence ?? 0;
  const stage = input.browse ? Stage.Events : gate(firstConfidence, { confidentAt: settings.confidentAt, escalateBelow: settings.escalateBelow });
  let fusionMs = now() - fusionStart;

  // Stage 2: moments, locally around the top events or across the whole range.
  const detailStart = now();
  const vectors = (await Promise.all(input.vectors)).filter((q): q is QueryVector => q !== undefined);
  const momentVectors = vectors.filter((q) => spaces.moments.includes(q.space));
  const momentsByEvent = new Map<string, RankedEvent['moments']>();
  if (stage !== Stage.Events && momentVectors.length > 0) {
    // Local detail looks only inside the top events (one search per space); global detail everywhere in range.
    const scopes: MemoryFilter[] =
      stage === Stage.LocalDetail ? [{ ...(filter.wall ? { wall: filter.wall } : {}), eventIds: ranked.slice(0, 3).map((r) => r.event.id) }] : [filter];
    const momentLists = await Promise.all(
      momentVectors.flatMap((q) =>
        scopes.map(async (scope) => {
          const min = scaleFor(q, settings).min;
          const hits = (await memory.searchMoments(q.space, q.vector, limit, scope)).filter((h) => h.similarity * q.scale >= min);
          return { q, hits };
        }),
      ),
    );
    for (const { q, hits } of momentLists) {
      const weight = routedWeight(q.kind, 'moments', type, settings.weights);
      for (const h of hits) {
        noteSimilarity(h.eventId, q, h.similarity * q.scale);
        noteSource(h.eventId, q.kind, weight);
        const list = momentsByEvent.get(h.eventId) ?? [];
        list.push({ t: h.t, kind: h.kind, thumbnail: h.thumbnail, similarity: h.similarity });
        momentsByEvent.set(h.eventId, list);
      }
      lists.push({ source: `vector:moments:${q.space}`, weight, ids: hits.map((h) => h.eventId) });
    }
    const refused = fuseByRank(lists, settings.rrfK);
    await readRows(refused.slice(0, rowsToRead).map((f) => f.id));
    const refuse = now();
    ranked = rank(refused);
    fusionMs += now() - refuse;
  }
  for (const r of ranked) r.moments = (momentsByEvent.get(r.event.id) ?? []).sort((a, b) => b.similarity - a.similarity);
  const detailMs = now() - detailStart;

  return { ranked, episodes: uniqueEpisodes, stage, firstConfidence, searchMs, fusionMs, detailMs, ...(first.listing ? { listing: first.listing } : {}), ...(first.sequel ? { sequel: first.sequel } : {}) };
}

/** Whether an event carries what a question's hints ask about (speech, sound, on-screen text). */
export function hasSense(event: StoredEvent, hints: readonly ModalityHint[]): boolean {
  if (hints.includes(ModalityHint.Speech) && !(event.transcript.length > 0 || event.tags.includes('speech'))) return false;
  if (hints.includes(ModalityHint.Sound) && !hints.includes(ModalityHint.Speech) && event.tags.includes('silence') && event.transcript.length === 0) return false;
  if (hints.includes(ModalityHint.Text) && event.ocr.length === 0) return false;
  return true;
}

function intersect(a: MemoryFilter['wall'], b: { from: number; to: number }): { from: number; to: number } {
  if (!a) return b;
  return { from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) };
}

/** Completion anchors of a ranked event: its best moments, else its edges in its strongest modality. */
export function anchorsOf(r: RankedEvent): Anchor[] {
  if (r.moments.length > 0) {
    return r.moments.slice(0, 3).map((m) => ({ stream: r.event.stream, t: m.t, modality: m.kind === 'audio' ? AnchorModality.Audio : AnchorModality.Visual }));
  }
  const audio = r.bestSource === SourceKind.AudioText || (r.bestSource === SourceKind.FullText && r.event.transcript.length > 0 && r.event.ocr.length === 0);
  const modality = audio ? AnchorModality.Audio : AnchorModality.Visual;
  return [
    { stream: r.event.stream, t: r.event.start, modality },
    { stream: r.event.stream, t: r.event.end, modality },
  ];
}
