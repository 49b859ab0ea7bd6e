// Segmentation of real camera footage nobody tuned for: ../shared/media/car-detection.mp4, a
// top-down view of an empty lane where cars cross at about 5-8 s, 14-18 s and 25-27 s. A boundary
// counts when it lies within 2 s of a true one. The F1 and the events are printed for the record.
import { describe, expect, it } from 'vitest';
import { boundaryF1, eventBoundaries } from '../helpers/boundary-f1.js';
import { CAR_DETECTION } from '../helpers/media.js';
import { describeEvents, useSegmentPipeline } from '../helpers/segment-pipeline.js';

const pipeline = useSegmentPipeline();

describe('segmentation of car-detection.mp4', () => {
  it('starts and ends an event around each car crossing', async () => {
    const events = await pipeline.segmentFile('cars', CAR_DETECTION);
    const crossings = [[5, 8], [14, 18], [25, 27]] as const;
    const truth = crossings.flat();
    const score = boundaryF1(eventBoundaries(events), truth, 2);
    console.log(JSON.stringify({ clip: 'car-detection', truth, score, events: describeEvents(events) }));
    // Loose on purpose: the truth is approximate and the thresholds were not fitted to this clip.
    expect(score.f1).toBeGreaterThanOrEqual(0.6);
    for (const [from, to] of crossings) {
      const moving = events.filter((e) => e.start < to && e.end > from && !e.tags.includes('motion-low'));
      expect(moving.length, `an event with motion during ${from}-${to} s`).toBeGreaterThan(0);
    }
    // The empty lane between crossings is still.
    expect(events.find((e) => e.start <= 11 && 11 < e.end)!.tags).toContain('motion-low');
    // The soundtrack is digital silence: no event claims speech.
    expect(events.every((e) => e.tags.includes('silence') && !e.tags.includes('speech'))).toBe(true);
  }, 120_000);
});
