import { describe, expect, it } from 'vitest';
import { calibrate, confidence, gate, Stage } from './gating.js';

describe('gating', () => {
  it('answers from events at 0.7 and above, escalates to all moments below 0.5, local detail in between', () => {
    expect(gate(0.7)).toBe(Stage.Events);
    expect(gate(0.95)).toBe(Stage.Events);
    expect(gate(0.69)).toBe(Stage.LocalDetail);
    expect(gate(0.5)).toBe(Stage.LocalDetail);
    expect(gate(0.49)).toBe(Stage.GlobalDetail);
    expect(gate(0.6, { confidentAt: 0.9, escalateBelow: 0.8 })).toBe(Stage.GlobalDetail);
  });

  it('calibrates cosine between "not evidence" and "sure match"', () => {
    const scale = { min: 0.2, strong: 0.4 };
    expect(calibrate(0.1, scale)).toBe(0);
    expect(calibrate(0.3, scale)).toBeCloseTo(0.5);
    expect(calibrate(0.9, scale)).toBe(1);
    expect(calibrate(Number.NaN, scale)).toBe(0);
  });

  it('takes the strongest reason to believe a hit, and a quoted phrase found verbatim is certain', () => {
    expect(confidence({ coverage: 0.5, similarity: 0.8, quotedMatch: false })).toBe(0.8);
    expect(confidence({ coverage: 1, similarity: 0, quotedMatch: false })).toBe(1);
    expect(confidence({ coverage: 0, similarity: 0, quotedMatch: true })).toBe(1);
  });
});
