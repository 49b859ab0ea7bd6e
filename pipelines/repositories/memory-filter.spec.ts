// The one MemoryFilter as SQL: open bounds add nothing, each table filters its own columns, and
// bad values are refused by name.
import { describe, expect, it } from 'vitest';
import { memoryWhere, streamSinceUntil } from './memory-filter.js';

describe('memoryWhere', () => {
  it('turns every bound into a condition on the right columns of each table', () => {
    const filter = { streams: ['porch', 'garage'], wall: { from: 1000, to: 2000 }, streamTime: { start: 5, end: 9 }, eventIds: ['porch.0000005000'] };
    expect(memoryWhere('events', filter)).toBe(
      "(stream IN ('porch', 'garage')) AND (`endedAt` >= 1000) AND (`startedAt` <= 2000) AND (`end` >= 5 AND start <= 9) AND (id IN ('porch.0000005000'))",
    );
    // Moments are instants: inside the stream-time window, of the given events.
    expect(memoryWhere('moments', filter)).toBe(
      "(stream IN ('porch', 'garage')) AND (`endedAt` >= 1000) AND (`startedAt` <= 2000) AND (t >= 5 AND t <= 9) AND (`eventId` IN ('porch.0000005000'))",
    );
  });

  it('leaves open ends out, so "after 1:20 into the video" is one indexed bound', () => {
    expect(memoryWhere('events', { streams: ['porch'], streamTime: { start: 80, end: Number.POSITIVE_INFINITY } })).toBe("(stream = 'porch') AND (`end` >= 80)");
    expect(memoryWhere('events', { wall: { from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY } })).toBeUndefined();
    expect(memoryWhere('events', {})).toBeUndefined();
    expect(memoryWhere('events', { streams: [] })).toBe("(stream IN (''))");
  });

  it('reads several stream-time windows as any of them: one query for the stretches of a stream', () => {
    const windows = [{ start: 10, end: 20 }, { start: 600, end: 660 }];
    expect(memoryWhere('events', { streams: ['porch'], streamTimes: windows })).toBe("(stream = 'porch') AND ((`end` >= 10 AND start <= 20) OR (`end` >= 600 AND start <= 660))");
    expect(memoryWhere('moments', { streams: ['porch'], streamTimes: windows })).toBe("(stream = 'porch') AND ((t >= 10 AND t <= 20) OR (t >= 600 AND t <= 660))");
    // No window matches nothing; an unbounded one matches everything.
    expect(memoryWhere('events', { streamTimes: [] })).toBe('(false)');
    expect(memoryWhere('events', { streamTimes: [{ start: 10, end: 20 }, { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }] })).toBeUndefined();
  });

  it('applies episode levels and detector labels only where the columns exist', () => {
    expect(memoryWhere('moments', { level: 1, labels: ['person'] })).toBeUndefined();
    expect(memoryWhere('episodes', { level: 1 })).toBe('(level = 1)');
    expect(memoryWhere('events', { labels: ['person', 'traffic light'] })).toBe("(labels LIKE '%|person|%' OR labels LIKE '%|traffic light|%')");
  });

  it('refuses values that are not what they claim, naming them', () => {
    expect(() => memoryWhere('events', { streams: ["cam'; drop table events"] })).toThrow(/not a stream name/);
    expect(() => memoryWhere('events', { wall: { from: Number.NaN, to: 5 } })).toThrow(/not a finite number: NaN/);
    expect(() => memoryWhere('events', { labels: ['Person%'] })).toThrow(/not a detector label/);
  });

  it('reads the CLI and API "stream, since, until" options as the one filter', () => {
    expect(streamSinceUntil({ stream: 'porch', since: 10 })).toEqual({ streams: ['porch'], wall: { from: 10, to: Number.POSITIVE_INFINITY } });
    expect(streamSinceUntil({})).toEqual({});
  });
});
