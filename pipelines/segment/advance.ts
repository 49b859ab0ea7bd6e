// One segment tick for one stream: under the stream's lock, load the segmenter state, read the
// records that have arrived in sequence order, close events, hand each closed event on, and save
// the state. Handing on before saving means a crash repeats a hand-off rather than losing one; the
// hand-off is idempotent (deterministic event ids).
import type { SegmentOptions } from '../../config/schema.js';
import type { ClosedEvent } from '../records/event.js';
import type { ShortTermMemory } from '../repositories/short-term-memory.js';
import type { StreamLock } from '../repositories/stream-lock.js';
import { Segmenter } from './segmenter.js';
import { initialState } from '../records/segmenter-state.js';

export interface AdvanceDeps {
  memory: ShortTermMemory;
  lock: StreamLock;
  /** Stores the closed event and enqueues its consolidation. Must be idempotent. */
  publish(event: ClosedEvent, generation: number): Promise<void>;
  /** Asks for another tick of this stream after `delayMs` (debounced by the caller). */
  wakeLater(stream: string, delayMs: number): Promise<void>;
  /** The current run of the stream (when it was added); state from another run is discarded. */
  generation?(stream: string): Promise<number>;
  /** Counts records consumed and events closed, for progress reporting. */
  progress?(stream: string, counts: { records: number; events: number; ended: boolean }): Promise<void>;
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
    let wakeIn: number | undefined;
    while (consumed < options.maxRecordsPerTick && !context.signal?.aborted) {
      const next = await deps.memory.next(stream, state(), { max: options.maxRecordsPerTick - consumed, missingWaitMs: options.missingWaitMs, now: now() });
      if (next.kind === 'empty') break;
      if (next.kind === 'waiting') {
        // Save the hole's first sighting, so the bounded wait is measured across ticks.
        await deps.memory.saveState(stream, state());
        wakeIn = next.retryInMs + 50;
        break;
      }
      let missingBefore = next.missingBefore;
      const closed: ClosedEvent[] = [];
      for (const { record } of next.records) {
        closed.push(...segmenter.push(record, { missingBefore, now: now() }));
        missingBefore = false;
        consumed += 1;
      }
      for (const event of closed) await deps.publish(event, state().generation);
      events.push(...closed);
      await deps.memory.saveState(stream, state());
      await deps.progress?.(stream, { records: next.records.length, events: closed.length, ended: state().ended });
      if (!(await deps.lock.extend(lockName, token, options.lockTtlMs))) throw new Error(`segment lock for stream "${stream}" was lost mid-tick`);
    }
    if (consumed >= options.maxRecordsPerTick) {
      wakeIn = 0;
    } else if (wakeIn === undefined && segmenter.isIdle(now())) {
      const closed = segmenter.closeIdle();
      for (const event of closed) await deps.publish(event, state().generation);
      events.push(...closed);
      await deps.memory.saveState(stream, state());
      await deps.progress?.(stream, { records: 0, events: closed.length, ended: state().ended });
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
