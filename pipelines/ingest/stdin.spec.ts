// What the head of a pipe says about whether it can be decoded at all.
import { describe, expect, it } from 'vitest';
import { checkStdinHead, mp4IndexPosition } from './stdin.js';

const box = (type: string, payload = 0) => {
  const out = Buffer.alloc(8 + payload);
  out.writeUInt32BE(8 + payload, 0);
  out.write(type, 4, 'latin1');
  return out;
};

describe('stdin head', () => {
  it('finds whether an MP4 index comes before its media data', () => {
    expect(mp4IndexPosition(Buffer.concat([box('ftyp', 16), box('moov', 100), box('mdat', 1000)]))).toBe('moov-first');
    expect(mp4IndexPosition(Buffer.concat([box('ftyp', 16), box('free', 8), box('mdat', 1000)]))).toBe('mdat-first');
    // Fragmented MP4 (empty moov then moof) streams fine.
    expect(mp4IndexPosition(Buffer.concat([box('ftyp', 16), box('moof', 10)]))).toBe('moov-first');
    // A 64-bit mdat size is followed, and a head that ends inside a box decides nothing.
    const large = Buffer.alloc(16);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(1n << 33n, 8);
    expect(mp4IndexPosition(Buffer.concat([box('ftyp', 16), large]))).toBe('mdat-first');
    expect(mp4IndexPosition(Buffer.concat([box('ftyp', 16), box('free', 4).subarray(0, 6)]))).toBeUndefined();
    // MPEG-TS (0x47 sync bytes) is not ISO-BMFF.
    expect(mp4IndexPosition(Buffer.alloc(188 * 4, 0x47))).toBeUndefined();
  });

  it('refuses nothing at all and an index at the end, and lets the rest through to ffprobe', () => {
    expect(() => checkStdinHead(Buffer.alloc(0))).toThrow(/stdin: no data/);
    expect(() => checkStdinHead(Buffer.concat([box('ftyp', 16), box('mdat', 10)]))).toThrow(/index \(moov atom\) at the end.*-movflags \+faststart/);
    expect(() => checkStdinHead(Buffer.concat([box('ftyp', 16), box('moov', 10)]))).not.toThrow();
    expect(() => checkStdinHead(Buffer.from('not media'))).not.toThrow();
  });
});
