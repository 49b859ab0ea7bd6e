// Time in a question, read as a window: wall-clock ("in the last 10 minutes", "yesterday evening",
// "between 2 and 3 pm") in the user's zone, or stream time ("at 1:20 into the video"). Matched phrases
// are cut out of the question so they do not pollute the text search. `now` and the zone come in
// as arguments: the same question always means the same window in a test.
import type { StreamWindow, WallWindow } from '../repositories/memory-schema.js';
import { addDays, fromLocal, toLocal, weekday, type LocalDate } from './clock.js';

// The windows are the store's (memory-schema.ts), so a question's window is a MemoryFilter bound as is.
export type { StreamWindow, WallWindow };

export interface TimeContext {
  /** Epoch ms the question is asked at. */
  now: number;
  /** IANA zone the user's words refer to. */
  timeZone: string;
}

export interface TimeReading {
  wall?: WallWindow;
  streamTime?: StreamWindow;
  /** The phrases that were read as time, as they appear in the (lower-cased) question. */
  phrases: string[];
  /** The question with those phrases blanked out. */
  rest: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, fifteen: 15, twenty: 20, thirty: 30, forty: 40, 'forty-five': 45, fifty: 50, sixty: 60,
  few: 3, 'a few': 3, couple: 2, 'a couple of': 2, 'couple of': 2,
};
const NUM = String.raw`(\d+(?:\.\d+)?|a couple of|couple of|a few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty-five|forty|fifty|sixty|few|couple)`;
const UNIT = String.raw`(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)`;

function numberOf(word: string | undefined): number {
  if (word === undefined) return 1;
  const n = Number(word);
  return Number.isFinite(n) ? n : (NUMBER_WORDS[word] ?? 1);
}

function unitMs(unit: string): number {
  if (/^s/.test(unit)) return SECOND;
  if (/^m/.test(unit)) return MINUTE;
  if (/^h/.test(unit)) return HOUR;
  if (/^d/.test(unit)) return DAY;
  return 7 * DAY;
}

/** Local day parts, as hours of the day they start and end (night runs past midnight). */
export const DAY_PARTS: Record<string, [number, number]> = {
  morning: [5, 12],
  afternoon: [12, 17],
  evening: [17, 22],
  night: [21, 29],
};

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

// A media noun after "into the": the user is pointing at stream time, not the clock.
const MEDIA = String.raw`(?:video|stream|recording|clip|file|footage|feed|movie|tape)`;
// Stream-time values: "1:20", "1:02:03", "80 seconds", "80s", "1 minute 20 seconds", "1m20s".
const ST = String.raw`(\d{1,2}:\d{2}(?::\d{2})?|\d+(?:\.\d+)?\s*(?:h|hours?)\s*(?:\d+\s*(?:m|min|mins|minutes?))?|\d+(?:\.\d+)?\s*(?:m|min|mins|minutes?)(?:\s*(?:and\s+)?\d+(?:\.\d+)?\s*(?:s|sec|secs|seconds?))?|\d+(?:\.\d+)?\s*(?:s|sec|secs|seconds?))`;

/** Seconds of a stream-time value as written in ST. */
export function parseStreamTime(text: string): number {
  const t = text.trim();
  if (t.includes(':')) {
    const parts = t.split(':').map(Number);
    return parts.reduce((acc, p) => acc * 60 + p, 0);
  }
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)\s*(h|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\b/g)) {
    const n = Number(m[1]);
    const unit = m[2] ?? 's';
    total += unit.startsWith('h') ? n * 3600 : unit.startsWith('m') ? n * 60 : n;
  }
  return total;
}

interface Clock {
  hour: number;
  minute: number;
  /** The hour was written with am/pm or in 24-hour form, so it needs no guessing. */
  explicit: boolean;
  hasMinutes: boolean;
}

const CLOCK = String.raw`(noon|midday|midnight|\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|o'clock)?)`;
// A clock that cannot be a bare count: it has a colon, am/pm, o'clock, or is noon/midnight.
const CLOCK_STRICT = String.raw`(noon|midday|midnight|\d{1,2}:\d{2}\s*(?:a\.?m\.?|p\.?m\.?)?|\d{1,2}\s*(?:a\.?m\.?|p\.?m\.?|o'clock))`;

function parseClock(text: string, meridiemHint?: 'am' | 'pm'): Clock | undefined {
  const t = text.trim();
  if (t === 'noon' || t === 'midday') return { hour: 12, minute: 0, explicit: true, hasMinutes: false };
  if (t === 'midnight') return { hour: 0, minute: 0, explicit: true, hasMinutes: false };
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?|o'clock)?$/.exec(t);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  if (hour > 24 || minute > 59) return undefined;
  const suffix = m[3]?.replace(/\./g, '');
  const meridiem = suffix === 'am' || suffix === 'pm' ? suffix : meridiemHint;
  if (meridiem) {
    if (hour > 12 || hour === 0) return undefined;
    if (meridiem === 'pm' && hour < 12) hour += 12;
    if (meridiem === 'am' && hour === 12) hour = 0;
    return { hour, minute, explicit: true, hasMinutes: m[2] !== undefined };
  }
  // 24-hour form ("14:00", "09:30") is explicit; a bare "2" or "2:30" is guessed later.
  const explicit = hour >= 13 || hour === 0 || (m[1] ?? '').startsWith('0');
  return { hour, minute, explicit, hasMinutes: m[2] !== undefined };
}

function meridiemOf(text: string): 'am' | 'pm' | undefined {
  const m = /(a|p)\.?m\.?\s*$/.exec(text.trim());
  return m ? (m[1] === 'a' ? 'am' : 'pm') : undefined;
}

/**
 * A clock written without am/pm and below 8 ("between 2 and 3") is read as afternoon: people
 * rarely ask about 2 am without saying so, and a camera question about "3" means 15:00.
 */
function resolveHour(clock: Clock): number {
  if (clock.explicit) return clock.hour;
  return clock.hour >= 1 && clock.hour < 8 ? clock.hour + 12 : clock.hour;
}

class Reader {
  text: string;
  readonly phrases: string[] = [];
  constructor(text: string) {
    this.text = text;
  }
  /** Runs a global regex; for each match, `use` returns true to consume it (blank it out). */
  take(pattern: RegExp, use: (m: RegExpExecArray) => boolean): void {
    for (const m of [...this.text.matchAll(pattern)]) {
      if (use(m)) {
        this.phrases.push(m[0].trim());
        const start = m.index ?? 0;
        this.text = this.text.slice(0, start) + ' '.repeat(m[0].length) + this.text.slice(start + m[0].length);
      }
    }
  }
}

function intersectWall(a: WallWindow | undefined, b: WallWindow): WallWindow {
  if (!a) return b;
  return { from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) };
}

function intersectStream(a: StreamWindow | undefined, b: StreamWindow): StreamWindow {
  if (!a) return b;
  return { start: Math.max(a.start, b.start), end: Math.min(a.end, b.end) };
}

/** Reads every time expression in a question. Text is matched lower-cased; `rest` keeps positions. */
export function readTime(question: string, context: TimeContext): TimeReading {
  const { now, timeZone } = context;
  const r = new Reader(question.toLowerCase());
  let wall: WallWindow | undefined;
  let streamTime: StreamWindow | undefined;

  // 1. Stream time, first: "after 1:20 into the video" must not be read as a clock.
  const into = String.raw`\s+(?:into|in|of)\s+(?:the|this|that)\s+${MEDIA}`;
  r.take(new RegExp(String.raw`\b(?:between|from)\s+${ST}\s+(?:and|to|-|until|till)\s+${ST}(?:${into})`, 'g'), (m) => {
    streamTime = intersectStream(streamTime, { start: parseStreamTime(m[1] ?? ''), end: parseStreamTime(m[2] ?? '') });
    return true;
  });
  r.take(new RegExp(String.raw`\b(after|since|past|before|until|till|up to)\s+${ST}(?:${into}|\s+mark)`, 'g'), (m) => {
    const t = parseStreamTime(m[2] ?? '');
    const after = m[1] === 'after' || m[1] === 'since' || m[1] === 'past';
    streamTime = intersectStream(streamTime, after ? { start: t, end: Number.POSITIVE_INFINITY } : { start: 0, end: t });
    return true;
  });
  // "the first 30 seconds of the video" before the point rule reads "30 seconds of the video" as an instant.
  r.take(new RegExp(String.raw`\b(?:in\s+|during\s+)?the\s+first\s+(?:${NUM}\s+)?${UNIT}\b(?:\s+of\s+(?:the|this)\s+${MEDIA})?`, 'g'), (m) => {
    const seconds = (numberOf(m[1]) * unitMs(m[2] ?? 's')) / SECOND;
    streamTime = intersectStream(streamTime, { start: 0, end: seconds });
    return true;
  });

  r.take(new RegExp(String.raw`\b(?:(?:at|around|about|near)\s+)?(?:the\s+)?${ST}(?:${into}|\s+mark(?:${into})?)`, 'g'), (m) => {
    const t = parseStreamTime(m[1] ?? '');
    // One second either side: the event that contains the instant, and the one it touches.
    streamTime = intersectStream(streamTime, { start: Math.max(0, t - 1), end: t + 1 });
    return true;
  });
  // 2. Durations back from now.
  r.take(new RegExp(String.raw`\b(?:(?:in|during|over|within|for)\s+)?(?:the\s+)?(?:last|past|previous)\s+(?:${NUM}\s+)?${UNIT}\b`, 'g'), (m) => {
    const span = numberOf(m[1]) * unitMs(m[2] ?? 'm');
    wall = intersectWall(wall, { from: now - span, to: now + 1 });
    return true;
  });
  r.take(new RegExp(String.raw`\b(?:about\s+|around\s+|roughly\s+)?${NUM}\s+${UNIT}\s+ago\b`, 'g'), (m) => {
    const unit = unitMs(m[2] ?? 'm');
    const at = now - numberOf(m[1]) * unit;
    // "10 minutes ago" is approximate: one unit either side.
    wall = intersectWall(wall, { from: at - unit, to: Math.min(now + 1, at + unit) });
    return true;
  });

  // 3. Which day.
  const today = toLocal(now, timeZone) as LocalDate;
  let day: LocalDate = today;
  let dayExplicit = false;
  let part: [number, number] | undefined;
  const setDay = (d: LocalDate) => {
    day = d;
    dayExplicit = true;
  };
  r.take(/\b(?:the\s+)?day\s+before\s+yesterday\b/g, () => (setDay(addDays(today, -2)), true));
  r.take(/\blast\s+night\b/g, () => {
    setDay(addDays(today, -1));
    part = DAY_PARTS.night;
    return true;
  });
  r.take(/\btonight\b/g, () => {
    setDay(today);
    part = DAY_PARTS.night;
    return true;
  });
  r.take(/\byesterday\b/g, () => (setDay(addDays(today, -1)), true));
  r.take(/\btoday\b/g, () => (setDay(today), true));
  r.take(/\b(?:on\s+)?(\d{4})-(\d{2})-(\d{2})\b/g, (m) => (setDay({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }), true));
  r.take(new RegExp(String.raw`\b(?:(on|last)\s+)?(${WEEKDAYS.join('|')})\b`, 'g'), (m) => {
    const target = WEEKDAYS.indexOf(m[2] ?? '');
    let back = (weekday(today) - target + 7) % 7;
    // "last monday" on a Monday is a week ago; "monday" on a Monday is today.
    if (m[1] === 'last' && back === 0) back = 7;
    setDay(addDays(today, -back));
    return true;
  });

  // 4. Part of the day.
  r.take(/\b(?:(?:this|in\s+the|during\s+the|early\s+in\s+the|late\s+in\s+the)\s+)?(morning|afternoon|evening|night)\b/g, (m) => {
    part = DAY_PARTS[m[1] ?? 'morning'];
    return true;
  });

  // 5. Clock ranges and points on that day.
  let clockWindow: [number, number] | undefined; // minutes from the day's midnight
  r.take(new RegExp(String.raw`\b(?:between|from)\s+${CLOCK}\s+(?:and|to|-|until|till)\s+${CLOCK}`, 'g'), (m) => {
    const secondText = m[2] ?? '';
    const hint = meridiemOf(secondText);
    const b = parseClock(secondText);
    let a = parseClock(m[1] ?? '', meridiemOf(m[1] ?? '') ? undefined : hint);
    if (!a || !b) return false;
    let from = resolveHour(a) * 60 + a.minute;
    const to = resolveHour(b) * 60 + b.minute;
    // "between 11 and 1 pm": the shared pm would put 11 after 1, so the first is morning.
    if (from > to && hint === 'pm' && !meridiemOf(m[1] ?? '')) {
      a = parseClock(m[1] ?? '', 'am');
      if (a) from = a.hour * 60 + a.minute;
    }
    clockWindow = [from, to > from ? to : to + 24 * 60];
    return true;
  });
  r.take(new RegExp(String.raw`\b(since|after|from|before|until|till|by)\s+${CLOCK_STRICT}`, 'g'), (m) => {
    const c = parseClock(m[2] ?? '');
    if (!c) return false;
    const t = resolveHour(c) * 60 + c.minute;
    clockWindow = m[1] === 'since' || m[1] === 'after' || m[1] === 'from' ? [t, 24 * 60] : [0, t];
    return true;
  });
  r.take(new RegExp(String.raw`\b(?:at|around|about|near|circa|approximately)\s+${CLOCK_STRICT}`, 'g'), (m) => {
    const c = parseClock(m[1] ?? '');
    if (!c) return false;
    const t = resolveHour(c) * 60 + c.minute;
    // "at 3 pm" is approximate to the half hour; "at 3:15" to five minutes.
    const slack = c.hasMinutes ? 5 : 30;
    clockWindow = [t - slack, t + slack];
    return true;
  });

  if (clockWindow || part || dayExplicit) {
    const [fromMin, toMin] = clockWindow ?? (part ? [part[0] * 60, part[1] * 60] : [0, 24 * 60]);
    const at = (d: LocalDate, minutes: number) => fromLocal({ ...d, hour: 0, minute: minutes }, timeZone);
    let from = at(day, fromMin);
    let to = at(day, toMin);
    // "this evening" asked at 10:00 or "at 3 pm" asked at 09:00 with no day named: the user
    // asks about the past, so the most recent such window is yesterday's.
    if (!dayExplicit && from > now) {
      const yesterday = addDays(day, -1);
      from = at(yesterday, fromMin);
      to = at(yesterday, toMin);
    }
    wall = intersectWall(wall, { from, to });
  }

  return {
    ...(wall ? { wall } : {}),
    ...(streamTime ? { streamTime } : {}),
    phrases: r.phrases,
    rest: r.text,
  };
}

/**
 * A --since/--until value: an ISO date or date-time, epoch milliseconds, a clock time today
 * ("14:30", "2pm"), "yesterday"/"today", or a duration back from now ("10m", "2h", "3d", "90s",
 * "10 minutes ago"). Returns epoch ms, or undefined when the text is none of these.
 */
export function parseTimeBound(text: string, context: TimeContext): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if (t === 'now') return context.now;
  if (/^\d{12,}$/.test(t)) return Number(t);
  const duration = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)(?:\s+ago)?$/.exec(t);
  if (duration) return context.now - Number(duration[1]) * unitMs(duration[2] ?? 'm');
  const today = toLocal(context.now, context.timeZone) as LocalDate;
  if (t === 'today') return fromLocal(today, context.timeZone);
  if (t === 'yesterday') return fromLocal(addDays(today, -1), context.timeZone);
  const clock = parseClock(t);
  if (clock && (clock.explicit || clock.hasMinutes || /[ap]\.?m\.?$/.test(t))) {
    return fromLocal({ ...today, hour: clock.hour, minute: clock.minute }, context.timeZone);
  }
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (dateOnly) return fromLocal({ year: Number(dateOnly[1]), month: Number(dateOnly[2]), day: Number(dateOnly[3]) }, context.timeZone);
  const localDateTime = /^(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (localDateTime) {
    const [, y, mo, d, h, mi, s] = localDateTime;
    return fromLocal({ year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s ?? 0) }, context.timeZone);
  }
  // A full ISO date-time with a zone ("2026-11-28T14:00:00Z", "+01:00").
  if (/^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(text.trim());
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
