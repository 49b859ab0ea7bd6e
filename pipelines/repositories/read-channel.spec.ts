import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openReadChannel } from './read-channel.js';

describe('openReadChannel', () => {
  it("carries a child's stdout into the buffers the reader hands out, in order, and ends when the child is done", async () => {
    // 300 KB of a known pattern: more than one socket buffer, so it arrives in several reads.
    const size = 300_000;
    const received = new Uint8Array(size + 10);
    let filled = 0;
    const reads: number[] = [];
    const channel = await openReadChannel({
      // Never more than 4096 bytes at a time, each read landing right after the last.
      buffer: () => received.subarray(filled, Math.min(filled + 4096, received.length)),
      read: (n) => {
        reads.push(n);
        filled += n;
        if (reads.length > 1) return true;
        // The reader falls behind once (as ingest does under backpressure): the child's writes
        // meet a full socket and must wait, not fail.
        setTimeout(() => channel.reader.resume(), 300);
        return false;
      },
    });
    const ended = new Promise<void>((resolve) => channel.reader.once('end', () => resolve()));
    // On stdout, as ingest hands it to ffmpeg (VIDEO_FD): a child's fds 0-2 are blocking, and tr, unlike
    // ffmpeg, does not retry a write that a non-blocking fd refuses while the reader is behind.
    const child = spawn('sh', ['-c', `head -c ${size} /dev/zero | tr '\\000' a`], { stdio: ['ignore', channel.childEnd, 'pipe'] });
    channel.childEnd.destroy();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    await ended;
    expect(filled).toBe(size);
    expect(reads.length).toBeGreaterThan(1);
    expect(Math.max(...reads)).toBeLessThanOrEqual(4096);
    expect(Buffer.from(received.subarray(0, size)).equals(Buffer.alloc(size, 'a'))).toBe(true);
  });
});
