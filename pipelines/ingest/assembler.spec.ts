import { describe, expect, it } from 'vitest';
import { ChunkAssembler } from './assembler.js';
import { AUDIO_RATE, decodeChunk, encodeChunk, encodeChunkParts, type Chunk } from '../records/chunk.js';

const frame = (t: number, scene = false) => ({ t, scene, width: 4, height: 2, rgb: new Uint8Array(4 * 2 * 3).fill(t), jpeg: Buffer.from([0xff, 0xd8, t, 0xff, 0xd9]) });
const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);
const base = { stream: 's', chunkSeconds: 1, firstSeq: 0, offset: 0, hasVideo: true, hasAudio: true, wallAt: (t: number) => 1_000_000 + t * 1000 };

describe('ChunkAssembler', () => {
  it('puts each sample and frame in the chunk of its time, whatever the arrival order', () => {
    const a = new ChunkAssembler(base);
    a.addAudio(ramp(0, 1.5 * AUDIO_RATE)); // audio runs ahead of video
    expect(a.take()).toEqual([]); // chunk 0 still waits for video to pass 1 s
    a.addFrame(frame(0));
    a.addFrame(frame(0.5, true));
    a.addFrame(frame(1));
    const [c0] = a.take();
    expect(c0!.keyframes.map((k) => [k.t, k.scene])).toEqual([[0, false], [0.5, true]]);
    expect(c0!.audio!.length).toBe(AUDIO_RATE);
    expect(c0!.audio![AUDIO_RATE - 1]).toBe(AUDIO_RATE - 1);
    a.addAudio(ramp(1.5 * AUDIO_RATE, AUDIO_RATE / 2));
    a.addFrame(frame(2));
    const [c1] = a.take();
    expect(c1).toMatchObject({ seq: 1, start: 1, end: 2, wallStart: 1_001_000 });
    expect(c1!.audio![0]).toBe(AUDIO_RATE); // sample n is at n / 16000 s
    expect(c1!.keyframes.map((k) => k.t)).toEqual([1]);
  });

  it('applies the run offset and sequence (a resumed file, a reconnected camera)', () => {
    const gap = { from: 10, to: 14.5, wallFrom: 1, wallTo: 2 };
    const a = new ChunkAssembler({ ...base, firstSeq: 7, offset: 14.5, gapBefore: gap });
    a.addFrame(frame(0));
    a.addAudio(ramp(0, AUDIO_RATE));
    a.addFrame(frame(1));
    const [c] = a.take();
    expect(c).toMatchObject({ seq: 7, start: 14.5, end: 15.5, gapBefore: gap });
    expect(c!.keyframes[0]!.t).toBe(14.5);
  });

  it('joins an end sliver without keyframes to the last chunk and marks it final', () => {
    const a = new ChunkAssembler({ ...base, holdLast: true });
    a.addFrame(frame(0));
    a.addFrame(frame(1));
    a.addAudio(ramp(0, 2 * AUDIO_RATE + 200)); // 200 samples of encoder padding at the end
    expect(a.take()).toEqual([]); // chunk 0 is complete but held back until the next one is
    const out = a.finish(true);
    expect(out.map((c) => [c.seq, c.start, c.end, c.final ?? false])).toEqual([
      [0, 0, 1, false],
      [1, 1, 2 + 200 / AUDIO_RATE, true],
    ]);
    expect(out[1]!.audio!.length).toBe(AUDIO_RATE + 200);
    expect(out[1]!.audio![AUDIO_RATE + 199]).toBe(2 * AUDIO_RATE + 199);
  });

  it('does not wait forever for a video track that stopped (live)', () => {
    const a = new ChunkAssembler({ ...base, maxSkewChunks: 2 });
    a.addFrame(frame(0));
    a.addAudio(ramp(0, 4 * AUDIO_RATE));
    const out = a.take();
    expect(out.map((c) => [c.seq, c.keyframes.length, c.audio!.length])).toEqual([
      [0, 1, AUDIO_RATE],
      [1, 0, AUDIO_RATE],
    ]);
  });

  it('keeps a file waiting for its video however far the audio runs ahead, until the video ends', () => {
    const a = new ChunkAssembler(base);
    a.addFrame(frame(0));
    a.addAudio(ramp(0, 6 * AUDIO_RATE)); // a paused decode: the audio pipe got 6 s ahead
    expect(a.take()).toEqual([]);
    a.addFrame(frame(1));
    a.addFrame(frame(2));
    expect(a.take().map((c) => [c.seq, c.keyframes.map((k) => k.t)])).toEqual([[0, [0]], [1, [1]]]);
    a.videoEnded(); // the video track stops at 2 s; the audio goes on alone
    expect(a.take().map((c) => [c.seq, c.keyframes.map((k) => k.t), c.audio!.length])).toEqual([
      [2, [2], AUDIO_RATE],
      [3, [], AUDIO_RATE],
      [4, [], AUDIO_RATE],
      [5, [], AUDIO_RATE],
    ]);
  });

  it('emits video-only chunks and ends the last one at the media end', () => {
    const a = new ChunkAssembler({ ...base, hasAudio: false });
    a.addFrame(frame(0));
    a.addFrame(frame(1));
    a.addFrame(frame(2));
    a.videoEnded();
    const out = a.finish(true, 2.4);
    expect(out.map((c) => [c.seq, c.start, c.keyframes.length, c.final ?? false, c.audio])).toEqual([
      [0, 0, 1, false, null],
      [1, 1, 1, false, null],
      [2, 2, 1, true, null],
    ]);
    expect(out[2]!.end).toBeCloseTo(2.4, 9);
  });
});

describe('chunk encoding', () => {
  it('round-trips keyframes and audio bytes exactly', () => {
    const chunk: Chunk = {
      stream: 'cam',
      seq: 3,
      start: 3,
      end: 4,
      wallStart: 1234,
      keyframes: [{ t: 3, width: 4, height: 2, rgb: frame(3).rgb, jpeg: frame(3).jpeg, scene: true }],
      audio: ramp(0.5, 33),
      droppedKeyframes: 2,
      gapBefore: { from: 1, to: 2, wallFrom: 3, wallTo: 4 },
      final: true,
    };
    const back = decodeChunk(encodeChunk(chunk));
    expect(back).toEqual(chunk);
    expect(back.audio).toBeInstanceOf(Float32Array);
    expect(decodeChunk(encodeChunk({ ...chunk, audio: null, gapBefore: undefined, final: undefined })).audio).toBeNull();
    // Sent part by part (SET, then APPENDs), the value is the same, and the frames are not copied.
    const parts = encodeChunkParts(chunk);
    expect(Buffer.concat(parts)).toEqual(encodeChunk(chunk));
    expect(parts[1]!.buffer).toBe(chunk.keyframes[0]!.rgb.buffer);
  });
});
