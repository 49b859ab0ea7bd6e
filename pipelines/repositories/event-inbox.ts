// Closed events waiting for consolidation: segment puts the whole event (vectors included) in
// Redis under a key with a TTL, and enqueues a consolidate job whose id is the event id; the
// consolidate role reads it from here. Keeping it out of the job payload keeps BullMQ's job
// hashes small and lets a retried job read the same bytes.
import type { Redis } from 'ioredis';
import type { ClosedEvent } from '../records/event.js';
import { toF32Set } from '../vectors.js';

/** Seven days: long enough for a consolidate worker to be down over a weekend. */
export const EVENT_TTL_SECONDS = 7 * 24 * 3600;

function encode(event: ClosedEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => (value instanceof Float32Array ? Array.from(value) : value));
}

export class EventInbox {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  key(id: string): string {
    return `${this.#prefix}:event:${id}`;
  }

  async put(event: ClosedEvent, ttlSeconds = EVENT_TTL_SECONDS): Promise<void> {
    await this.#redis.set(this.key(event.id), encode(event), 'EX', ttlSeconds);
  }

  /** The event, with vectors as Float32Array; undefined when it expired or was never put. */
  async get(id: string): Promise<ClosedEvent | undefined> {
    const raw = await this.#redis.get(this.key(id));
    if (raw === null) return undefined;
    const event = JSON.parse(raw) as ClosedEvent;
    event.vectors = toF32Set(event.vectors);
    for (const moment of event.moments) moment.vectors = toF32Set(moment.vectors);
    return event;
  }

  async delete(id: string): Promise<void> {
    await this.#redis.del(this.key(id));
  }
}
