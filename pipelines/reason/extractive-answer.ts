// The answer engram gives without a language model: what was found, where and when, in one or two
// plain sentences built from the best evidence. It never invents: with no relevant evidence it says
// that memory holds nothing about the question.
import type { StoredEvent } from '../records/event.js';
import { formatClock, formatDate, formatStreamTime } from './clock.js';
import { ModalityHint, OrderDirection, type ParsedQuestion } from './question.js';

export enum EvidenceRole {
  /** Found by retrieval. */
  Hit = 'hit',
  /** The event an order question is anchored on ("the doorbell"). */
  Anchor = 'anchor',
  /** What came after/before the anchor. */
  Sequel = 'sequel',
  /** A temporal neighbour or cross-modal completion of a hit. */
  Context = 'context',
}

export enum QuoteSource {
  Transcript = 'transcript',
  Ocr = 'ocr',
  Summary = 'summary',
  None = 'none',
}

export interface ScoredEvent {
  event: StoredEvent;
  score: number;
  confidence: number;
  role: EvidenceRole;
  quote: string;
  quoteSource: QuoteSource;
  thumbnail: string | null;
}

export interface AnswerContext {
  parsed: ParsedQuestion;
  timeZone: string;
  now: number;
  /** How many events memory holds in the searched range (0: say so rather than "nothing relevant"). */
  eventsInRange: number;
  /** Streams the question was restricted to, for the "nothing found" sentence. */
  streams: string[];
  /** A time window restricted the search (from the question or from --since/--until). */
  timeFiltered?: boolean;
  /** The question asked what happened in a window rather than about something in it. */
  overview?: boolean;
}

/** "at 14:03:12 (1:20–1:31 into garage)", with the date when it is not today. */
export function describeWhen(event: StoredEvent, timeZone: string, now: number): string {
  const sameDay = formatDate(event.startedAt, timeZone) === formatDate(now, timeZone);
  const clock = `${sameDay ? '' : `on ${formatDate(event.startedAt, timeZone)} `}at ${formatClock(event.startedAt, timeZone, true)}`;
  return `${clock} (${formatStreamTime(event.start)}–${formatStreamTime(event.end)} into ${event.stream})`;
}

function describeWhat(item: ScoredEvent, parsed: ParsedQuestion): string {
  const quote = item.quote.trim();
  if (quote && item.quoteSource === QuoteSource.Transcript) return `someone said "${quote}"`;
  if (quote && item.quoteSource === QuoteSource.Ocr) return `the picture showed the text "${quote}"`;
  const summary = item.event.summary.trim();
  if (summary) return summary.replace(/[.\s]+$/, '');
  if (parsed.hints.includes(ModalityHint.Visual) || parsed.hints.length === 0) return 'a scene matching the question';
  return 'a matching moment';
}

/** Ends a sentence with a full stop unless it already ends with one (inside a quote too). */
function sentence(text: string): string {
  return /[.!?]["”]?$/.test(text) ? text : `${text}.`;
}

function capitalise(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

function nothingFound(context: AnswerContext): string {
  const { parsed } = context;
  const scope: string[] = [];
  if (context.streams.length > 0) scope.push(`on ${context.streams.join(', ')}`);
  if (context.timeFiltered || parsed.wall || parsed.streamTime) scope.push('in that time range');
  const where = scope.length > 0 ? ` ${scope.join(' ')}` : '';
  if (context.eventsInRange === 0) return `Memory holds no events${where}, so I cannot answer that.`;
  const about = parsed.searchText ? ` about "${parsed.searchText}"` : '';
  return `I found nothing in memory${about}${where}. I will not guess.`;
}

/** Writes the answer from evidence already ranked best first. */
export function writeExtractiveAnswer(items: readonly ScoredEvent[], context: AnswerContext): string {
  const { parsed, timeZone, now } = context;
  if (parsed.order) {
    const anchor = items.find((i) => i.role === EvidenceRole.Anchor);
    const sequel = items.filter((i) => i.role === EvidenceRole.Sequel);
    if (!anchor) return nothingFound({ ...context, parsed: { ...parsed, searchText: parsed.order.anchor } });
    const anchorText = `${parsed.order.anchor} (${describeWhen(anchor.event, timeZone, now)})`;
    if (sequel.length === 0) {
      const side = parsed.order.direction === OrderDirection.After ? 'after' : 'before';
      return `I found ${anchorText}, but memory holds nothing ${side} it on ${anchor.event.stream}.`;
    }
    const first = sequel[0]!;
    const lead = parsed.order.direction === OrderDirection.After ? 'After' : 'Before';
    let text = `${lead} ${anchorText}: ${describeWhat(first, parsed)}, ${describeWhen(first.event, timeZone, now)}.`;
    const next = sequel[1];
    if (next) text += ` ${parsed.order.direction === OrderDirection.After ? 'Then' : 'Earlier'}: ${describeWhat(next, parsed)}, ${describeWhen(next.event, timeZone, now)}.`;
    return text;
  }

  const hits = items.filter((i) => i.role === EvidenceRole.Hit);
  const best = hits[0];
  if (!best) return nothingFound(context);
  if (context.overview) {
    // "What happened this morning?": an account in time order, not one best moment.
    const shown = [...hits].sort((a, b) => a.event.startedAt - b.event.startedAt || a.event.start - b.event.start).slice(0, 4);
    const lines = shown.map((h) => `${describeWhen(h.event, timeZone, now)}: ${describeWhat(h, parsed)}`);
    const more = hits.length > shown.length ? ` (${hits.length - shown.length} more in the evidence)` : '';
    return `${sentence(capitalise(lines.join('; ')))}${more}`;
  }
  let text = sentence(`${capitalise(describeWhen(best.event, timeZone, now))}: ${describeWhat(best, parsed)}`);
  // More places where the same thing appears, so "when did the van come" lists every visit.
  const others = hits.slice(1, 3).filter((h) => h.confidence >= best.confidence * 0.75);
  if (others.length > 0) {
    text += ` Also ${others.map((o) => describeWhen(o.event, timeZone, now)).join(' and ')}.`;
  }
  if (best.confidence < 0.5) text += ' (weak match: this is the closest memory holds.)';
  return text;
}
