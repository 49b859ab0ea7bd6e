// Keyframe buffers handed back once their chunk is stored, for the next keyframes to be read into.
// A ~0.7 MB keyframe a second allocated afresh is external memory to V8, and on that rate it
// ran full collections of the whole heap (GC on ingest's thread) for bytes that were only ever
// passed through to Redis (test/bench/ingest.ts).

/** At most this many buffers wait for reuse: two batches of chunks in flight, a keyframe or two each. */
const MAX_KEPT = 24;

export class FramePool {
  #size = 0;
  #free: Uint8Array[] = [];

  /** A buffer of `size` bytes, reused when one is free; its old contents are about to be overwritten. */
  take(size: number): Uint8Array {
    if (size !== this.#size) {
      // The source changed size: buffers of the old size fit nothing any more.
      this.#size = size;
      this.#free = [];
    }
    return this.#free.pop() ?? new Uint8Array(size);
  }

  /**
   * Buffers nothing reads any more (their chunk is stored: Redis has answered the write, so the
   * socket holds no reference either). Only whole buffers of the current size are kept.
   */
  give(buffers: Iterable<Uint8Array>): void {
    for (const buffer of buffers) {
      if (this.#free.length >= MAX_KEPT) return;
      if (buffer.byteLength === this.#size && buffer.byteOffset === 0 && buffer.buffer.byteLength === this.#size) this.#free.push(buffer);
    }
  }

  /** How many buffers wait for reuse (for tests). */
  get free(): number {
    return this.#free.length;
  }
}
