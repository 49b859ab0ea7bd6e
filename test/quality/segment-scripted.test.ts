// Boundary quality on a scripted video with known scene changes, on-screen texts and spoken
// sentences separated by silence, through the real roles with the models that need no download.
// A boundary counts when it lies within 2 s of a true one.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { boundaryF1, eventBoundaries } from '../helpers/boundary-f1.js';
import { renderScene, type Scene } from '../../pipelines/repositories/scripted-scene.js';
import { describeEvents, useSegmentPipeline } from '../helpers/segment-pipeline.js';

const pipeline = useSegmentPipeline();

describe('segmentation of a scripted video', () => {
  it('puts boundaries at the scene changes (F1 >= 0.9) and fills events with what was in them', async () => {
    // Changes carry different cues: colour, a moving test pattern, text only (same background as
    // the scene before), and speech that starts a second or so after the picture changes.
    const script: Scene[] = [
      { seconds: 6, color: 'navy', text: 'Front door', speech: 'Someone is knocking at the door.', speechAt: 1 },
      { seconds: 5, color: 'darkgreen', text: 'Garden' },
      { seconds: 6, source: 'testsrc2', text: 'Garage', speech: 'The car is in the garage.', speechAt: 1.5 },
      { seconds: 6, color: 'darkgreen', text: 'Kitchen', speech: 'The kettle is boiling.', speechAt: 1 },
      { seconds: 5, color: 'darkgreen', text: 'Living room' },
      { seconds: 6, color: 'maroon', speech: 'Goodbye, see you tomorrow.', speechAt: 1 },
    ];
    const video = await renderScene(script, join(pipeline.env.dataDir, 'script.mp4'));
    const events = await pipeline.segmentFile('script', video.path);
    const score = boundaryF1(eventBoundaries(events), video.boundaries, 2);
    console.log(JSON.stringify({ clip: 'scripted', truth: video.boundaries, score, events: describeEvents(events) }));
    expect(score.f1).toBeGreaterThanOrEqual(0.9);

    // The events cover the video without holes.
    expect(events[0]!.start).toBe(0);
    expect(events[events.length - 1]!.end).toBeCloseTo(video.duration, 0);
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.start).toBe(events[i - 1]!.end);
    // And carry what was seen and heard in them.
    const at = (t: number) => events.find((e) => e.start <= t && t < e.end)!;
    const scene = (i: number) => (video.scenes[i]!.start + video.scenes[i]!.end) / 2;
    const text = (t: number) => at(t).ocr.map((l) => l.text.toLowerCase()).join(' ');
    expect(at(scene(0)).tags).toContain('speech');
    expect(at(scene(1)).tags).toEqual(expect.arrayContaining(['silence', 'text', 'motion-low']));
    expect(text(scene(1))).toContain('garden');
    expect(text(scene(4))).toMatch(/living.*room/);
    expect(at(scene(5)).tags).not.toContain('text');
    expect(at(scene(1)).thumbnail).toMatch(/^script\/\d{4}-\d\d-\d\d\/\d+\.jpg$/);
    expect(at(scene(1)).moments.length).toBeGreaterThan(0);
  }, 120_000);
});
