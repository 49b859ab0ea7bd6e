// What followed (or preceded) an order question's anchor on its stream, and a read of it guessed
// from the first fused candidate's id. An event id is eventId(stream, start), so the sequel's read
// can start beside the candidates' row read instead of after it: each LanceDB query costs a few ms
// whatever it returns, and this one otherwise waited for the anchor's row to know where to look.
import { parseEventId, type StoredEvent } from '../records/event.js';
import type { MemoryFilter, ReasonMemory, StreamWindow } from './ports.js';
import { OrderDirection, type ParsedQuestion } from './question.js';

/**
 * Stream seconds after (or before) the guessed anchor's start read for its sequel: room for the
 * 16 events a sequel read keeps (4 x the 4 it cites) at up to ~55 s each; a sparser stream's
 * sequel is read again, exactly, once the anchor is known. At most the adapter's first try (FIRST_SPAN_S).
 */
const GUESS_SPAN_S = 900;

/** The most events the guessed stretch may hold: more is a busy stream, read again exactly. */
const GUESS_ROWS = 400;

/** The id rounds start to the millisecond: a little slack keeps the real start inside the guessed window. */
const ID_SLACK_S = 0.001;

/** An order question's sequel: the direction, the wall-clock window and how many events it cites. */
export interface SequelAsk {
  after: boolean;
  /** The question's wall-clock window (the sequel leaves the anchor's stream time open). */
  wall: MemoryFilter['wall'];
  count: number;
}

/** The sequel an order question asks for, citing up to `maxEvidence` events with the anchor; undefined for other questions. */
export function sequelAsk(parsed: ParsedQuestion, wall: MemoryFilter['wall'], maxEvidence: number): SequelAsk | undefined {
  if (!parsed.order) return undefined;
  return { after: parsed.order.direction === OrderDirection.After, wall, count: Math.max(1, maxEvidence - 1) };
}

function sameAsk(a: SequelAsk, b: SequelAsk): boolean {
  return a.after === b.after && a.count === b.count && a.wall?.from === b.wall?.from && a.wall?.to === b.wall?.to;
}

/** Stream time the sequel's events overlap: from the anchor's end on, or up to its start. */
function sequelWindow(anchor: { start: number; end: number }, after: boolean): StreamWindow {
  return after ? { start: anchor.end, end: Number.POSITIVE_INFINITY } : { start: 0, end: anchor.start };
}

/** The events a sequel read asks for, in the order asked: listEvents of the window, newest first when looking back. */
function listWindow(memory: ReasonMemory, stream: string, window: StreamWindow, ask: SequelAsk, limit: number): Promise<StoredEvent[]> {
  return memory.listEvents({ ...(ask.wall ? { wall: ask.wall } : {}), streams: [stream], streamTime: window }, limit, !ask.after);
}

/** The store's predicate for an event overlapping a stream-time window (memoryWhere's streamTime; infinite ends are open). */
function overlaps(e: StoredEvent, w: StreamWindow): boolean {
  return (!Number.isFinite(w.start) || e.end >= w.start) && (!Number.isFinite(w.end) || e.start <= w.end);
}

/** An event inside the question's wall-clock window (memoryWhere's wall: it overlaps; infinite ends are open). */
function inWall(e: StoredEvent, wall: MemoryFilter['wall']): boolean {
  return !wall || ((!Number.isFinite(wall.from) || e.endedAt >= wall.from) && (!Number.isFinite(wall.to) || e.startedAt <= wall.to));
}

/** Events read for the sequel of a guessed anchor, in the same query as the candidates' rows. */
export class GuessedSequel {
  readonly #stream: string;
  readonly #stretch: StreamWindow;
  readonly #ask: SequelAsk;
  /** The stretch's events, in listEvents' order (oldest first). */
  readonly #rows: readonly StoredEvent[];

  private constructor(stream: string, stretch: StreamWindow, ask: SequelAsk, rows: readonly StoredEvent[]) {
    this.#stream = stream;
    this.#stretch = stretch;
    this.#ask = ask;
    this.#rows = rows;
  }

  /**
   * Reads the events of `ids` (getEvents) and, in the same query, the stretch of stream time the
   * sequel of the first id's event would be found in: GUESS_SPAN_S after its start (or before it).
   * No guess without ids, when the first is not an eventId, or when the stretch held more events
   * than a read returns.
   */
  static async readWith(memory: ReasonMemory, ids: readonly string[], ask: SequelAsk): Promise<{ events: StoredEvent[]; sequel?: GuessedSequel }> {
    const guess = ids[0] === undefined ? undefined : parseEventId(ids[0]);
    if (!guess) return { events: await memory.getEvents(ids) };
    const stretch = ask.after ? { start: guess.start - ID_SLACK_S, end: guess.start + GUESS_SPAN_S } : { start: guess.start + ID_SLACK_S - GUESS_SPAN_S, end: guess.start + ID_SLACK_S };
    const read = await memory.eventsAndStretches(ids, [{ stream: guess.stream, ...stretch }], GUESS_ROWS);
    return read.complete ? { events: read.events, sequel: new GuessedSequel(guess.stream, stretch, ask, read.inStretches) } : { events: read.events };
  }

  /**
   * What listEvents(anchor's window, `limit`) returns, when this read answers it: the anchor on
   * the guessed stream, starting inside the slack of the guessed start (so the anchor's window
   * begins inside the stretch), and at least `limit` of the stretch's events in the anchor's
   * window. Those are then the first ones of the open read, as the adapter's bounded reads assume
   * (a stream's events follow each other in stream time and wall clock alike), and the stretch is
   * inside the adapter's first bounded try (FIRST_SPAN_S).
   */
  for(anchor: StoredEvent, ask: SequelAsk, limit: number): StoredEvent[] | undefined {
    const window = sequelWindow(anchor, ask.after);
    const inside = ask.after ? window.start >= this.#stretch.start : window.end <= this.#stretch.end;
    if (anchor.stream !== this.#stream || !sameAsk(ask, this.#ask) || !inside) return undefined;
    const kept = this.#rows.filter((e) => overlaps(e, window) && inWall(e, ask.wall));
    if (kept.length < limit) return undefined;
    // listEvents' order is total (startedAt, start, id), so looking back is its exact reverse.
    return ask.after ? kept.slice(0, limit) : kept.reverse().slice(0, limit);
  }
}

/**
 * Events after (or before) the anchor on its stream, preferring ones that fit the question's
 * sense (`fits`), in the direction asked; from the guessed read where it answers the same query.
 */
export async function sequelOf(memory: ReasonMemory, anchor: StoredEvent, ask: SequelAsk, fits: (e: StoredEvent) => boolean, guessed?: GuessedSequel): Promise<StoredEvent[]> {
  const limit = ask.count * 4;
  const listed = guessed?.for(anchor, ask, limit) ?? (await listWindow(memory, anchor.stream, sequelWindow(anchor, ask.after), ask, limit));
  const candidates = listed.filter((e) => e.id !== anchor.id && (ask.after ? e.start >= anchor.start + 0.001 : e.start < anchor.start));
  const fitting = candidates.filter(fits);
  const chosen = (fitting.length > 0 ? fitting : candidates).slice(0, ask.count);
  return chosen.sort((a, b) => (ask.after ? a.start - b.start : b.start - a.start));
}
