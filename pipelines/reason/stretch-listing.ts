// The stretches of stream time that widening lists (the best hit's neighbourhood, the completion
// windows around the strongest hits), listed once per stream, and a listing that starts before the
// candidates' rows are read. An event id is eventId(stream, start), so the stretches can be guessed
// from the fused candidates' ids alone; widening takes the guessed listing only where its
// stretches cover the ones the rows call for, and lists them itself otherwise. Each LanceDB query
// costs a few ms whatever it returns: run beside the row read, the listing leaves the question's
// critical path instead of following it.
import { STREAM_NAME, type StoredEvent } from '../records/event.js';
import type { EventSpan, ReasonMemory } from './ports.js';

/** A stretch of one stream's time, stream seconds. */
export interface Stretch {
  stream: string;
  start: number;
  end: number;
}

/** How far around the best hit the neighbourhood read reaches, in stream seconds. */
export const NEIGHBOURHOOD_S = 300;

/** Completion windows of a stream closer than this are read as one stretch (clusterWindows). */
export const CLUSTER_GAP_S = 60;

/** The most rows a listing returns per stretch it covers. */
const ROWS_PER_STRETCH = 200;

/**
 * The length a guess assumes for an event, whose end its id does not carry: the segment stage's
 * default longest event (segment.maxEventSeconds). Longer events (merged ones, or a larger setting)
 * make a guess that does not cover, and widening lists again: correct, one query later.
 */
const GUESSED_LENGTH_S = 60;

/** How many of the fused candidates the guess covers: widening's completion anchors on the top 3. */
const GUESSED_HITS = 3;

/** Stretches of stream time, merged where they lie within `gapS` of each other in a stream; sorted by stream, then start. */
export function mergeSpans(spans: readonly Stretch[], gapS = 0): Stretch[] {
  const sorted = spans.map((x) => ({ ...x, start: Math.max(0, x.start) })).sort((a, b) => a.stream.localeCompare(b.stream) || a.start - b.start);
  const out: Stretch[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && last.stream === span.stream && span.start - last.end <= gapS) last.end = Math.max(last.end, span.end);
    else out.push({ ...span });
  }
  return out;
}

/** Items grouped by stream, in the order their streams first appear. */
export function byStream<T extends { stream: string }>(xs: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const x of xs) groups.set(x.stream, [...(groups.get(x.stream) ?? []), x]);
  return [...groups];
}

/** Stream and start of an event id made by eventId(stream, start); undefined for any other id. */
export function parseEventId(id: string): { stream: string; start: number } | undefined {
  const dot = id.lastIndexOf('.');
  const stream = id.slice(0, dot);
  const ms = id.slice(dot + 1);
  if (dot <= 0 || !STREAM_NAME.test(stream) || !/^\d{10,}$/.test(ms)) return undefined;
  return { stream, start: Number(ms) / 1000 };
}

/**
 * What widening will list if the first fused candidates turn out to be the top hits: each hit's
 * guessed span with room for its completion windows, the best one's neighbourhood, merged as
 * closely as completion windows are clustered (so a cluster spanning two hits is covered).
 * Undefined when an id is not an eventId (nothing to guess from).
 */
export function guessStretches(ids: readonly string[], windowS: number): Stretch[] | undefined {
  const top = ids.slice(0, GUESSED_HITS).map(parseEventId);
  if (top.length === 0 || top.some((t) => t === undefined)) return undefined;
  // The id rounds start to the millisecond: a little slack keeps the real start inside.
  const slack = 0.001;
  const stretches = (top as { stream: string; start: number }[]).map((t, i) => {
    const reach = i === 0 ? Math.max(NEIGHBOURHOOD_S, windowS) : windowS;
    return { stream: t.stream, start: t.start - slack - reach, end: t.start + slack + GUESSED_LENGTH_S + reach };
  });
  return mergeSpans(stretches, CLUSTER_GAP_S);
}

/** One stream's listing and the stretches it covers; `complete` when no row was cut by the limit. */
interface StreamListing {
  stretches: Stretch[];
  rows: StoredEvent[];
  complete: boolean;
}

/** The events in a stream's stretches, oldest first (listEvents' order), at most ROWS_PER_STRETCH per stretch. */
export function listStretches(memory: ReasonMemory, stream: string, stretches: readonly Stretch[]): Promise<EventSpan[]> {
  return memory.listEventSpans({ streams: [stream], streamTimes: stretches }, ROWS_PER_STRETCH * stretches.length);
}

/** A listing started ahead of widening, from guessed stretches. */
export class GuessedListing {
  readonly #streams: Map<string, Promise<StreamListing | undefined>>;

  private constructor(streams: Map<string, Promise<StreamListing | undefined>>) {
    this.#streams = streams;
  }

  /**
   * Starts listing the guessed stretches of the fused candidates `ids`, one query per stream, as
   * full rows: the cited context events then need no read of their own. Undefined when there is
   * nothing to guess from.
   */
  static start(memory: ReasonMemory, ids: readonly string[], windowS: number): GuessedListing | undefined {
    const guessed = guessStretches(ids, windowS);
    if (!guessed) return undefined;
    const streams = new Map<string, Promise<StreamListing | undefined>>();
    for (const [stream, stretches] of byStream(guessed)) {
      const limit = ROWS_PER_STRETCH * stretches.length;
      // A failed guess is only a missed shortcut: widening lists again and meets any real fault itself.
      const listing = memory.listEvents({ streams: [stream], streamTimes: stretches }, limit).then(
        (rows) => ({ stretches, rows, complete: rows.length < limit }),
        () => undefined,
      );
      streams.set(stream, listing);
    }
    return new GuessedListing(streams);
  }

  /**
   * The events listStretches(stream, stretches) would return, when the guess covers every one of
   * `stretches` and listed all of its rows; otherwise undefined.
   */
  async covering(stream: string, stretches: readonly Stretch[]): Promise<StoredEvent[] | undefined> {
    const listing = await this.#streams.get(stream);
    if (!listing?.complete) return undefined;
    const covered = stretches.every((s) => listing.stretches.some((g) => g.start <= s.start && s.end <= g.end));
    if (!covered) return undefined;
    // The store's predicate for an event overlapping a stretch (memoryWhere's streamTimes), on the
    // rows in the store's order: the same rows, in the same order, up to the same limit.
    return listing.rows.filter((e) => stretches.some((s) => e.end >= s.start && e.start <= s.end)).slice(0, ROWS_PER_STRETCH * stretches.length);
  }
}
