// A micro-batcher shared by every stream in a process: requests for one model wait at most
// maxWaitMs (or until maxSize are queued), run as one session call, and are split back. A batch
// that fails is retried item by item so an error reaches only the request that caused it.
import { abortError } from './errors.js';

export interface BatchOptions {
  maxSize: number;
  maxWaitMs: number;
}

interface Pending<I, O> {
  item: I;
  signal: AbortSignal | undefined;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export type BatchRunner<I, O> = (items: I[], signal: AbortSignal) => Promise<O[]>;

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private readonly stop = new AbortController();
  /** Batches run and items served, for metrics and the benchmark. */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly run: BatchRunner<I, O>,
    private readonly options: BatchOptions,
  ) {}

  submit(item: I, signal?: AbortSignal): Promise<O> {
    if (this.closed) return Promise.reject(new Error('model runtime is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, signal, resolve, reject });
      this.schedule();
    });
  }

  /** Submits many items at once; they share batches with everyone else's. */
  submitAll(items: I[], signal?: AbortSignal): Promise<O[]> {
    return Promise.all(items.map((item) => this.submit(item, signal)));
  }

  private schedule(): void {
    if (this.running) return; // the running batch picks the queue up when it ends
    if (this.queue.length >= this.options.maxSize || this.options.maxWaitMs === 0) {
      this.flushSoon();
      return;
    }
    this.timer ??= setTimeout(() => this.flushSoon(), this.options.maxWaitMs);
  }

  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    void this.flush();
  }

  private async flush(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, this.options.maxSize);
        const live = taken.filter((p) => {
          if (p.signal?.aborted) {
            p.reject(abortError(p.signal));
            return false;
          }
          return true;
        });
        if (live.length === 0) continue;
        await this.runBatch(live);
        // Items that arrived during the run form the next batch without waiting again: they already waited.
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.run(batch.map((p) => p.item), this.stop.signal);
      if (out.length !== batch.length) throw new Error(`batch returned ${out.length} results for ${batch.length} items`);
      this.stats.batches += 1;
      this.stats.items += batch.length;
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (error) {
      if (batch.length === 1 || this.stop.signal.aborted) {
        for (const p of batch) p.reject(error);
        return;
      }
      for (const p of batch) await this.runBatch([p]);
    }
  }

  close(): void {
    this.closed = true;
    this.stop.abort(new Error('model runtime is closed'));
    if (this.timer) clearTimeout(this.timer);
    for (const p of this.queue.splice(0)) p.reject(new Error('model runtime is closed'));
  }
}
