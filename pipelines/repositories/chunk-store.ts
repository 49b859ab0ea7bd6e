// Chunk bytes in Redis between ingest and perceive: one binary value per (stream, seq) with a TTL,
// so a chunk nobody consumes does not stay forever. The perceive job carries only { stream, seq }.
import type { Redis } from 'ioredis';
import { decodeChunk, encodeChunk, type Chunk } from '../records/chunk.js';

/** A chunk's stored form: its key, its bytes and how long it lives. */
export interface ChunkWrite {
  key: string;
  bytes: Buffer;
  ttlSeconds: number;
}

export class ChunkStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = ttlSeconds;
  }

  key(stream: string, seq: number): string {
    return `${this.#prefix}:chunk:${stream}:${seq}`;
  }

  async put(chunk: Chunk): Promise<void> {
    const { key, bytes, ttlSeconds } = this.write(chunk);
    await this.#redis.set(key, bytes, 'EX', ttlSeconds);
  }

  /**
   * The chunk as one value to set, for a caller that writes it in its own transaction (ingest
   * stores and checkpoints a chunk in one round trip: StreamRepository.recordChunk).
   */
  write(chunk: Chunk): ChunkWrite {
    return { key: this.key(chunk.stream, chunk.seq), bytes: encodeChunk(chunk), ttlSeconds: this.#ttlSeconds };
  }

  /** The chunk, or undefined when it expired, was deleted or never existed. */
  async get(stream: string, seq: number): Promise<Chunk | undefined> {
    const bytes = await this.#redis.getBuffer(this.key(stream, seq));
    return bytes === null ? undefined : decodeChunk(bytes);
  }

  async delete(stream: string, seq: number): Promise<void> {
    await this.#redis.del(this.key(stream, seq));
  }

  /** Deletes every stored chunk of a stream (when the stream is removed). */
  async deleteStream(stream: string): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}:chunk:${stream}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) removed += await this.#redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  }
}
