// What the reason stage needs from the outside world, in its own words. The long-term memory
// store, the model runtime and the chat client are adapted to these (adapters.ts), so retrieval is
// a pure function over them and its tests can hand it real repositories or small fakes.
import type { StoredEvent } from '../records/event.js';
import type { EventSpan, MemoryFilter, StreamStretch, StreamWindow } from '../repositories/memory-schema.js';
import type { SourceKind } from './fusion.js';
import type { ChatMessage } from './llm-answer.js';

/** Which rows a search may return: the store's one filter type, used as is. */
export type { EventSpan, MemoryFilter, StreamStretch, StreamWindow };

/** Events by id and the events in stretches of stream time, from one read. */
export interface EventsAndStretches {
  /** getEvents(ids). */
  events: StoredEvent[];
  /** Events overlapping any stretch of their stream, oldest first (listEvents' order), up to the limit. */
  inStretches: StoredEvent[];
  /** False when more events than the limit were in the stretches (not all are in `inStretches`). */
  complete: boolean;
}

/** A ranked search's hit: the event's id only; retrieval reads the rows it keeps in one go. */
export interface EventHit {
  id: string;
  /** Cosine similarity for vector searches; undefined for full-text. */
  similarity?: number;
}

export interface MomentHit {
  eventId: string;
  stream: string;
  /** Stream seconds. */
  t: number;
  kind: 'keyframe' | 'audio';
  thumbnail: string | null;
  similarity: number;
}

export interface EpisodeHit {
  id: string;
  stream: string;
  summary: string;
  /** Wall-clock span it summarises. */
  startedAt: number;
  endedAt: number;
  similarity?: number;
}

export interface ReasonMemory {
  /** Stream names memory holds events for; may be a few seconds old unless `fresh`. */
  streams(fresh?: boolean): Promise<string[]>;
  /** Vector spaces each table has a column for (only those are searched). */
  vectorSpaces(): Promise<Record<'events' | 'moments' | 'episodes', string[]>>;
  searchEvents(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EventHit[]>;
  searchMoments(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<MomentHit[]>;
  searchEpisodes(space: string, vector: Float32Array, limit: number, filter: MemoryFilter): Promise<EpisodeHit[]>;
  /** Full-text over summary, transcript and on-screen text, best first. */
  textSearchEvents(query: string, limit: number, filter: MemoryFilter): Promise<EventHit[]>;
  textSearchEpisodes(query: string, limit: number, filter: MemoryFilter): Promise<EpisodeHit[]>;
  /** Events in time order (oldest first unless `newestFirst`), for browsing a window. */
  listEvents(filter: MemoryFilter, limit: number, newestFirst?: boolean): Promise<StoredEvent[]>;
  /** The same events, oldest first, as spans only: for choosing by time which events to read. */
  listEventSpans(filter: MemoryFilter, limit: number): Promise<EventSpan[]>;
  countEvents(filter: MemoryFilter): Promise<number>;
  /** Up to `before` events before and `after` events after one event on its stream, in time order. */
  neighbours(event: StoredEvent, before: number, after: number): Promise<StoredEvent[]>;
  /** A stream's moments inside any of the windows (stream seconds), in time order: one read for all of them. */
  momentsInWindows(stream: string, windows: readonly StreamWindow[]): Promise<MomentHit[]>;
  getEvents(ids: readonly string[]): Promise<StoredEvent[]>;
  /** getEvents(ids) and the events overlapping stream-time stretches (up to `limit`), in one read. */
  eventsAndStretches(ids: readonly string[], stretches: readonly StreamStretch[], limit: number): Promise<EventsAndStretches>;
  /** MemoryBank reinforcement: recalled events get stronger. */
  reinforce(ids: readonly string[], at: number): Promise<void>;
}

export interface TextSpace {
  id: string;
  kind: SourceKind.ImageText | SourceKind.AudioText | SourceKind.Sentence;
}

/** An RGB image decoded from a file, for query by example. */
export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  rgb: Uint8Array;
}

export interface ReasonModels {
  /** Spaces with a text encoder, and what their vectors describe. */
  textSpaces(): TextSpace[];
  /** Spaces with an image encoder (query by image). */
  imageSpaces(): string[];
  /** Spaces with an audio encoder (query by audio). */
  audioSpaces(): string[];
  embedText(space: string, text: string, signal: AbortSignal): Promise<Float32Array>;
  embedImage(space: string, image: DecodedImage, signal: AbortSignal): Promise<Float32Array>;
  /** 16 kHz mono PCM. */
  embedAudio(space: string, pcm: Float32Array, signal: AbortSignal): Promise<Float32Array>;
}

export interface ReasonMedia {
  decodeImage(bytes: Uint8Array, signal: AbortSignal): Promise<DecodedImage>;
  /** 16 kHz mono float PCM. */
  decodeAudio(bytes: Uint8Array, signal: AbortSignal): Promise<Float32Array>;
}

/** The face identities (PeopleStore) and the face models, for questions about people. */
export interface ReasonPeople {
  /** Every identity with its name (null when unnamed). */
  identities(): Promise<{ id: string; name: string | null }[]>;
  /**
   * The known identity of the clearest face in a photo, or undefined when nobody in memory is near
   * enough. Throws ExampleError('face', ...) when the photo holds no usable face.
   */
  recognise(image: DecodedImage, signal: AbortSignal): Promise<{ id: string; name: string | null; distance: number } | undefined>;
}

export interface ReasonChat {
  /** The model's reply text (JSON asked for). Throws on transport errors. */
  complete(messages: ChatMessage[], signal: AbortSignal): Promise<string>;
}
