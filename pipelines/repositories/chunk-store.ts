// Chunk bytes in Redis between ingest and perceive: one binary value per (stream, seq) with a TTL,
// so a chunk nobody consumes does not stay forever. The perceive job carries only { stream, seq }.
import type { Writable } from 'node:stream';
import { Command, type Redis } from 'ioredis';
import { decodeChunk, encodeChunkParts, type Chunk } from '../records/chunk.js';

/** A chunk's stored form: its key, its bytes in parts (stored as one value), how long it lives. */
export interface ChunkWrite {
  key: string;
  parts: Buffer[];
  ttlSeconds: number;
}

/**
 * SET key <parts, as one value> EX ttl, with the parts written to the socket one after the other:
 * no copy of a frame in this process and one command in Redis. ioredis builds a command with
 * Buffer arguments by copying them all into one new Buffer, so a chunk's ~0.7 MB frames were
 * copied (and allocated: the garbage collector runs on external memory too) once per write; and
 * SET plus an APPEND per part, the way round that, made redis-server grow the value once per
 * part. Here the value's length is announced first and the parts follow as they are, which Redis
 * reads straight into a value of that size.
 *
 * Sent only on its own (redis.sendCommand), never inside a pipeline or MULTI: it writes to the
 * socket when ioredis asks for its bytes, which a pipeline collects to write later.
 */
class SetParts extends Command {
  readonly #key: string;
  readonly #parts: readonly Uint8Array[];
  readonly #ttl: string;

  constructor(write: ChunkWrite) {
    // The arguments ioredis keeps are for its debug log; toWritable writes the real ones.
    super('set', [write.key, `<${write.parts.length} parts>`, 'EX', String(write.ttlSeconds)]);
    this.#key = write.key;
    this.#parts = write.parts;
    this.#ttl = String(write.ttlSeconds);
  }

  override toWritable(socket: object): string {
    const out = socket as Writable;
    const size = this.#parts.reduce((n, part) => n + part.byteLength, 0);
    const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
    // Corked until ioredis has written what this returns: the pieces leave in one writev.
    out.cork();
    process.nextTick(() => out.uncork());
    out.write(`*5\r\n${bulk('SET')}${bulk(this.#key)}$${size}\r\n`);
    for (const part of this.#parts) if (part.byteLength > 0) out.write(part);
    return `\r\n${bulk('EX')}${bulk(this.#ttl)}`;
  }
}

/** Sends the command that stores a chunk, without waiting (see SetParts). */
export function sendChunkWrite(redis: Redis, write: ChunkWrite): Promise<unknown>[] {
  const command = new SetParts(write);
  void redis.sendCommand(command);
  return [command.promise];
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
