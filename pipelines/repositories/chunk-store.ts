// Chunk bytes in Redis between ingest and perceive: one binary value per (stream, seq) with a TTL,
// so a chunk nobody consumes does not stay forever. The perceive job carries only { stream, seq }.
import type { Redis } from 'ioredis';
import { decodeChunk, encodeChunkParts, type Chunk } from '../records/chunk.js';

/** A chunk's stored form: its key, its bytes in parts (one value once appended), how long it lives. */
export interface ChunkWrite {
  key: string;
  parts: Buffer[];
  ttlSeconds: number;
}

/**
 * Sends the commands that store a chunk, without waiting: SET of the first part, APPEND of each
 * other. One value as GET reads it, but no copy of the whole: ioredis copies each command's
 * arguments into one buffer (and a MULTI copies all its commands into one more), so a chunk
 * concatenated first, or set inside a transaction, was copied two or three times per frame.
 */
export function sendChunkWrite(redis: Redis, write: ChunkWrite): Promise<unknown>[] {
  const [first, ...rest] = write.parts;
  return [redis.set(write.key, first ?? Buffer.alloc(0), 'EX', write.ttlSeconds), ...rest.map((part) => redis.append(write.key, part))];
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
    await Promise.all(sendChunkWrite(this.#redis, this.write(chunk)));
  }

  /**
   * The chunk's stored form, for a caller that sends it with its own commands in the same round
   * trip (ingest stores and checkpoints a chunk together: StreamRepository.recordChunks).
   */
  write(chunk: Chunk): ChunkWrite {
    return { key: this.key(chunk.stream, chunk.seq), parts: encodeChunkParts(chunk), ttlSeconds: this.#ttlSeconds };
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
