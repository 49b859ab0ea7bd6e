// The recording side of one ffmpeg run of a live stream: decides whether the run records, and
// turns the segment muxer's "segment finished" lines into index entries in stream and wall-clock
// time. A run that ends by being killed (stop, stall, shutdown) leaves its last segment unlisted;
// close() indexes it from what ingest decoded, so a recording has no hole at every reconnect.
import type { Log } from '../log.js';
import type { RecordedSegment } from '../records/recording.js';
import type { MediaInfo } from '../repositories/media-types.js';
import type { FinishedSegment } from '../repositories/media-types.js';
import { planRecording, segmentFileName, type RecordPlan } from './recording-plan.js';

/** What ingest needs from the recordings repository. */
export interface RecordingSink {
  /** The stream's segment directory (absolute), created when missing. */
  streamDir(stream: string): Promise<string>;
  /** Bytes of a file relative to the recordings directory; null when it does not exist. */
  size(file: string): Promise<number | null>;
  add(segment: RecordedSegment): Promise<void>;
  /** Seconds of media in a file by its timestamps; null when it has none. */
  mediaSeconds(file: string): Promise<number | null>;
  discard(file: string): Promise<void>;
  /** Applies retention (age, disk cap); called after segments are added, may do nothing when run recently. */
  sweep(): Promise<void>;
}

export interface RecordingDeps {
  sink: RecordingSink;
  segmentSeconds: number;
}

/** The segment muxer closes the file just after it writes the list line; its size settles then. */
const SETTLE_MS = 300;

export class RunRecorder {
  readonly plan: RecordPlan;
  readonly #deps: RecordingDeps;
  readonly #stream: string;
  readonly #runWall: number;
  readonly #offset: number;
  readonly #log: Log;
  #listed = 0;
  #listedEnd = 0;
  #chain: Promise<void> = Promise.resolve();

  private constructor(deps: RecordingDeps, stream: string, plan: RecordPlan, run: { runWall: number; offset: number }, log: Log) {
    this.#deps = deps;
    this.#stream = stream;
    this.plan = plan;
    this.#runWall = run.runWall;
    this.#offset = run.offset;
    this.#log = log;
  }

  /** A recorder for this run, or undefined (with the reason logged) when the source cannot be recorded. */
  static async start(deps: RecordingDeps, stream: string, info: MediaInfo, run: { runWall: number; offset: number }, log: Log): Promise<RunRecorder | undefined> {
    let dir: string;
    try {
      dir = await deps.sink.streamDir(stream);
    } catch (error) {
      // A full or read-only disk must not stop perception of the stream; the log says why.
      log.warn({ err: error, stream }, 'cannot create the recording directory; live stream is not recorded');
      return undefined;
    }
    const decision = planRecording(info, { dir, prefix: String(Math.round(run.runWall)), segmentSeconds: deps.segmentSeconds });
    if (!decision.record) {
      log.warn({ stream, reason: decision.reason }, 'live stream is not recorded');
      return undefined;
    }
    return new RunRecorder(deps, stream, decision.plan, run, log);
  }

  /** ffmpeg finished a segment file (called from the decode's pipe, in order). */
  finished(segment: FinishedSegment): void {
    this.#listed += 1;
    this.#listedEnd = Math.max(this.#listedEnd, segment.end);
    this.#chain = this.#chain.then(async () => {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await this.#index(segment.file, segment.start, segment.end);
      await this.#deps.sink.sweep();
    }).catch((error: unknown) => this.#log.warn({ err: error, stream: this.#stream }, 'could not index a recording segment'));
  }

  async #index(name: string, start: number, end: number): Promise<void> {
    const file = `${this.#stream}/${name}`;
    const bytes = await this.#deps.sink.size(file);
    if (bytes === null) return;
    if (bytes === 0 || !(end > start)) {
      await this.#deps.sink.discard(file);
      return;
    }
    await this.#deps.sink.add({
      stream: this.#stream,
      file,
      start: this.#offset + start,
      end: this.#offset + end,
      wallStart: this.#runWall + start * 1000,
      wallEnd: this.#runWall + end * 1000,
      bytes,
      run: this.plan.prefix,
    });
  }

  /**
   * The run is over. decodedTo is the stream time ingest stored chunks up to: a segment ffmpeg
   * was still writing when it was killed is indexed up to there (MPEG-TS is readable as written).
   */
  async close(decodedTo: number): Promise<void> {
    const trailing = segmentFileName(this.plan.prefix, this.#listed);
    this.#chain = this.#chain.then(async () => {
      // Its own timestamps say how long it is: what was decoded into chunks can be a second
      // short of what ffmpeg had written, and an index shorter than the file overlaps the next
      // run's media in a cut.
      const seconds = await this.#deps.sink.mediaSeconds(`${this.#stream}/${trailing}`);
      const end = seconds !== null ? this.#listedEnd + seconds : Math.max(this.#listedEnd, decodedTo - this.#offset);
      await this.#index(trailing, this.#listedEnd, end);
    });
    await this.#chain.catch(() => undefined);
  }
}
