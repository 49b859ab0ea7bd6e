// Answers a question about detected objects from the labels, counts and tracks events carry:
// presence cites the events that saw the label, arrival and departure the events where a track
// starts or ends, counting states the number and cites each counted event. When nothing matches
// the answer says so plainly ("No one was seen ..."): a weak match is never offered instead.
import type { StoredEvent, TrackSpan } from '../records/event.js';
import { plural } from '../consolidate/objects.js';
import { formatClock, formatDate, formatStreamTime } from './clock.js';
import { countChanges } from '../records/count-changes.js';
import { describeWhen } from './extractive-answer.js';
import { ObjectAsk, type ObjectQuestion } from './object-question.js';

export interface ObjectAnswer {
  answer: string;
  /** Cited events, in the order the answer names them. */
  cited: StoredEvent[];
}

export interface ObjectAnswerContext {
  timeZone: string;
  now: number;
  maxEvidence: number;
  /** Streams the question was limited to. */
  streams: readonly string[];
  /** The wall-clock window the question was limited to. */
  wall?: { from: number; to: number };
  /**
   * A departure and an arrival of the same label this close (seconds) are one object moved, not
   * one gone and another come: the tracker's memory (segment.tracks.memorySeconds).
   */
  swapSeconds: number;
}

function labelPhrase(labels: readonly string[]): string {
  if (labels.length <= 1) return labels[0] ?? 'thing';
  return `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

/** " on garage between 14:00 and 15:00": the streams and window a question was limited to; "" when none. */
export function where(context: Pick<ObjectAnswerContext, 'streams' | 'wall' | 'timeZone' | 'now'>): string {
  const parts: string[] = [];
  if (context.streams.length > 0) parts.push(`on ${context.streams.join(', ')}`);
  if (context.wall) {
    const from = formatDate(context.wall.from, context.timeZone) === formatDate(context.now, context.timeZone) ? '' : `${formatDate(context.wall.from, context.timeZone)} `;
    parts.push(`between ${from}${formatClock(context.wall.from, context.timeZone)} and ${formatClock(Math.min(context.wall.to, context.now), context.timeZone)}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** "No one was seen on garage." / "No dog was seen." / "No vehicle was seen." */
export function noneSeen(question: Pick<ObjectQuestion, 'labels' | 'noun'>, context: ObjectAnswerContext): string {
  const subject = question.labels.length === 1 && question.labels[0] === 'person' ? 'No one' : `No ${question.noun}`;
  return `${subject} was seen${where(context)}.`;
}

function trackWhen(event: StoredEvent, at: number, streamSeconds: number, context: ObjectAnswerContext): string {
  const day = formatDate(at, context.timeZone) === formatDate(context.now, context.timeZone) ? '' : `on ${formatDate(at, context.timeZone)} `;
  return `${day}at ${formatClock(at, context.timeZone, true)} (${formatStreamTime(streamSeconds)} into ${event.stream})`;
}

function subjectOf(label: string, lower = false): string {
  const article = /^[aeiou]/.test(label) ? 'an' : 'a';
  return `${lower ? article : article.toUpperCase().charAt(0) + article.slice(1)} ${label}`;
}

interface TrackIn {
  event: StoredEvent;
  track: TrackSpan;
}

function tracksOf(events: readonly StoredEvent[], labels: ReadonlySet<string>): TrackIn[] {
  return events.flatMap((event) => event.tracks.filter((t) => labels.has(t.label)).map((track) => ({ event, track })));
}

function listed<T>(items: readonly T[], max: number, show: (item: T, index: number) => string): string {
  const shown = items.slice(0, max).map((item, i) => show(item, i));
  const more = items.length > shown.length ? `; and ${items.length - shown.length} more` : '';
  return `${shown.join('; ')}${more}`;
}

function uniqueEvents(events: readonly StoredEvent[]): StoredEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
}

/** Writes the answer; `events` are those that saw any of the labels, oldest first. */
export function answerObjects(question: ObjectQuestion, events: readonly StoredEvent[], context: ObjectAnswerContext): ObjectAnswer {
  const labels = new Set(question.labels);
  if (events.length === 0) return { answer: noneSeen(question, context), cited: [] };
  const max = Math.max(1, context.maxEvidence);
  const seenLabel = (e: StoredEvent) => labelPhrase(e.labels.filter((l) => labels.has(l)));

  switch (question.ask) {
    case ObjectAsk.Arrival:
    case ObjectAsk.Departure: {
      const arrival = question.ask === ObjectAsk.Arrival;
      // Changes in how many were in view, not single tracks: an object moved across the table
      // (one track ends, another starts beside it) neither left nor came.
      const moves = countChanges(events, labels, context.swapSeconds).filter((c) => (arrival ? c.to > c.from : c.to < c.from));
      if (moves.length === 0) {
        // Seen, but never coming or going inside memory: say what was seen rather than invent a time.
        const first = events[0]!;
        const verb = arrival ? 'came into view' : 'left view';
        return {
          answer: `${subjectOf(seenLabel(first))} was already in view ${describeWhen(first, context.timeZone, context.now)}; none ${verb}${where(context)}.`,
          cited: [first],
        };
      }
      const text = listed(moves, max, (c, i) => {
        const n = Math.abs(c.to - c.from);
        const who = n === 1 ? subjectOf(c.label, i > 0) : `${n} ${plural(c.label, n)}`;
        // What stayed (or was already there) is what a person checks against the picture.
        const rest = arrival ? (c.from > 0 ? `, making ${c.to}` : '') : c.to > 0 ? `, leaving ${c.to}` : '';
        return `${who} ${arrival ? 'came into view' : 'left'} ${trackWhen(c.event, c.atWall, c.at, context)}${rest}`;
      });
      return { answer: `${text}.`, cited: uniqueEvents(moves.map((m) => m.event)).slice(0, max) };
    }
    case ObjectAsk.Count: {
      if (question.countsMovement) {
        // Distinct tracks: the same object in two events keeps its track id, so it counts once.
        const counted = new Map<string, TrackIn>();
        for (const item of tracksOf(events, labels)) {
          if (question.countsArrivals && !item.track.entered) continue;
          const key = `${item.event.stream}#${item.track.id}`;
          if (!counted.has(key)) counted.set(key, item);
        }
        // Events stored without tracks still say how many distinct objects they held.
        const untracked = events.filter((e) => !e.tracks.some((t) => labels.has(t.label)));
        let n = counted.size;
        for (const e of untracked) for (const l of labels) n += question.countsArrivals ? 0 : (e.counts[l]?.distinct ?? 0);
        const cited = uniqueEvents([...[...counted.values()].map((c) => c.event), ...(question.countsArrivals ? [] : untracked)]).sort((a, b) => a.startedAt - b.startedAt);
        const label = question.noun;
        if (n === 0) return { answer: `No ${label} came into view${where(context)}; ${plural(label, 2)} were already there.`, cited: events.slice(0, max) };
        const what = question.countsArrivals ? 'came in' : 'passed';
        const times = listed(cited, max, (e) => describeWhen(e, context.timeZone, context.now));
        return { answer: `${n} ${plural(label, n)} ${n === 1 ? (question.countsArrivals ? 'came in' : 'passed') : what}${where(context)}: ${times}.`, cited: cited.slice(0, max) };
      }
      // "How many bottles were on the table?": most at once, the count people can check by looking.
      let most = 0;
      for (const e of events) for (const l of labels) most = Math.max(most, e.counts[l]?.max ?? 0);
      const peak = events.filter((e) => [...labels].some((l) => (e.counts[l]?.max ?? 0) === most));
      const label = question.labels[0] ?? 'thing';
      return {
        answer: `${most} ${plural(label, most)}${where(context)}, most at once: ${listed(peak, max, (e) => describeWhen(e, context.timeZone, context.now))}.`,
        cited: peak.slice(0, max),
      };
    }
    case ObjectAsk.Whether:
    case ObjectAsk.Presence: {
      const seen = [...new Set(events.flatMap((e) => e.labels.filter((l) => labels.has(l))))].sort();
      const count = events.length > 1 ? ` in ${events.length} events` : '';
      const text = `${subjectOf(labelPhrase(seen))} was seen${where(context)}${count}: ${listed(events, max, (e) => describeWhen(e, context.timeZone, context.now))}.`;
      return { answer: question.ask === ObjectAsk.Whether ? `Yes: ${text.charAt(0).toLowerCase()}${text.slice(1)}` : text, cited: events.slice(0, max) };
    }
  }
}
