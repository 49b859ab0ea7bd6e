// One lane per stream in this process: the gated part of a chunk (load the stream's gating state,
// run or carry each model, save the state) waits for the same stream's previous chunk to finish
// that part. Without it, chunks of one stream perceived at once (a backlog, a file read faster
// than real time) all load the state before any of them saved a run, and every one of them runs
// every model: gating would switch itself off exactly when the machine is behind. Chunks of other
// streams, and the ungated work (thumbnails, audio), still run side by side. `across` extends the
// turn-taking to other processes (a Redis lock, repositories/gate-lock.ts); the state's
// forward-only writes keep results correct without it.
export type Across = <T>(stream: string, work: () => Promise<T>) => Promise<T>;

export class StreamLanes {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #across: Across | undefined;

  constructor(across?: Across) {
    this.#across = across;
  }

  run<T>(stream: string, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(stream) ?? Promise.resolve();
    const across = this.#across;
    // Only the chunk at the head of this process's lane waits for the other processes.
    const turn = across ? () => across(stream, work) : work;
    const mine = before.then(turn, turn);
    // A failed chunk must not hold up or fail the next one: the lane continues either way.
    const tail = mine.catch(() => undefined);
    this.#tails.set(stream, tail);
    void tail.then(() => {
      if (this.#tails.get(stream) === tail) this.#tails.delete(stream);
    });
    return mine;
  }
}
