import { describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS, fuseByRank, routedWeight, SourceKind } from './fusion.js';
import { QuestionType } from './question.js';

describe('fuseByRank', () => {
  it('puts an item ranked well by several sources above one ranked first by a single source', () => {
    const fused = fuseByRank(
      [
        { source: 'fulltext', weight: 1, ids: ['a', 'b', 'c'] },
        { source: 'vector', weight: 1, ids: ['b', 'c', 'a'] },
        { source: 'sentence', weight: 1, ids: ['c', 'b'] },
      ],
      60,
    );
    expect(fused.map((h) => h.id)).toEqual(['b', 'c', 'a']);
    expect(fused[0]?.ranks).toEqual({ fulltext: 2, vector: 1, sentence: 2 });
  });

  it('lets a heavier source win a tie of ranks', () => {
    const fused = fuseByRank(
      [
        { source: 'light', weight: 0.5, ids: ['x', 'y'] },
        { source: 'heavy', weight: 1, ids: ['y', 'x'] },
      ],
      60,
    );
    expect(fused[0]?.id).toBe('y');
  });

  it('gives consensus 1 to an item first in every list and counts duplicates once', () => {
    const fused = fuseByRank(
      [
        { source: 's1', weight: 1, ids: ['a', 'a', 'b'] },
        { source: 's2', weight: 2, ids: ['a'] },
        { source: 'empty', weight: 5, ids: [] },
      ],
      60,
    );
    expect(fused[0]).toMatchObject({ id: 'a', consensus: 1 });
    expect(fused[1]).toMatchObject({ id: 'b', ranks: { s1: 2 } });
  });

  it('is deterministic on ties (by id)', () => {
    const fused = fuseByRank([{ source: 's1', weight: 1, ids: ['b'] }, { source: 's2', weight: 1, ids: ['a'] }], 60);
    expect(fused.map((h) => h.id)).toEqual(['a', 'b']);
  });
});

describe('routedWeight', () => {
  it('boosts image similarity for visual questions and audio similarity for audio questions', () => {
    const w = DEFAULT_WEIGHTS;
    expect(routedWeight(SourceKind.ImageText, 'events', QuestionType.Visual, w)).toBeGreaterThan(routedWeight(SourceKind.ImageText, 'events', QuestionType.Audio, w));
    expect(routedWeight(SourceKind.AudioText, 'events', QuestionType.Audio, w)).toBeGreaterThan(routedWeight(SourceKind.AudioText, 'events', QuestionType.Visual, w));
    expect(routedWeight(SourceKind.FullText, 'events', QuestionType.Visual, w)).toBe(w.fullText);
  });

  it('weighs episodes up for summary questions and moments down against events', () => {
    const w = DEFAULT_WEIGHTS;
    expect(routedWeight(SourceKind.Sentence, 'episodes', QuestionType.Summary, w)).toBe(w.sentence * w.episodes * 2);
    expect(routedWeight(SourceKind.ImageText, 'moments', QuestionType.AudioVisual, w)).toBe(w.imageText * w.moments);
  });
});
