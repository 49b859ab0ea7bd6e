import { describe, expect, it } from 'vitest';
import { holdFor, isHeld } from './recording-retention.js';

const DAY = 86_400_000;
const policy = { retainDays: 7, maxBytes: 0, eventRetainDays: 30, labelRetainDays: { person: 90, car: 3 }, eventPaddingSeconds: 5 };
const event = (labels: string[]) => ({ id: 'cam.1', startedAt: 1_000_000, endedAt: 1_010_000, labels });

describe('retention', () => {
  it('holds an event’s recording for eventRetainDays, or its labels’ longest', () => {
    expect(holdFor(event([]), policy).until).toBe(1_010_000 + 30 * DAY);
    expect(holdFor(event(['speech']), policy).until).toBe(1_010_000 + 30 * DAY);
    expect(holdFor(event(['car', 'person']), policy).until).toBe(1_010_000 + 90 * DAY);
    // A configured label also shortens: "keep cars 3 days" means it.
    expect(holdFor(event(['car']), policy).until).toBe(1_010_000 + 3 * DAY);
  });

  it('pads the held span and only counts holds still in force', () => {
    const hold = holdFor(event([]), policy);
    expect([hold.wallFrom, hold.wallTo]).toEqual([995_000, 1_015_000]);
    expect(isHeld([hold], 990_000, 996_000, 2_000_000)).toBe(true);
    expect(isHeld([hold], 980_000, 995_000, 2_000_000)).toBe(false);
    expect(isHeld([hold], 990_000, 996_000, hold.until)).toBe(false);
  });
});
