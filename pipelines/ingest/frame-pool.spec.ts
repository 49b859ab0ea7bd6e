import { describe, expect, it } from 'vitest';
import { FramePool } from './frame-pool.js';

describe('FramePool', () => {
  it('hands back buffers given to it, of the size asked', () => {
    const pool = new FramePool();
    const a = pool.take(12);
    const b = pool.take(12);
    expect(a).not.toBe(b);
    pool.give([a]);
    expect(pool.take(12)).toBe(a);
    expect(pool.take(12)).not.toBe(b); // b was never given back: still someone's
  });

  it('keeps only whole buffers of the current size, and forgets them when the size changes', () => {
    const pool = new FramePool();
    const a = pool.take(12);
    pool.give([a.subarray(0, 6), new Uint8Array(new ArrayBuffer(24), 12, 12), new Uint8Array(8)]);
    expect(pool.free).toBe(0);
    pool.give([a]);
    expect(pool.free).toBe(1);
    const c = pool.take(20);
    expect(c.length).toBe(20);
    expect(c).not.toBe(a);
    expect(pool.free).toBe(0);
  });

  it('keeps at most 24', () => {
    const pool = new FramePool();
    const taken = Array.from({ length: 30 }, () => pool.take(4));
    pool.give(taken);
    expect(pool.free).toBe(24);
  });
});
