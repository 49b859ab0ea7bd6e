// What consolidation does with the detector's objects: summaries say what was there, merged
// events join their tracks, and events on either side of a presence change are never merged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/schema.js';
import { EPOCH, seeded, syntheticEvent, unitVector } from '../../test/helpers/events.js';
import type { EventObjects, TrackSpan } from '../records/event.js';
import { LlmClient } from '../repositories/llm.js';
import { MemoryStore } from '../repositories/memory-store.js';
import { consolidateEvent } from './consolidate.js';
import { describeObjects, mergeObjects, NO_OBJECTS, objectFacts } from './objects.js';
import { extractiveSummary, makeSummarizer, summaryMessages } from './summary.js';

const track = (id: number, label: string, enter: number, leave: number, entered = true, left = true): TrackSpan => ({
  id, label, enter, leave, enteredAt: EPOCH + enter * 1000, leftAt: EPOCH + leave * 1000, entered, left, score: 0.5,
});

describe('what a summary says was there', () => {
  it('one person: when they came into view and left', () => {
    const objects: EventObjects = { labels: ['person'], counts: { person: { distinct: 1, max: 1 } }, tracks: [track(4, 'person', 6, 19)] };
    expect(describeObjects(objects)).toEqual(['A person came into view at 0:06 and left at 0:19.']);
    const summary = extractiveSummary({ stream: 'room', start: 0, end: 25, startedAt: EPOCH, transcript: '', ocr: '', tags: ['motion-medium'], thumbnails: [], objects });
    expect(summary).toBe('A person came into view at 0:06 and left at 0:19. Medium motion on room for 25 s.');
  });

  it('several of a label: how many passed, or were seen and how many at once', () => {
    const cars: EventObjects = { labels: ['car'], counts: { car: { distinct: 2, max: 1 } }, tracks: [track(1, 'car', 5, 8), track(2, 'car', 14, 18)] };
    expect(describeObjects(cars)).toEqual(['2 cars passed.']);
    const bottles: EventObjects = { labels: ['bottle'], counts: { bottle: { distinct: 3, max: 3 } }, tracks: [track(1, 'bottle', 0, 40, false, false), track(2, 'bottle', 0, 40, false, false), track(3, 'bottle', 0, 12, false, true)] };
    // One of three bottles taken away at 0:12: how many stood there, and when that changed.
    expect(describeObjects(bottles)).toEqual(['Up to 3 bottles were in view: 3 at first, 2 at 0:12.']);
    const seen: EventObjects = { labels: ['bottle'], counts: { bottle: { distinct: 3, max: 3 } }, tracks: [track(1, 'bottle', 0, 40, false, false), track(2, 'bottle', 0, 40, false, false), track(3, 'bottle', 0, 40, false, false)] };
    expect(describeObjects(seen)).toEqual(['3 bottles were seen, at most 3 at once.']);
    // The footage's bottles: lifted and put back; a track lost at 0:10 and found again at 0:11 is one bottle moved.
    const table: EventObjects = {
      labels: ['bottle'],
      counts: { bottle: { distinct: 6, max: 3 } },
      tracks: [track(1, 'bottle', 0, 17, false, true), track(2, 'bottle', 0, 10, false, true), track(3, 'bottle', 0, 6, false, true), track(4, 'bottle', 11, 39, true, false), track(5, 'bottle', 12, 39, true, false), track(6, 'bottle', 23, 39, true, false)],
    };
    expect(describeObjects(table, 3)).toEqual(['Up to 3 bottles were in view: 3 at first, 2 at 0:06, 3 at 0:12, 2 at 0:17, 3 at 0:23.']);
    const still: EventObjects = { labels: ['person'], counts: { person: { distinct: 1, max: 1 } }, tracks: [track(1, 'person', 0, 3, false, false)] };
    expect(describeObjects(still)).toEqual(['A person was in view.']);
    expect(describeObjects(NO_OBJECTS)).toEqual([]);
  });

  it('the language model is given the detections', () => {
    const objects: EventObjects = { labels: ['person'], counts: { person: { distinct: 1, max: 1 } }, tracks: [track(4, 'person', 6, 19)] };
    const messages = summaryMessages({ stream: 'room', start: 0, end: 25, startedAt: EPOCH, transcript: '', ocr: '', tags: [], thumbnails: [], objects }, []);
    const user = JSON.stringify(messages[1]?.content);
    expect(user).toContain('person: 1 distinct, at most 1 at once (#4 entered 0:06, left 0:19)');
    expect(objectFacts(NO_OBJECTS)).toBe('(none detected)');
  });
});

describe('merging two events’ objects', () => {
  it('one object spanning both halves is one track and counts once', () => {
    const a: EventObjects = { labels: ['car'], counts: { car: { distinct: 1, max: 1 } }, tracks: [track(7, 'car', 5, 10, true, false)] };
    const b: EventObjects = { labels: ['car', 'person'], counts: { car: { distinct: 2, max: 2 }, person: { distinct: 1, max: 1 } }, tracks: [track(7, 'car', 10, 12, false, true), track(8, 'car', 11, 13), track(9, 'person', 11, 12)] };
    const merged = mergeObjects(a, b);
    expect(merged.labels).toEqual(['car', 'person']);
    expect(merged.counts).toEqual({ car: { distinct: 2, max: 2 }, person: { distinct: 1, max: 1 } });
    expect(merged.tracks.find((t) => t.id === 7)).toMatchObject({ enter: 5, leave: 12, entered: true, left: true });
  });
});

describe('consolidation across a presence change', () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-objects-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const config = ConfigSchema.parse({});
  const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });

  it('never merges into the previous event when a label arrived or left, however alike the pictures', async () => {
    const store = await MemoryStore.open(join(root, 'lancedb'));
    const deps = { store, summarizer, memory: config.memory, now: () => EPOCH };
    try {
      const scene = unitVector(512, seeded(3));
      const person: EventObjects = { labels: ['person'], counts: { person: { distinct: 1, max: 1 } }, tracks: [track(1, 'person', 10.5, 19)] };
      const empty = { ...syntheticEvent({ start: 0, scene, noise: 0.2 }), closedBy: 'presence' };
      const visit = { ...syntheticEvent({ start: 10.5, scene, noise: 0.2 }), objects: person, closedBy: 'surprise' };
      // The same person still there in the next piece: that one continues the visit.
      const still: EventObjects = { ...person, tracks: [track(1, 'person', 21, 29, false, true)] };
      const more = { ...syntheticEvent({ start: 21, scene, noise: 0.2 }), objects: still };
      expect((await consolidateEvent(empty, deps)).status).toBe('stored');
      expect((await consolidateEvent(visit, deps)).status).toBe('stored');
      expect(await consolidateEvent(more, deps)).toMatchObject({ status: 'merged', id: visit.id });
      const events = await store.listEvents({});
      expect(events.map((e) => [e.start, e.end, e.labels])).toEqual([[0, 10, []], [10.5, 31, ['person']]]);
      expect(events[1]?.tracks).toMatchObject([{ id: 1, enter: 10.5, leave: 29, entered: true, left: true }]);
      expect(events[1]?.summary).toContain('A person came into view at 0:11 and left at 0:29.');
    } finally {
      await store.close();
    }
  });
});
