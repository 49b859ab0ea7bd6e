// Silero VAD v5 over 16 kHz audio: 512-sample frames with 64 samples of carried context and a
// carried [2,1,128] state, turned into speech spans with hysteresis (open at threshold, close after
// minSilenceMs below threshold - 0.15) as Silero's own get_speech_timestamps does.
import type * as ortTypes from 'onnxruntime-node';
import { ort } from './session.js';
import { throwIfAborted } from './errors.js';

export interface SpeechSpan {
  start: number;
  end: number;
}

export interface VadOptions {
  threshold: number;
  minSilenceMs: number;
  minSpeechMs: number;
}

const RATE = 16_000;
const FRAME = 512;
const CONTEXT = 64;

/** One stream's VAD: push consecutive chunks, get spans (seconds from the stream's first sample) as they close. */
export class VadStream {
  private state = new Float32Array(2 * 128);
  private context = new Float32Array(CONTEXT);
  private pending = new Float32Array(0);
  private samples = 0; // samples already fed to the model
  private openAt: number | undefined;
  private silentSince: number | undefined;
  private readonly sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: () => Promise<ortTypes.InferenceSession>,
    private readonly options: VadOptions,
  ) {}

  /** Feeds the next chunk; resolves with spans that closed inside it. Calls are serialised per stream. */
  push(pcm: Float32Array, signal?: AbortSignal): Promise<SpeechSpan[]> {
    const run = this.chain.then(() => this.process(pcm, signal));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Closes a span still open at the end of the stream. */
  flush(): SpeechSpan[] {
    if (this.openAt === undefined) return [];
    const end = (this.samples + this.pending.length) / RATE;
    const span = this.close(end);
    return span ? [span] : [];
  }

  private close(end: number): SpeechSpan | undefined {
    const start = this.openAt as number;
    this.openAt = undefined;
    this.silentSince = undefined;
    return (end - start) * 1000 >= this.options.minSpeechMs ? { start, end } : undefined;
  }

  private async process(pcm: Float32Array, signal?: AbortSignal): Promise<SpeechSpan[]> {
    const session = await this.session();
    const all = new Float32Array(this.pending.length + pcm.length);
    all.set(this.pending);
    all.set(pcm, this.pending.length);
    const spans: SpeechSpan[] = [];
    const input = new Float32Array(CONTEXT + FRAME);
    let offset = 0;
    for (; offset + FRAME <= all.length; offset += FRAME) {
      throwIfAborted(signal);
      input.set(this.context);
      input.set(all.subarray(offset, offset + FRAME), CONTEXT);
      const out = await session.run({
        input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + FRAME]),
        state: new ort.Tensor('float32', this.state, [2, 1, 128]),
        sr: this.sr,
      });
      this.state = Float32Array.from(out.stateN!.data as Float32Array);
      this.context = input.slice(FRAME);
      const p = (out.output!.data as Float32Array)[0] as number;
      const t = this.samples / RATE;
      this.samples += FRAME;
      if (p >= this.options.threshold) {
        this.silentSince = undefined;
        if (this.openAt === undefined) this.openAt = t;
      } else if (this.openAt !== undefined && p < this.options.threshold - 0.15) {
        this.silentSince ??= t;
        if ((this.samples / RATE - this.silentSince) * 1000 >= this.options.minSilenceMs) {
          const span = this.close(this.silentSince);
          if (span) spans.push(span);
        }
      }
    }
    this.pending = all.slice(offset);
    return spans;
  }
}
