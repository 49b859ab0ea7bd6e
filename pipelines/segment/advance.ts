// One segment tick for one stream: under the stream's lock, load the segmenter state, read the
// records that have arrived in sequence order, close events, hand each closed event on, and save
// the state. Handing on before saving means a crash repeats a hand-off rather than losing one; the
// hand-off is idempotent (deterministic event ids).
import type { SegmentOptions } from '../../config/schema.js';
import type { ClosedEvent } from '../records/event.js';
import type { ShortTermMemory } from '../repositories/short-term-memory.js';
import type { StreamLock } from '../repositories/stream-lock.js';
import type { PerceptionRecord } from '../records/perception.js';
import { Segmenter } from './segmenter.js';
import { initialState, type SegmenterState } from '../records/segmenter-state.js';

/** Chunks that will never be perceived: sequence numbers [fromSeq, toSeq) and the stream time they covered. */
export interface LostChunks {
  fromSeq: number;
  toSeq: number;
  /** Stream seconds: where the last record before them ended, and where the next began (or the stream ended). */
  from: number;
  to: number;
  wallFrom: number;
  wallTo: number;
}

export interface AdvanceDeps {
  memory: ShortTermMemory;
  lock: StreamLock;
  /** Stores the closed event and enqueues its consolidation. Must be idempotent. */
  publish(event: ClosedEvent, generation: number): Promise<void>;
  /** Asks for another tick of this stream after `delayMs` (debounced by the caller). */
  wakeLater(stream: string, delayMs: number): Promise<void>;
  /** The current run of the stream (when it was added); state from another run is discarded. */
  generation?(stream: string): Promise<number>;
  /**
   * Whether chunk `seq` is still owed by perceive (its job waiting, running or due for a retry).
   * A missing record is waited for while it is; without this, only segment.missingWaitMs.
   */
  owed?(stream: string, seq: number): Promise<boolean>;
  /** How many chunks a finite stream has once its ingest has finished; undefined while it runs. */
  chunksWhenEnded?(stream: string): Promise<number | undefined>;
  /** Records chunks the segmenter gave up on, so the stream shows the gap. */
  lost?(stream: string, lost: LostChunks): Promise<void>;
  /**
   * Settles the stream's segment work: the records consumed or skipped (by sequence number) and,
   * once the segmenter has closed the stream, its end. Must be idempotent.
   */
  progress?(stream: string, done: { seqs: number[]; ended: boolean }): Promise<void>;
}

export interface AdvanceResult {
  status: 'done' | 'skipped';
  records: number;
  events: ClosedEvent[];
}

export async function advanceStream(stream: string, options: SegmentOptions, deps: AdvanceDeps, context: { signal?: AbortSignal; now?: () => number } = {}): Promise<AdvanceResult> {
  const now = context.now ?? Date.now;
  const lockName = `segment:${stream}`;
  const token = await deps.lock.acquire(lockName, { ttlMs: options.lockTtlMs, waitMs: 2_000, signal: context.signal });
  if (!token) {
    // Another worker is on this stream; it may already have passed the newest record, so look again soon.
    await deps.wakeLater(stream, 250);
    return { status: 'skipped', records: 0, events: [] };
  }
  const events: ClosedEvent[] = [];
  let consumed = 0;
  try {
    const generation = (await deps.generation?.(stream)) ?? 0;
    const saved = await deps.memory.loadState(stream);
    const segmenter = new Segmenter(options, saved && saved.generation === generation ? saved : initialState(stream, generation));
    const state = () => segmenter.state;
    const owed = deps.owed ? (seq: number) => deps.owed!(stream, seq) : undefined;
    // Settles before saving: a crash in between repeats the records (idempotent hand-offs and
    // settles) instead of leaving them counted with nobody left to consume them.
    const finishBatch = async (closed: ClosedEvent[], seqs: number[]) => {
      for (const event of closed) await deps.publish(event, state().generation);
      events.push(...closed);
      await deps.progress?.(stream, { seqs, ended: state().ended });
      await deps.memory.saveState(stream, state());
    };
    let wakeIn: number | undefined;
    while (consumed < options.maxRecordsPerTick && !context.signal?.aborted) {
      const next = await deps.memory.next(stream, state(), { max: options.maxRecordsPerTick - consumed, missingWaitMs: options.missingWaitMs, now: now(), ...(owed ? { owed } : {}) });
      if (next.late.length > 0) await deps.progress?.(stream, { seqs: next.late, ended: false });
      if (next.kind === 'empty') {
        const ended = await endOfStream(segmenter, options, deps, stream, now());
        if (ended.kind === 'wait') wakeIn = ended.retryInMs + 50;
        else if (ended.kind === 'closed') await finishBatch(ended.events, []);
        break;
      }
      if (next.kind === 'waiting') {
        // Save the hole's first sighting, so the bounded wait is measured across ticks.
        await deps.memory.saveState(stream, state());
        wakeIn = next.retryInMs + 50;
        break;
      }
      if (next.missing) await deps.lost?.(stream, lostChunks(state(), next.missing, next.records[0]?.record));
      let missingBefore = next.missingBefore;
      const closed: ClosedEvent[] = [];
      for (const { record } of next.records) {
        closed.push(...segmenter.push(record, { missingBefore, now: now() }));
        missingBefore = false;
        consumed += 1;
      }
      await finishBatch(closed, next.records.map((r) => r.seq));
      if (!(await deps.lock.extend(lockName, token, options.lockTtlMs))) throw new Error(`segment lock for stream "${stream}" was lost mid-tick`);
    }
    if (consumed >= options.maxRecordsPerTick) {
      wakeIn = 0;
    } else if (wakeIn === undefined && segmenter.isIdle(now())) {
      await finishBatch(segmenter.closeIdle(), []);
    } else if (wakeIn === undefined && state().open && !state().ended && state().lastConsumedAt !== null) {
      // A live stream that stops sending must still close its event: look again when it would be idle.
      wakeIn = Math.max(0, (state().lastConsumedAt as number) + options.idleCloseSeconds * 1000 - now()) + 50;
    }
    if (wakeIn !== undefined) await deps.wakeLater(stream, wakeIn);
    return { status: consumed > 0 || events.length > 0 ? 'done' : 'skipped', records: consumed, events };
  } finally {
    await deps.lock.release(lockName, token);
  }
}

/** The stream time a run of lost chunks covered: from where the segmenter reached to where the next record starts. */
function lostChunks(state: SegmenterState, missing: { fromSeq: number; toSeq: number }, next: PerceptionRecord | undefined): LostChunks {
  const from = state.reached ?? 0;
  const to = next ? next.start : from;
  const anchor = state.anchors[state.anchors.length - 1];
  const wallFrom = anchor ? Math.round(anchor[1] + (from - anchor[0]) * 1000) : (next?.wallStart ?? 0);
  return { ...missing, from, to: Math.max(from, to), wallFrom, wallTo: next ? next.wallStart : wallFrom };
}

type EndCheck = { kind: 'running' } | { kind: 'wait'; retryInMs: number } | { kind: 'closed'; events: ClosedEvent[] };

/**
 * Nothing left to read: when the stream's ingest has finished and its last chunks never became
 * records (their perceive jobs failed for good, or the chunks expired), the stream ends here with
 * a gap instead of waiting for a final record that will not come. Waits like a hole in the middle
 * does: while the chunks are owed, then missingWaitMs more.
 */
async function endOfStream(segmenter: Segmenter, options: SegmentOptions, deps: AdvanceDeps, stream: string, now: number): Promise<EndCheck> {
  const s = segmenter.state;
  if (s.ended || !deps.chunksWhenEnded) return { kind: 'running' };
  const chunks = await deps.chunksWhenEnded(stream);
  if (chunks === undefined || s.nextSeq >= chunks) return { kind: 'running' };
  if (!s.hole || s.hole.seq !== s.nextSeq) s.hole = { seq: s.nextSeq, since: now };
  for (let seq = s.nextSeq; seq < chunks; seq += 1) {
    if (deps.owed && (await deps.owed(stream, seq))) {
      s.hole.since = now;
      await deps.memory.saveState(stream, s);
      return { kind: 'wait', retryInMs: options.missingWaitMs };
    }
  }
  const waited = now - s.hole.since;
  if (waited < options.missingWaitMs) {
    await deps.memory.saveState(stream, s);
    return { kind: 'wait', retryInMs: options.missingWaitMs - waited };
  }
  await deps.lost?.(stream, lostChunks(s, { fromSeq: s.nextSeq, toSeq: chunks }, undefined));
  s.hole = null;
  return { kind: 'closed', events: segmenter.endAfterLoss(chunks) };
}
