// Live notifications for people watching: new events (consolidate) and stream state (ingest) go
// out on one Redis pub/sub channel, `${prefix}:live`, that the api role relays as server-sent
// events. Best effort by design: a notification nobody hears is fine, so publishing never throws
// into a job, and the durable record stays in LanceDB and the queues.
import type { Redis } from 'ioredis';
import type { LabelCount, StoredEvent } from '../records/event.js';
import type { RedisRepository } from './redis.js';

export enum LiveType {
  Event = 'event',
  Stream = 'stream',
}

/** What the live list needs to show an event without another request. */
export interface LiveEvent {
  id: string;
  stream: string;
  start: number;
  end: number;
  startedAt: number;
  endedAt: number;
  summary: string;
  tags: string[];
  thumbnail: string | null;
  /** What the detector saw, so a live list can show it without reading the event back. */
  labels: string[];
  counts: Record<string, LabelCount>;
}

export interface LiveStreamState {
  stream: string;
  /** The ingest state name (for example starting, running, reconnecting, stopped, failed, finished). */
  state: string;
  /** Seconds behind real time. */
  lagS?: number;
  droppedFrames?: number;
  /** Gaps recorded so far. */
  gaps?: number;
  /** Why the state changed, for people (an ffmpeg error, "end of file"). */
  message?: string;
}

export type LiveMessage = ({ type: LiveType.Event } & { event: LiveEvent }) | ({ type: LiveType.Stream } & LiveStreamState);

export function liveChannel(prefix: string): string {
  return `${prefix}:live`;
}

export function toLiveEvent(event: Pick<StoredEvent, keyof LiveEvent>): LiveEvent {
  return {
    id: event.id,
    stream: event.stream,
    start: event.start,
    end: event.end,
    startedAt: event.startedAt,
    endedAt: event.endedAt,
    summary: event.summary,
    tags: event.tags,
    thumbnail: event.thumbnail,
    labels: event.labels,
    counts: event.counts,
  };
}

/** Parses a message off the channel; anything malformed (another writer, an old version) is null. */
export function parseLiveMessage(text: string): LiveMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const m = value as Record<string, unknown>;
  if (m.type === LiveType.Event && m.event && typeof m.event === 'object' && typeof (m.event as LiveEvent).id === 'string') return m as unknown as LiveMessage;
  if (m.type === LiveType.Stream && typeof m.stream === 'string' && typeof m.state === 'string') return m as unknown as LiveMessage;
  return null;
}

export class LivePublisher {
  readonly #channel: string;
  readonly #redis: RedisRepository;
  #client: Redis | undefined;

  constructor(redis: RedisRepository, prefix: string) {
    this.#redis = redis;
    this.#channel = liveChannel(prefix);
  }

  /** Consolidate calls this after an event is stored. Resolves false when Redis did not take it. */
  publishEvent(event: Pick<StoredEvent, keyof LiveEvent>): Promise<boolean> {
    return this.#publish({ type: LiveType.Event, event: toLiveEvent(event) });
  }

  /** Ingest calls this when a stream changes state (and may call it periodically with lag and drops). */
  publishStream(state: LiveStreamState): Promise<boolean> {
    return this.#publish({ type: LiveType.Stream, ...state });
  }

  async #publish(message: LiveMessage): Promise<boolean> {
    try {
      // One short-lived-retry client; a notification is not worth waiting through a Redis outage.
      this.#client ??= this.#redis.connection('live-publish', { maxRetriesPerRequest: 1 });
      await this.#client.publish(this.#channel, JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }
}

export type LiveListener = (message: LiveMessage) => void;

/**
 * One subscriber connection per process, fanned out to any number of listeners (one per open
 * SSE response), so a hundred browser tabs cost one Redis connection.
 */
export class LiveSubscriber {
  readonly #channel: string;
  readonly #redis: RedisRepository;
  readonly #listeners = new Set<LiveListener>();
  #client: Redis | undefined;
  #ready: Promise<void> | undefined;

  constructor(redis: RedisRepository, prefix: string) {
    this.#redis = redis;
    this.#channel = liveChannel(prefix);
  }

  /** Adds a listener; resolves once the channel is subscribed. Returns the function that removes it. */
  async listen(listener: LiveListener): Promise<() => void> {
    this.#listeners.add(listener);
    this.#ready ??= this.#subscribe();
    await this.#ready;
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async #subscribe(): Promise<void> {
    const client = this.#redis.connection('live-subscribe');
    this.#client = client;
    client.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      const message = parseLiveMessage(text);
      if (!message) return;
      for (const listener of this.#listeners) listener(message);
    });
    await client.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }
  }
}
