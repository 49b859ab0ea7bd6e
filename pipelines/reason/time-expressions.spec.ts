import { describe, expect, it } from 'vitest';
import { formatClock, fromLocal, toLocal } from './clock.js';
import { parseTimeBound, readTime } from './time-expressions.js';

// Saturday 2026-11-28 15:20 in Berlin (UTC+1 in winter).
const TZ = 'Europe/Berlin';
const NOW = Date.UTC(2026, 10, 28, 14, 20, 0);
const ctx = { now: NOW, timeZone: TZ };
const at = (day: number, hour: number, minute = 0, month = 11) => fromLocal({ year: 2026, month, day, hour, minute }, TZ);
const MIN = 60_000;

describe('clock', () => {
  it('converts local times in a zone both ways, across a DST change', () => {
    expect(toLocal(NOW, TZ)).toMatchObject({ year: 2026, month: 11, day: 28, hour: 15, minute: 20 });
    // 2026-03-29 is the spring-forward day in Berlin: 01:00 is UTC+1, 04:00 is UTC+2.
    expect(fromLocal({ year: 2026, month: 3, day: 29, hour: 1 }, TZ)).toBe(Date.UTC(2026, 2, 29, 0));
    expect(fromLocal({ year: 2026, month: 3, day: 29, hour: 4 }, TZ)).toBe(Date.UTC(2026, 2, 29, 2));
    expect(formatClock(NOW, 'America/New_York')).toBe('09:20');
  });
});

describe('readTime: wall clock', () => {
  it('reads "in the last 10 minutes" as the ten minutes before now', () => {
    const r = readTime('What happened in the last 10 minutes?', ctx);
    expect(r.wall).toEqual({ from: NOW - 10 * MIN, to: NOW + 1 });
    expect(r.rest).not.toMatch(/last|minutes/);
  });

  it('reads "the past hour" and "the last two days"', () => {
    expect(readTime('anything in the past hour', ctx).wall).toEqual({ from: NOW - 60 * MIN, to: NOW + 1 });
    expect(readTime('cars over the last two days', ctx).wall?.from).toBe(NOW - 2 * 24 * 60 * MIN);
  });

  it('reads "20 minutes ago" as a window around that time', () => {
    const r = readTime('who rang 20 minutes ago', ctx);
    expect(r.wall).toEqual({ from: NOW - 21 * MIN, to: NOW - 19 * MIN });
  });

  it('reads "yesterday evening" in the user zone', () => {
    const r = readTime('What did I hear yesterday evening?', ctx);
    expect(r.wall).toEqual({ from: at(27, 17), to: at(27, 22) });
    expect(r.phrases).toEqual(expect.arrayContaining(['yesterday', 'evening']));
  });

  it('reads "this morning" as today 05:00-12:00', () => {
    expect(readTime('what happened this morning', ctx).wall).toEqual({ from: at(28, 5), to: at(28, 12) });
  });

  it('reads "last night" as yesterday evening into this morning', () => {
    expect(readTime('any noise last night?', ctx).wall).toEqual({ from: at(27, 21), to: at(28, 5) });
  });

  it('reads "between 2 and 3 pm" as today 14:00-15:00', () => {
    expect(readTime('who came between 2 and 3 pm', ctx).wall).toEqual({ from: at(28, 14), to: at(28, 15) });
  });

  it('reads a bare "between 2 and 3" as afternoon, and 24-hour ranges as written', () => {
    expect(readTime('between 2 and 3', ctx).wall).toEqual({ from: at(28, 14), to: at(28, 15) });
    expect(readTime('between 09:30 and 10:15', ctx).wall).toEqual({ from: at(28, 9, 30), to: at(28, 10, 15) });
    expect(readTime('between 11 and 1 pm', ctx).wall).toEqual({ from: at(28, 11), to: at(28, 13) });
  });

  it('moves a window that lies in the future to the day before when no day is named', () => {
    // 16:00-17:00 has not happened yet at 15:20, so the user means yesterday's.
    expect(readTime('between 4 and 5 pm', ctx).wall).toEqual({ from: at(27, 16), to: at(27, 17) });
    expect(readTime('this evening', ctx).wall).toEqual({ from: at(27, 17), to: at(27, 22) });
  });

  it('combines a day with a clock range', () => {
    expect(readTime('yesterday between 2pm and 3:30pm', ctx).wall).toEqual({ from: at(27, 14), to: at(27, 15, 30) });
  });

  it('reads "at 3pm" as half an hour either side and "at 14:05" as five minutes', () => {
    expect(readTime('what was said at 3pm', ctx).wall).toEqual({ from: at(28, 14, 30), to: at(28, 15, 30) });
    expect(readTime('what was on screen at 14:05', ctx).wall).toEqual({ from: at(28, 14), to: at(28, 14, 10) });
  });

  it('reads "since 2 pm" and "before 9am"', () => {
    expect(readTime('since 2 pm', ctx).wall).toEqual({ from: at(28, 14), to: at(29, 0) });
    expect(readTime('before 9am today', ctx).wall).toEqual({ from: at(28, 0), to: at(28, 9) });
  });

  it('reads weekdays and ISO dates', () => {
    // 2026-11-28 is a Saturday: "on monday" is the 23rd.
    expect(readTime('on monday', ctx).wall).toEqual({ from: at(23, 0), to: at(24, 0) });
    expect(readTime('last saturday', ctx).wall).toEqual({ from: at(21, 0), to: at(22, 0) });
    expect(readTime('on 2026-11-20 morning', ctx).wall).toEqual({ from: at(20, 5), to: at(20, 12) });
  });

  it('leaves questions without time alone, including counts that look like clocks', () => {
    const r = readTime('How many cars drove past the 2 bins?', ctx);
    expect(r.wall).toBeUndefined();
    expect(r.streamTime).toBeUndefined();
    expect(r.rest).toBe('how many cars drove past the 2 bins?');
  });
});

describe('readTime: stream time', () => {
  it('reads "at 1:20 into the video" as stream seconds around 80', () => {
    const r = readTime('What was on screen at 1:20 into the video?', ctx);
    expect(r.streamTime).toEqual({ start: 79, end: 81 });
    expect(r.wall).toBeUndefined();
  });

  it('reads seconds and minute-second forms', () => {
    expect(readTime('what was said 90 seconds into the recording', ctx).streamTime).toEqual({ start: 89, end: 91 });
    expect(readTime('at 1 minute 5 seconds into the clip', ctx).streamTime).toEqual({ start: 64, end: 66 });
    expect(readTime('at the 0:45 mark', ctx).streamTime).toEqual({ start: 44, end: 46 });
  });

  it('reads ranges, "after" and "the first N seconds"', () => {
    expect(readTime('between 0:30 and 1:00 into the video', ctx).streamTime).toEqual({ start: 30, end: 60 });
    expect(readTime('what happened after 1:20 into the video', ctx).streamTime).toEqual({ start: 80, end: Number.POSITIVE_INFINITY });
    expect(readTime('in the first 30 seconds of the video', ctx).streamTime).toEqual({ start: 0, end: 30 });
  });
});

describe('parseTimeBound (--since / --until)', () => {
  it('reads durations back from now, clocks today, dates and ISO instants', () => {
    expect(parseTimeBound('10m', ctx)).toBe(NOW - 10 * MIN);
    expect(parseTimeBound('2 hours ago', ctx)).toBe(NOW - 120 * MIN);
    expect(parseTimeBound('14:30', ctx)).toBe(at(28, 14, 30));
    expect(parseTimeBound('2pm', ctx)).toBe(at(28, 14));
    expect(parseTimeBound('yesterday', ctx)).toBe(at(27, 0));
    expect(parseTimeBound('2026-11-27', ctx)).toBe(at(27, 0));
    expect(parseTimeBound('2026-11-27T08:15', ctx)).toBe(at(27, 8, 15));
    expect(parseTimeBound('2026-11-27T08:15:00Z', ctx)).toBe(Date.UTC(2026, 10, 27, 8, 15));
    expect(parseTimeBound(String(NOW), ctx)).toBe(NOW);
  });

  it('returns undefined for text that is not a time', () => {
    expect(parseTimeBound('soonish', ctx)).toBeUndefined();
    expect(parseTimeBound('25:99', ctx)).toBeUndefined();
  });
});
