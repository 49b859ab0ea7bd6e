import { describe, expect, it } from 'vitest';
import type { StoredEvent, TrackSpan } from './event.js';
import { storedEvent } from '../../test/helpers/garage-memory.js';
import { countChanges } from './count-changes.js';

const EPOCH = Date.UTC(2026, 10, 28, 14, 0, 0);

function track(id: number, enter: number, leave: number, entered: boolean, left: boolean, label = 'bottle'): TrackSpan {
  return { id, label, enter, leave, enteredAt: EPOCH + enter * 1000, leftAt: EPOCH + leave * 1000, entered, left, score: 0.6 };
}

function stored(stream: string, start: number, end: number, tracks: TrackSpan[]): StoredEvent {
  return { ...storedEvent(EPOCH, stream, start, {}), end, labels: ['bottle'], counts: {}, tracks, people: [] };
}

const table = (start: number, end: number, tracks: TrackSpan[]) => stored('table', start, end, tracks);

describe('count changes from tracks', () => {
  it('three bottles: one taken at 0:06, one moved at 0:10, two taken at 0:17, one put back at 0:23', () => {
    const events = [
      table(0, 40, [
        track(1, 0, 17, false, true),
        track(2, 0, 10, false, true),
        // Bottle 2 slid along the table: the tracker lost it and started a new track 1 s later.
        track(3, 11, 17.5, true, true),
        track(4, 0, 6, false, true),
        track(5, 23, 39, true, false),
        // Another label never mixes in.
        track(9, 2, 3, true, true, 'cup'),
      ]),
    ];
    const changes = countChanges(events, ['bottle'], 3).map(({ at, from, to }) => ({ at, from, to }));
    expect(changes).toEqual([
      { at: 6, from: 3, to: 2 },
      { at: 17, from: 2, to: 0 },
      { at: 23, from: 0, to: 1 },
    ]);
  });

  it('an arrival before a departure is two objects, not one moved (the footage: a bottle put back at 0:28, another taken at 0:31)', () => {
    const events = [table(0, 40, [track(1, 0, 31, false, true), track(2, 0, 39, false, false), track(3, 28, 39, true, false)])];
    expect(countChanges(events, ['bottle'], 3).map(({ at, from, to }) => ({ at, from, to }))).toEqual([
      { at: 28, from: 2, to: 3 },
      { at: 31, from: 3, to: 2 },
    ]);
  });

  it('with no swap window every track change counts', () => {
    const events = [table(0, 20, [track(1, 0, 10, false, true), track(2, 11, 19, true, false)])];
    expect(countChanges(events, ['bottle'], 0).map(({ at, from, to }) => ({ at, from, to }))).toEqual([
      { at: 10, from: 1, to: 0 },
      { at: 11, from: 0, to: 1 },
    ]);
    expect(countChanges(events, ['bottle'], 3)).toEqual([]);
  });

  it('joins one object across events by track id and cites the event where it left', () => {
    const first = table(0, 30, [track(1, 0, 29, false, false), track(2, 0, 29, false, false)]);
    const second = table(30, 60, [track(1, 30, 59, false, false), track(2, 30, 35, false, true)]);
    const [drop, ...rest] = countChanges([first, second], ['bottle'], 3);
    expect(rest).toEqual([]);
    expect(drop).toMatchObject({ stream: 'table', label: 'bottle', at: 35, atWall: EPOCH + 35_000, from: 2, to: 1 });
    expect(drop?.event.id).toBe(second.id);
  });

  it('keeps streams apart, oldest change first', () => {
    const a = stored('a', 0, 10, [track(1, 0, 5, false, true)]);
    const b = stored('b', 0, 10, [track(1, 2, 8, true, false)]);
    expect(countChanges([a, b], ['bottle'], 10).map(({ stream, from, to }) => ({ stream, from, to }))).toEqual([
      { stream: 'b', from: 0, to: 1 },
      { stream: 'a', from: 1, to: 0 },
    ]);
  });
});
