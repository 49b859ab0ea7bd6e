// The stretches of stream time that widening lists (the best hit's neighbourhood, the completion
// windows around the strongest hits), and a listing of them read together with the fused
// candidates' rows. An event id is eventId(stream, start), so the stretches can be guessed from the
// candidates' ids before any row is read; widening takes that listing only where its stretches
// cover the ones the rows call for, and lists them itself otherwise. Each LanceDB query costs a
// few ms whatever it returns, and a question's reads follow one another: read with the candidates,
// the stretches (full rows, so the cited context needs no read either) leave the critical path.
import { parseEventId, type StoredEvent } from '../records/event.js';
import type { EventSpan, ReasonMemory, StreamStretch } from './ports.js';

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
export function mergeSpans(spans: readonly StreamStretch[], gapS = 0): StreamStretch[] {
  const sorted = spans.map((x) => ({ ...x, start: Math.max(0, x.start) })).sort((a, b) => a.stream.localeCompare(b.stream) || a.start - b.start);
  const out: StreamStretch[] = [];
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

/**
 * What widening will list if the first fused candidates turn out to be the top hits: each hit's
 * guessed span with room for its completion windows (`windowS` either side), the best one's
 * neighbourhood, merged as closely as completion windows are clustered (so a cluster spanning two
 * hits is covered). Undefined when an id is not an eventId (nothing to guess from).
 */
export function guessStretches(ids: readonly string[], windowS: number): StreamStretch[] | undefined {
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

/** The events in a stream's stretches, oldest first (listEvents' order), at most ROWS_PER_STRETCH per stretch. */
export function listStretches(memory: ReasonMemory, stream: string, stretches: readonly StreamStretch[]): Promise<EventSpan[]> {
  return memory.listEventSpans({ streams: [stream], streamTimes: stretches }, ROWS_PER_STRETCH * stretches.length);
}

/** Events listed in guessed stretches, read with the candidates' rows. */
export class StretchListing {
  readonly #stretches: readonly StreamStretch[];
  readonly #rows: readonly StoredEvent[];

  constructor(stretches: readonly StreamStretch[], rows: readonly StoredEvent[]) {
    this.#stretches = stretches;
    this.#rows = rows;
  }

  /**
   * Reads the events of `ids` (getEvents) and, in the same query, the events in `stretches`. The
   * listing is undefined without stretches, or when they held more events than a listing returns.
   */
  static async readWith(memory: ReasonMemory, ids: readonly string[], stretches: readonly StreamStretch[] | undefined): Promise<{ events: StoredEvent[]; listing?: StretchListing }> {
    if (!stretches || stretches.length === 0) return { events: await memory.getEvents(ids) };
    const read = await memory.eventsAndStretches(ids, stretches, ROWS_PER_STRETCH * stretches.length);
    return read.complete ? { events: read.events, listing: new StretchListing(stretches, read.inStretches) } : { events: read.events };
  }

  /**
   * The events listStretches(stream, stretches) would return (here with every column), when the
   * guess covers every one of `stretches`; otherwise undefined.
   */
  covering(stream: string, stretches: readonly StreamStretch[]): StoredEvent[] | undefined {
    const covered = stretches.every((s) => this.#stretches.some((g) => g.stream === stream && g.start <= s.start && s.end <= g.end));
    if (!covered) return undefined;
    // The store's predicate for an event overlapping a stretch (memoryWhere's streamTimes), on the
    // rows in the store's order: the same rows, in the same order, up to the same limit.
    return this.#rows.filter((e) => e.stream === stream && stretches.some((s) => e.end >= s.start && e.start <= s.end)).slice(0, ROWS_PER_STRETCH * stretches.length);
  }
}
