// The long-term memory store, the model runtime and the chat client, seen through the reason
// stage's ports. Typed structurally (only the methods used), so this file depends on their shape,
// not their construction. The store and the reasoner share one filter type (MemoryFilter), so
// filters pass through unchanged.
import type { StoredEvent } from '../records/event.js';
import { SourceKind } from './fusion.js';
import type { ChatMessage } from './llm-answer.js';
import type { EventSpan, ListEventsOptions, StreamStretch } from '../repositories/memory-schema.js';
import type { DecodedImage, EpisodeHit, EventHit, EventsAndStretches, MemoryFilter, MomentHit, ReasonChat, ReasonMemory, ReasonModels, StreamWindow, TextSpace } from './ports.js';

interface StoreMoment {
  id: string;
  eventId: string;
  stream: string;
  kind: 'keyframe' | 'audio';
  t: number;
  thumbnail: string | null;
}

interface StoreEpisode {
  id: string;
  stream: string;
  startedAt: number;
  endedAt: number;
  summary: string;
}

/** What reason uses of MemoryStore. */
export interface MemoryStoreLike {
  streams(): Promise<string[]>;
  episodes(filter?: MemoryFilter, limit?: number): Promise<unknown[]>;
  spaces(): Promise<{ space: string; dims: number }[]>;
  vectorSearch(options: { table: 'events' | 'moments' | 'episodes'; space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<{ score: number; row: unknown }[]>;
  eventVectorHits(options: { space: string; vector: Float32Array; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]>;
  eventTextHits(options: { query: string; limit?: number; filter?: MemoryFilter }): Promise<{ id: string; score: number }[]>;
  listEvents(options: ListEventsOptions): Promise<StoredEvent[]>;
  listEventSpans(options: ListEventsOptions): Promise<EventSpan[]>;
  countEvents(filter?: MemoryFilter): Promise<number>;
  momentsInWindows(stream: string, windows: readonly StreamWindow[]): Promise<StoreMoment[]>;
  /** Events by id, in one read; ids merged into another event find that event. */
  getEvents(ids: readonly string[]): Promise<StoredEvent[]>;
  eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number): Promise<EventsAndStretches>;
  reinforce(ids: string[], now: number): Promise<void>;
}

/**
 * Stream seconds an open-ended read ("what happened after", a quiet stream's neighbours) looks at
 * first, widened 16x per try: the open read sorts every later event of the stream to keep a few
 * (130 ms at 100k events), a bounded one only those in the stretch (~10 ms).
 */
const FIRST_SPAN_S = 3_600;
const SPAN_TRIES = 3;

/**
 * How long the list of streams and spaces is reused. Both change rarely (a new camera, a new model)
 * and reading them scans a table, which at 100k events costs more than the rest of a question.
 */
export const CATALOG_TTL_MS = 10_000;

/**
 * A value reloaded in the background once it is older than the TTL: questions never wait for the
 * reload (only the very first, or an explicit fresh read, does).
 */
class Cached<T> {
  #value: Promise<T> | undefined;
  #at = 0;
  #reloading = false;
  constructor(private readonly load: () => Promise<T>, private readonly ttlMs: number) {}
  get(fresh = false): Promise<T> {
    const now = Date.now();
    if (fresh || !this.#value) {
      this.#at = now;
      const value = this.load();
      this.#value = value;
      value.catch(() => {
        if (this.#value === value) this.#value = undefined;
      });
      return value;
    }
    if (now - this.#at > this.ttlMs && !this.#reloading) {
      this.#reloading = true;
      const next = this.load();
      next
        .then(() => {
          this.#value = next;
          this.#at = Date.now();
        })
        .catch(() => undefined)
        .finally(() => (this.#reloading = false));
    }
    return this.#value;
  }
}

/**
 * The long-term memory write lock (memory-lock.ts), as reinforcement uses it: consolidation reads
 * an event, merges into it and writes the whole row back, so a reinforcement committed between
 * its read and its write would be overwritten with the old strength and recall count.
 */
export interface MemoryWriteLockLike {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export class StoreMemory implements ReasonMemory {
  readonly #store: MemoryStoreLike;
  readonly #writeLock: MemoryWriteLockLike | undefined;
  readonly #streams: Cached<string[]>;
  readonly #spaces: Cached<{ space: string; dims: number }[]>;
  readonly #hasEpisodes: Cached<boolean>;

  /** `writeLock`: taken around reinforcement; every process that may run beside a consolidate worker needs it. */
  constructor(store: MemoryStoreLike, options: { ttlMs?: number; writeLock?: MemoryWriteLockLike } = {}) {
    this.#store = store;
    this.#writeLock = options.writeLock;
    const ttl = options.ttlMs ?? CATALOG_TTL_MS;
    this.#streams = new Cached(() => store.streams(), ttl);
    this.#spaces = new Cached(() => store.spaces(), ttl);
    this.#hasEpisodes = new Cached(async () => (await store.episodes({}, 1)).length > 0, ttl);
  }

  streams(fresh = false): Promise<string[]> {
    return this.#streams.get(fresh);
  }

  async vectorSpaces(): Promise<Record<'events' | 'moments' | 'episodes', string[]>> {
    // The store adds every space's column to all three tables; episodes may not exist yet.
    const spaces = (await this.#spaces.get()).map((s) => s.space);
    return { events: spaces, moments: spaces, episodes: (await this.#hasEpisodes.get()) ? spaces : [] };
  }

  async #spaceOk(space: string, vector: Float32Array): Promise<boolean> {
    // A query vector of another size (a model swapped since the data was stored) cannot be compared.
    const info = (await this.#spaces.get()).find((s) => s.space === space);
    return info !== undefined && info.dims === vector.length;
  }

  async #search<R>(table: 'events' | 'moments' | 'episodes', space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<{ score: number; row: R }[]> {
    if (!(await this.#spaceOk(space, vector))) return [];
    return (await this.#store.vectorSearch({ table, space, vector, limit, filter })) as { score: number; row: R }[];
  }

  async searchEvents(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EventHit[]> {
    if (!(await this.#spaceOk(space, vector))) return [];
    const hits = await this.#store.eventVectorHits({ space, vector, limit, filter });
    return hits.map((h) => ({ id: h.id, similarity: h.score }));
  }

  async searchMoments(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<MomentHit[]> {
    const hits = await this.#search<StoreMoment>('moments', space, vector, limit, filter);
    return hits.map((h) => ({ eventId: h.row.eventId, stream: h.row.stream, t: h.row.t, kind: h.row.kind, thumbnail: h.row.thumbnail, similarity: h.score }));
  }

  async searchEpisodes(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EpisodeHit[]> {
    // Episodes have no stream-time bounds worth filtering on; wall-clock and stream filters apply.
    const hits = await this.#search<StoreEpisode>('episodes', space, vector, limit, { ...(filter.streams ? { streams: filter.streams } : {}), ...(filter.wall ? { wall: filter.wall } : {}) });
    return hits.map((h) => ({ id: h.row.id, stream: h.row.stream, summary: h.row.summary, startedAt: h.row.startedAt, endedAt: h.row.endedAt, similarity: h.score }));
  }

  async textSearchEvents(query: string, limit: number, filter: MemoryFilter): Promise<EventHit[]> {
    const hits = await this.#store.eventTextHits({ query, limit, filter });
    return hits.map((h) => ({ id: h.id }));
  }

  async textSearchEpisodes(): Promise<EpisodeHit[]> {
    // The store indexes events' text only; episode summaries are reached through their vectors.
    return [];
  }

  /**
   * The store's listEvents, but a read of one stream that is open on the side it is ordered away
   * from looks in a bounded stretch first. Events of a stream follow each other in stream time and
   * wall clock alike, so when the stretch already holds `limit` events, they are the first ones
   * of the open read.
   */
  async #listNear(options: ListEventsOptions & { limit: number }): Promise<StoredEvent[]> {
    const st = options.streamTime;
    const from = st && Number.isFinite(st.start) && st.start > 0 ? st.start : undefined;
    const to = st && Number.isFinite(st.end) ? st.end : undefined;
    const openAfter = !options.descending && from !== undefined && to === undefined;
    const openBefore = options.descending === true && to !== undefined && from === undefined;
    if (options.streams?.length !== 1 || !(openAfter || openBefore)) return this.#store.listEvents(options);
    for (let i = 0, span = FIRST_SPAN_S; i < SPAN_TRIES; i += 1, span *= 16) {
      const streamTime = openAfter ? { start: from as number, end: (from as number) + span } : { start: (to as number) - span, end: to as number };
      const events = await this.#store.listEvents({ ...options, streamTime });
      if (events.length >= options.limit) return events;
    }
    return this.#store.listEvents(options);
  }

  listEvents(filter: MemoryFilter, limit: number, newestFirst = false): Promise<StoredEvent[]> {
    return this.#listNear({ ...filter, limit, descending: newestFirst });
  }

  listEventSpans(filter: MemoryFilter, limit: number): Promise<EventSpan[]> {
    return this.#store.listEventSpans({ ...filter, limit });
  }

  countEvents(filter: MemoryFilter): Promise<number> {
    return this.#store.countEvents(filter);
  }

  async neighbours(event: StoredEvent, before: number, after: number): Promise<StoredEvent[]> {
    // Two reads in parallel from the event we already hold (the store's neighbours() looks the event up first).
    const streams = [event.stream];
    const [earlier, later] = await Promise.all([
      before > 0 ? this.#listNear({ streams, streamTime: { start: Number.NEGATIVE_INFINITY, end: event.start - 1e-6 }, limit: before, descending: true }) : Promise.resolve([]),
      after > 0 ? this.#listNear({ streams, streamTime: { start: event.end + 1e-6, end: Number.POSITIVE_INFINITY }, limit: after + 1 }) : Promise.resolve([]),
    ]);
    return [...earlier.reverse(), ...later.filter((e) => e.id !== event.id && e.start > event.start).slice(0, after)];
  }

  async momentsInWindows(stream: string, windows: readonly StreamWindow[]): Promise<MomentHit[]> {
    const moments = await this.#store.momentsInWindows(stream, windows);
    return moments.map((m) => ({ eventId: m.eventId, stream: m.stream, t: m.t, kind: m.kind, thumbnail: m.thumbnail, similarity: 0 }));
  }

  getEvents(ids: readonly string[]): Promise<StoredEvent[]> {
    return this.#store.getEvents(ids);
  }

  eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number): Promise<EventsAndStretches> {
    return this.#store.eventsAndStretches(ids, stretches, limit);
  }

  reinforce(ids: readonly string[], at: number): Promise<void> {
    const write = () => this.#store.reinforce([...ids], at);
    return this.#writeLock ? this.#writeLock.run(write) : write();
  }
}

/** What reason uses of ModelRepository. */
export interface ModelRepositoryLike {
  spaces(): { id: string; modalities: ('image' | 'audio' | 'text')[]; dims: number }[];
  embedTexts(space: string, texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedImages(space: string, frames: DecodedImage[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedAudio(space: string, windows: Float32Array[], signal?: AbortSignal): Promise<Float32Array[]>;
}

function first(vectors: Float32Array[], what: string): Float32Array {
  const v = vectors[0];
  if (!v) throw new Error(`${what}: the model returned no vector`);
  return v;
}

export class RuntimeModels implements ReasonModels {
  readonly #repo: ModelRepositoryLike;
  constructor(repo: ModelRepositoryLike) {
    this.#repo = repo;
  }

  textSpaces(): TextSpace[] {
    return this.#repo
      .spaces()
      .filter((s) => s.modalities.includes('text'))
      .map((s) => ({
        id: s.id,
        kind: s.modalities.includes('image') ? SourceKind.ImageText : s.modalities.includes('audio') ? SourceKind.AudioText : SourceKind.Sentence,
      }));
  }

  imageSpaces(): string[] {
    return this.#repo.spaces().filter((s) => s.modalities.includes('image')).map((s) => s.id);
  }

  audioSpaces(): string[] {
    return this.#repo.spaces().filter((s) => s.modalities.includes('audio')).map((s) => s.id);
  }

  async embedText(space: string, text: string, signal: AbortSignal): Promise<Float32Array> {
    return first(await this.#repo.embedTexts(space, [text], signal), `embedding "${text}" in ${space}`);
  }

  async embedImage(space: string, image: DecodedImage, signal: AbortSignal): Promise<Float32Array> {
    return first(await this.#repo.embedImages(space, [image], signal), `embedding an image in ${space}`);
  }

  async embedAudio(space: string, pcm: Float32Array, signal: AbortSignal): Promise<Float32Array> {
    return first(await this.#repo.embedAudio(space, [pcm], signal), `embedding audio in ${space}`);
  }
}

/** What reason uses of LlmClient. */
export interface ChatClientLike {
  readonly isConfigured: boolean;
  chat(request: { messages: ChatMessage[]; json?: boolean; signal?: AbortSignal }): Promise<string>;
}

/** The chat port, or undefined when no endpoint is configured (answers are then extractive). */
export function chatPort(client: ChatClientLike): ReasonChat | undefined {
  if (!client.isConfigured) return undefined;
  return { complete: (messages, signal) => client.chat({ messages, json: true, signal }) };
}
