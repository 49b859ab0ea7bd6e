// Whisper's timestamp rules in greedy decoding, on hand-made logits.
import { describe, expect, it } from 'vitest';
import { pickToken } from './whisper.js';

// vocabulary: 0 eot, 1 notimestamps, 2..4 text, 5.. timestamps (<|0.00|> = 5)
const t = { tsBegin: 5, eot: 0, noTimestamps: 1 };
const logits = (values: Record<number, number>, size = 12) => Float32Array.from({ length: size }, (_, v) => values[v] ?? -10);

describe('pickToken', () => {
  it('starts with a timestamp even when a text token scores higher', () => {
    expect(pickToken(logits({ 2: 5, 6: 1 }), [], t)).toBe(6);
  });
  it('never picks <|notimestamps|>', () => {
    expect(pickToken(logits({ 1: 9, 5: 0 }), [], t)).toBe(5);
  });
  it('follows an opening timestamp with text', () => {
    expect(pickToken(logits({ 7: 9, 3: 1 }), [5], t)).toBe(3);
  });
  it('follows a closing timestamp with another timestamp or the end, never text', () => {
    expect(pickToken(logits({ 3: 9, 8: 1 }), [5, 2, 8], t)).toBe(8);
    expect(pickToken(logits({ 3: 9, 0: 5 }), [5, 2, 8], t)).toBe(0);
  });
  it('never goes back in time', () => {
    expect(pickToken(logits({ 6: 9, 9: 1 }), [5, 2, 8, 8, 3], t)).toBe(9);
  });
  it('takes a timestamp when timestamps together outweigh the best text token', () => {
    expect(pickToken(logits({ 2: 2, 6: 1.5, 7: 1.5, 8: 1.5 }), [5, 3], t)).toBeGreaterThanOrEqual(6);
    expect(pickToken(logits({ 2: 4, 6: 1.5, 7: 1.5, 8: 1.5 }), [5, 3], t)).toBe(2);
  });
});
