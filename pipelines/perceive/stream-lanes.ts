// One lane per stream in this process: the gated part of a chunk (load the stream's gating state,
// run or carry each model, save the state) waits for the same stream's previous chunk to finish
// that part. Without it, chunks of one stream perceived at once (a backlog, a file read faster
// than real time) all load the state before any of them saved a run, and every one of them runs
// every model: gating would switch itself off exactly when the machine is behind. Chunks of other
// streams, and the ungated work (thumbnails, audio), still run side by side. Workers on other
// hosts do not wait for each other; the state's forward-only writes keep them correct there.
export class StreamLanes {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(stream: string, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(stream) ?? Promise.resolve();
    const mine = before.then(work, work);
    // A failed chunk must not hold up or fail the next one: the lane continues either way.
    const tail = mine.catch(() => undefined);
    this.#tails.set(stream, tail);
    void tail.then(() => {
      if (this.#tails.get(stream) === tail) this.#tails.delete(stream);
    });
    return mine;
  }
}
