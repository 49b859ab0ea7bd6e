// How many of a label were in view over time, from the tracks events carry, and where that number
// went down ("when was a bottle taken away?") or up ("when was it put back?"). A track ending and
// another of the same label starting elsewhere moments later is the same object moved (or the
// tracker losing it), not one taken away: such pairs cancel out.
import type { TrackSpan } from './event.js';

/** What count changes are read from: an event's stream and tracks. */
export interface Tracked {
  stream: string;
  tracks: readonly TrackSpan[];
}

/** One change in how many of a label were in view on a stream. */
export interface CountChange<E extends Tracked = Tracked> {
  stream: string;
  label: string;
  /** Stream seconds and wall-clock epoch ms of the first track leaving (a drop) or entering (a rise). */
  at: number;
  atWall: number;
  /** How many were in view before and after. */
  from: number;
  to: number;
  /** The event where it happened. */
  event: E;
}

interface Step<E> {
  t: number;
  wall: number;
  delta: 1 | -1;
  event: E;
}

/** One object's whole track on a stream: its spans in several events joined by track id. */
interface Joined<E> {
  first: { span: TrackSpan; event: E };
  last: { span: TrackSpan; event: E };
}

function joinTracks<E extends Tracked>(events: readonly E[], label: string): Map<string, Joined<E>> {
  const joined = new Map<string, Joined<E>>();
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
 * Drops the departures followed, within `swapSeconds`, by an arrival (and that arrival): the
 * object was seen again elsewhere, so it moved. An arrival before a departure is not such a pair:
 * both were in view at once, so they are two objects.
 */
function cancelMoves<E>(steps: readonly Step<E>[], swapSeconds: number): Step<E>[] {
  const cancelled = new Set<Step<E>>();
  for (const leave of steps) {
    if (leave.delta !== -1) continue;
    const arrival = steps.find((s) => s.delta === 1 && !cancelled.has(s) && s.t >= leave.t && s.t - leave.t <= swapSeconds);
    if (arrival) {
      cancelled.add(leave);
      cancelled.add(arrival);
    }
  }
  return steps.filter((s) => !cancelled.has(s));
}

/**
 * The count changes of each label on each stream, oldest first. `swapSeconds` is how soon an
 * arrival must follow a departure to cancel it: the tracker's memory, the time within which it
 * would have kept the same track had the object stayed put.
 */
export function countChanges<E extends Tracked>(events: readonly E[], labels: Iterable<string>, swapSeconds: number): CountChange<E>[] {
  const out: CountChange<E>[] = [];
  for (const label of labels) {
    const byStream = new Map<string, { start: number; steps: Step<E>[] }>();
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
      const steps = cancelMoves(line.steps.sort((a, b) => a.t - b.t || a.delta - b.delta), swapSeconds);
      let count = line.start;
      for (let i = 0; i < steps.length; ) {
        // Changes of one sign, each soon after the one before, are one change: two bottles lifted
        // together leave on neighbouring keyframes.
        let j = i + 1;
        while (j < steps.length && steps[j]!.delta === steps[i]!.delta && steps[j]!.t - steps[j - 1]!.t <= swapSeconds) j += 1;
        const lead = steps[i]!;
        const net = (j - i) * lead.delta;
        out.push({ stream, label, at: lead.t, atWall: lead.wall, from: count, to: count + net, event: lead.event });
        count += net;
        i = j;
      }
    }
  }
  return out.sort((a, b) => a.atWall - b.atWall || a.at - b.at);
}
