// Cuts one ffmpeg run's keyframes and audio into fixed-length chunks of stream time. Pure: it is
// fed frames and samples in arrival order and hands back the chunks that are complete. Audio
// sample n of the run is at run time n / 16000 s (ffmpeg pads and trims to the timestamps), so a
// chunk's audio is exactly the samples of [start, end).
import { AUDIO_RATE, type Chunk, type Gap, type Keyframe } from '../records/chunk.js';

export interface AssemblerOptions {
  stream: string;
  chunkSeconds: number;
  /** Sequence number of the first chunk of this run. */
  firstSeq: number;
  /** Stream seconds at run time 0 (a resumed file's seek point, a live stream's reconnect point). */
  offset: number;
  hasVideo: boolean;
  hasAudio: boolean;
  /** Epoch ms of a stream time. */
  wallAt(streamTime: number): number;
  /** Gap to attach to the first chunk of this run. */
  gapBefore?: Gap;
  /**
   * Live streams: do not wait for a lagging video track longer than this many chunks of audio.
   * Unset (files): wait for the video however far the audio runs ahead (a paused decode lets
   * ffmpeg's audio output get seconds ahead of its blocked video pipe), until videoEnded().
   */
  maxSkewChunks?: number;
  /**
   * Finite sources: keep the latest complete chunk back until the next one completes, so a
   * sliver at the end (encoder padding, a fraction of a frame) joins the last chunk instead of
   * becoming a chunk of its own.
   */
  holdLast?: boolean;
}

/** A tail shorter than this share of a chunk, without keyframes, joins the chunk before it. */
const SLIVER = 0.25;

export interface AssemblerFrame {
  /** Run seconds. */
  t: number;
  scene: boolean;
  width: number;
  height: number;
  rgb: Uint8Array;
  jpeg: Buffer;
}

export class ChunkAssembler {
  readonly #o: AssemblerOptions;
  readonly #samplesPerChunk: number;
  /** Index of the chunk being filled, relative to this run. */
  #index = 0;
  #frames: Keyframe[] = [];
  /** Frames that belong to later chunks than the one being filled. */
  #later: Keyframe[] = [];
  #audio: Float32Array | null;
  #audioFill = 0;
  /** Audio for later chunks, when a burst of samples overruns the current one. */
  #audioLater: Float32Array[] = [];
  #videoTime = -1;
  #ready: Chunk[] = [];
  #frameCount = 0;
  #finished = false;
  #videoEnded = false;

  constructor(options: AssemblerOptions) {
    this.#o = options;
    this.#samplesPerChunk = Math.round(options.chunkSeconds * AUDIO_RATE);
    this.#audio = options.hasAudio ? new Float32Array(this.#samplesPerChunk) : null;
  }

  get framesSeen(): number {
    return this.#frameCount;
  }

  /** Stream seconds up to which chunks have been handed out. */
  get emittedUntil(): number {
    return this.#o.offset + this.#index * this.#o.chunkSeconds;
  }

  addFrame(frame: AssemblerFrame): void {
    this.#frameCount += 1;
    const t = this.#o.offset + frame.t;
    const keyframe: Keyframe = { t, width: frame.width, height: frame.height, rgb: frame.rgb, jpeg: frame.jpeg, scene: frame.scene };
    this.#videoTime = Math.max(this.#videoTime, frame.t);
    if (this.#chunkOf(frame.t) <= this.#index) this.#frames.push(keyframe);
    else this.#later.push(keyframe);
    this.#advance(false);
  }

  /** The video track has no more frames (its pipe closed): audio no longer waits for it. */
  videoEnded(): void {
    this.#videoEnded = true;
    this.#advance(false);
  }

  /** Takes `samples` over: a tail may be kept as a view until video catches up, so the caller must not reuse the array. */
  addAudio(samples: Float32Array): void {
    this.addAudioQuiet(samples);
    this.#advance(false);
  }

  /** End of the run: emits what is left (a partial last chunk when it holds anything). */
  finish(final: boolean, endRunTime?: number): Chunk[] {
    this.#advance(true);
    this.#finished = true;
    const hasAny = this.#audioFill > 0 || this.#frames.length > 0;
    const previous = this.#ready[this.#ready.length - 1];
    const sliver = this.#frames.length === 0 && (this.#audio ? this.#audioFill / this.#samplesPerChunk : 0) < SLIVER;
    if (hasAny && sliver && previous && this.#audio && previous.audio) {
      const joined = new Float32Array(previous.audio.length + this.#audioFill);
      joined.set(previous.audio);
      joined.set(this.#audio.subarray(0, this.#audioFill), previous.audio.length);
      previous.audio = joined;
      previous.end += this.#audioFill / AUDIO_RATE;
      if (final) previous.final = true;
    } else if (hasAny) {
      const start = this.#index * this.#o.chunkSeconds;
      const videoEnd = endRunTime !== undefined && endRunTime > start ? Math.min(this.#o.chunkSeconds, endRunTime - start) : this.#o.chunkSeconds;
      const seconds = this.#audio ? this.#audioFill / AUDIO_RATE : videoEnd;
      this.#emit(Math.max(seconds, 0), final);
    } else if (final && this.#ready.length > 0) {
      this.#ready[this.#ready.length - 1]!.final = true;
    }
    return this.take();
  }

  /** Chunks completed since the last call, in order. */
  take(): Chunk[] {
    if (this.#o.holdLast && !this.#finished) {
      const out = this.#ready.slice(0, -1);
      this.#ready = this.#ready.slice(-1);
      return out;
    }
    const out = this.#ready;
    this.#ready = [];
    return out;
  }

  #chunkOf(runTime: number): number {
    return Math.floor(runTime / this.#o.chunkSeconds + 1e-9);
  }

  #advance(ending: boolean): void {
    for (;;) {
      const audioDone = !this.#audio || this.#audioFill === this.#samplesPerChunk;
      const end = (this.#index + 1) * this.#o.chunkSeconds;
      const skew = this.#o.maxSkewChunks;
      const audioAhead = this.#audio !== null && skew !== undefined && this.#audioLater.reduce((n, a) => n + a.length, 0) >= skew * this.#samplesPerChunk;
      // Once the video has ended, a chunk is complete when its audio is (audio-less: finish() ends it).
      const videoGone = this.#videoEnded && this.#audio !== null;
      const videoDone = !this.#o.hasVideo || videoGone || this.#videoTime >= end - 1e-9 || audioAhead || ending;
      if (!(audioDone && videoDone)) return;
      if (ending && !this.#audio && this.#videoTime < end - 1e-9) return; // video-only tail: finish() emits it
      this.#emit(this.#o.chunkSeconds, false);
    }
  }

  #emit(seconds: number, final: boolean): void {
    const start = this.#o.offset + this.#index * this.#o.chunkSeconds;
    const chunk: Chunk = {
      stream: this.#o.stream,
      seq: this.#o.firstSeq + this.#index,
      start,
      end: start + seconds,
      wallStart: this.#o.wallAt(start),
      keyframes: this.#frames,
      audio: this.#audio ? this.#audio.slice(0, Math.min(this.#audioFill, Math.round(seconds * AUDIO_RATE))) : null,
      droppedKeyframes: 0,
    };
    if (this.#index === 0 && this.#o.gapBefore) chunk.gapBefore = this.#o.gapBefore;
    if (final) chunk.final = true;
    this.#ready.push(chunk);
    this.#index += 1;
    // Move frames and audio that arrived early into the new current chunk.
    const next = this.#later;
    this.#frames = [];
    this.#later = [];
    for (const k of next) {
      if (this.#chunkOf(k.t - this.#o.offset) <= this.#index) this.#frames.push(k);
      else this.#later.push(k);
    }
    if (this.#audio) {
      this.#audioFill = 0;
      const later = this.#audioLater;
      this.#audioLater = [];
      for (const a of later) this.addAudioQuiet(a);
    }
  }

  /** addAudio without advancing (used while emitting). */
  private addAudioQuiet(samples: Float32Array): void {
    if (!this.#audio) return;
    let at = 0;
    while (at < samples.length) {
      if (this.#audioFill === this.#samplesPerChunk) {
        // The current chunk's audio is full but video has not caught up: keep the rest for later.
        // A view, not a copy: a file's audio runs ahead of its video, and this tail is re-added at
        // every chunk until video catches up (addAudio takes the array over).
        this.#audioLater.push(samples.subarray(at));
        break;
      }
      const n = Math.min(this.#samplesPerChunk - this.#audioFill, samples.length - at);
      this.#audio.set(samples.subarray(at, at + n), this.#audioFill);
      this.#audioFill += n;
      at += n;
    }
  }
}
