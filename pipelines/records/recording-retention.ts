// How long recordings are kept: segments by age (recordings.retainDays), and longer where an
// event overlaps them (recordings.eventRetainDays, or per label with labelRetainDays). Pure.
import type { RecordingsConfig } from '../../config/schema.js';

const DAY_MS = 86_400_000;

/** An event's claim on the recording around it, until `until` (epoch ms). */
export interface RecordingHold {
  eventId: string;
  wallFrom: number;
  wallTo: number;
  until: number;
}

export interface HeldEvent {
  id: string;
  startedAt: number;
  endedAt: number;
  /** The event's labels: detector labels and tags alike; the longest configured one wins. */
  labels: readonly string[];
}

export type RetentionPolicy = Pick<RecordingsConfig, 'retainDays' | 'maxBytes' | 'eventRetainDays' | 'labelRetainDays' | 'eventPaddingSeconds'>;

/** The hold an event puts on its recording (padding on both sides). */
export function holdFor(event: HeldEvent, policy: RetentionPolicy): RecordingHold {
  // A configured label overrides eventRetainDays (shorter too: "keep cars 3 days" means it).
  const configured = event.labels.map((l) => policy.labelRetainDays[l]).filter((d): d is number => d !== undefined);
  const days = configured.length > 0 ? Math.max(...configured) : policy.eventRetainDays;
  const pad = policy.eventPaddingSeconds * 1000;
  return { eventId: event.id, wallFrom: event.startedAt - pad, wallTo: event.endedAt + pad, until: event.endedAt + days * DAY_MS };
}

/** Segments whose end is before this are past recordings.retainDays. */
export function ageCutoff(now: number, policy: Pick<RetentionPolicy, 'retainDays'>): number {
  return now - policy.retainDays * DAY_MS;
}

/** Whether any live hold (until > now) overlaps [wallFrom, wallTo). */
export function isHeld(holds: readonly RecordingHold[], wallFrom: number, wallTo: number, now: number): boolean {
  return holds.some((h) => h.until > now && h.wallFrom < wallTo && h.wallTo > wallFrom);
}
