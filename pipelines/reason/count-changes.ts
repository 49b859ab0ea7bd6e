// How many of a label were in view over time, from the tracks events carry, and where that number
// went down ("when was a bottle taken away?") or up ("when was it put back?"). A track leaving
// while another of the same label comes into view elsewhere moments later is the same object
// moved (or the tracker losing it), not one taken away: such changes cancel out.
import type { StoredEvent, TrackSpan } from '../records/event.js';

/** One change in how many of a label were in view on a stream. */
export interface CountChange {
  stream: string;
  label: string;
  /** Stream seconds and wall-clock epoch ms of the first track leaving (a drop) or entering (a rise). */
  at: number;
  atWall: number;
  /** How many were in view before and after. */
  from: number;
  to: number;
  /** The event where it happened. */
  event: StoredEvent;
}

interface Step {
  t: number;
  wall: number;
  delta: 1 | -1;
  event: StoredEvent;
}

/** One object's whole track on a stream: its spans in several events joined by track id. */
interface Joined {
  first: { span: TrackSpan; event: StoredEvent };
  last: { span: TrackSpan; event: StoredEvent };
}

function joinTracks(events: readonly StoredEvent[], label: string): Map<string, Joined> {
  const joined = new Map<string, Joined>();
  for (const event of events) {
    for (const span of event.tracks) {
      if (span.label !== label) continue;
      const key = `${event.stream}\u0000${span.id}`;
      const known = joined.get(key);
      if (!known) joined.set(key, { first: { span, event }, last: { span, event } });
      else {
        if (span.enter < known.first.span.enter) known.first = { span, event };
        if (span.leave > known.last.span.leave) known.last = { span, event };
      }
    }
  }
  return joined;
}

/**
 * The count changes of each label on each stream, oldest first. `swapSeconds` is how soon an
 * entry must follow a departure (or a departure an entry) to cancel it: the tracker's memory, the
 * time within which it would have kept the same track had the object stayed put.
 */
export function countChanges(events: readonly StoredEvent[], labels: Iterable<string>, swapSeconds: number): CountChange[] {
  const out: CountChange[] = [];
  for (const label of labels) {
    const byStream = new Map<string, { start: number; steps: Step[] }>();
    for (const [key, track] of joinTracks(events, label)) {
      const stream = key.slice(0, key.indexOf('\u0000'));
      const line = byStream.get(stream) ?? { start: 0, steps: [] };
      byStream.set(stream, line);
      const { first, last } = track;
      if (first.span.entered) line.steps.push({ t: first.span.enter, wall: first.span.enteredAt, delta: 1, event: first.event });
      else line.start += 1;
      if (last.span.left) line.steps.push({ t: last.span.leave, wall: last.span.leftAt, delta: -1, event: last.event });
    }
    for (const [stream, line] of byStream) {
      const steps = line.steps.sort((a, b) => a.t - b.t || a.delta - b.delta);
      let count = line.start;
      for (let i = 0; i < steps.length; ) {
        // A group: steps each within swapSeconds of the one before.
        let j = i + 1;
        while (j < steps.length && steps[j]!.t - steps[j - 1]!.t <= swapSeconds) j += 1;
        const group = steps.slice(i, j);
        const net = group.reduce((sum, s) => sum + s.delta, 0);
        if (net !== 0) {
          const lead = group.find((s) => Math.sign(s.delta) === Math.sign(net)) ?? group[0]!;
          out.push({ stream, label, at: lead.t, atWall: lead.wall, from: count, to: count + net, event: lead.event });
        }
        count += net;
        i = j;
      }
    }
  }
  return out.sort((a, b) => a.atWall - b.atWall || a.at - b.at);
}
