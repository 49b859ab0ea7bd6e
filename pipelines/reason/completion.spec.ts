import { describe, expect, it } from 'vitest';
import { AnchorModality, completionWindows, wantedModalities } from './completion.js';

describe('completionWindows', () => {
  it('opens 1 s around visual hits and 2 s around audio hits', () => {
    expect(completionWindows([{ stream: 's', t: 10, modality: AnchorModality.Visual }])).toEqual([{ stream: 's', start: 9, end: 11, from: ['visual'] }]);
    expect(completionWindows([{ stream: 's', t: 10, modality: AnchorModality.Audio }])).toEqual([{ stream: 's', start: 8, end: 12, from: ['audio'] }]);
  });

  it('merges windows of one stream closer than 2 s, and never across streams', () => {
    const windows = completionWindows([
      { stream: 'a', t: 10, modality: AnchorModality.Visual }, // 9..11
      { stream: 'a', t: 14, modality: AnchorModality.Audio }, // 12..16: gap 1 s -> merged
      { stream: 'a', t: 20, modality: AnchorModality.Visual }, // 19..21: gap 3 s -> separate
      { stream: 'b', t: 10.5, modality: AnchorModality.Visual },
    ]);
    expect(windows).toEqual([
      { stream: 'a', start: 9, end: 16, from: ['visual', 'audio'] },
      { stream: 'a', start: 19, end: 21, from: ['visual'] },
      { stream: 'b', start: 9.5, end: 11.5, from: ['visual'] },
    ]);
  });

  it('does not merge windows exactly 2 s apart, and clamps at the stream start', () => {
    const windows = completionWindows([
      { stream: 'a', t: 0.5, modality: AnchorModality.Audio },
      { stream: 'a', t: 5.5, modality: AnchorModality.Visual }, // 4.5 - 2.5 = 2 s gap
    ]);
    expect(windows.map((w) => [w.start, w.end])).toEqual([
      [0, 2.5],
      [4.5, 6.5],
    ]);
  });

  it('asks for the other modality', () => {
    expect(wantedModalities({ stream: 'a', start: 0, end: 1, from: [AnchorModality.Visual] })).toEqual(['audio']);
    expect(wantedModalities({ stream: 'a', start: 0, end: 1, from: [AnchorModality.Visual, AnchorModality.Audio] }).sort()).toEqual(['audio', 'visual']);
  });
});

describe('clusterWindows', () => {
  it('reads nearby windows of a stream together and keeps far ones apart', async () => {
    const { clusterWindows } = await import('./widen-evidence.js');
    const windows = completionWindows([
      { stream: 'a', t: 10, modality: AnchorModality.Visual },
      { stream: 'a', t: 40, modality: AnchorModality.Visual },
      { stream: 'a', t: 500, modality: AnchorModality.Audio },
      { stream: 'b', t: 10, modality: AnchorModality.Visual },
    ]);
    expect(clusterWindows(windows, 60).map((r) => [r.stream, r.start, r.end, r.windows.length])).toEqual([
      ['a', 9, 41, 2],
      ['a', 498, 502, 1],
      ['b', 9, 11, 1],
    ]);
  });
});

describe('mergeSpans', () => {
  it('shares a read between overlapping stretches of a stream and keeps far ones apart', async () => {
    const { mergeSpans } = await import('./stretch-listing.js');
    const spans = mergeSpans([
      { stream: 'a', start: 498, end: 502 },
      { stream: 'a', start: 9, end: 41 },
      { stream: 'b', start: 9, end: 11 },
      // The best hit's neighbourhood, reaching before stream time 0 and over the first window.
      { stream: 'a', start: -280, end: 330 },
      { stream: 'a', start: 7000, end: 7600 },
    ]);
    expect(spans).toEqual([
      { stream: 'a', start: 0, end: 330 },
      { stream: 'a', start: 498, end: 502 },
      { stream: 'a', start: 7000, end: 7600 },
      { stream: 'b', start: 9, end: 11 },
    ]);
  });
});
