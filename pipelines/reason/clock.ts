// Wall-clock arithmetic in a named time zone, so "yesterday evening" means the user's evening and
// a test can pin both `now` and the zone. Uses Intl only (no date library); DST-safe by construction:
// a local time is converted by asking Intl for the zone's offset at that instant, twice.

export interface LocalDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
}

export interface LocalDateTime extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows the zone (an IANA name such as "Europe/Berlin", or "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The zone this process runs in (what `reason.timeZone` falls back to). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The local calendar date and time of an instant in a zone. */
export function toLocal(epochMs: number, timeZone: string): LocalDateTime {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** Offset of the zone from UTC at an instant, in milliseconds (positive east of Greenwich). */
function offsetAt(epochMs: number, timeZone: string): number {
  const l = toLocal(epochMs, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant of a local wall time in a zone. Hours past 23 roll into the next day (a "night" that
 * ends at 29:00 ends at 05:00 the next morning). In a DST gap the later offset wins.
 */
export function fromLocal(local: LocalDate & Partial<LocalDateTime>, timeZone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0, local.second ?? 0);
  const first = naive - offsetAt(naive, timeZone);
  const second = naive - offsetAt(first, timeZone);
  return second;
}

/** The local date `days` days from the date of `epochMs` (negative for the past). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Local day of week, 0 = Sunday. */
export function weekday(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** "14:05" in the zone, for answers. */
export function formatClock(epochMs: number, timeZone: string, withSeconds = false): string {
  const l = toLocal(epochMs, timeZone);
  const hh = String(l.hour).padStart(2, '0');
  const mm = String(l.minute).padStart(2, '0');
  return withSeconds ? `${hh}:${mm}:${String(l.second).padStart(2, '0')}` : `${hh}:${mm}`;
}

/** "2026-11-28" in the zone. */
export function formatDate(epochMs: number, timeZone: string): string {
  const l = toLocal(epochMs, timeZone);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/** Stream seconds as "1:20" or "1:02:03" (tenths dropped: evidence is quoted to the second). */
export function formatStreamTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
