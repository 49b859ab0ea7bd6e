// One ffmpeg run of a stream: chunks assembled from its frames and audio, stored in order through
// one async pump, counted and handed to perceive, with backpressure (files wait, live drops
// keyframes) and the recording of a live stream riding on the same ffmpeg.
import { ChunkAssembler } from './assembler.js';
import { FramePool } from './frame-pool.js';
import type { Chunk } from '../records/chunk.js';
import { buildDecodePlan } from './decode-plan.js';
import { RunRecorder } from './recorder.js';
import type { MediaInfo } from '../repositories/media-types.js';
import { chunkUnit, type StreamGap } from '../repositories/streams.js';
import type { DecodeResult } from '../repositories/media.js';
import { adoptMedia, NEXT_STAGE, sleep, type Decoding, type RunResult, type RunState, type StreamRun } from './stream-run.js';
import { checkMedia } from './decode-plan.js';
import { SourceError } from '../records/source.js';
import type { InputDump } from '../repositories/ffmpeg-output.js';

/**
 * The most chunks stored, checkpointed and enqueued in one round trip each. A takeover enqueues
 * this many chunks before its checkpoint again (ingest-stream.ts): a worker that died between a
 * batch's checkpoint and its enqueue left at most that many unannounced.
 */
export const CHUNKS_PER_WRITE = 8;

/**
 * How long a file's first chunk waits for a full batch: a file decodes many chunks a second, so
 * storing them CHUNKS_PER_WRITE at a time saves round trips (and CPU that ffmpeg could use) at
 * the cost of perception starting a fraction of a second later; a slow decode still hands chunks
 * on within this.
 */
const FILE_BATCH_WAIT_MS = 500;

/** How many chunks of audio a live stream lets pass while its video track delivers nothing. */
const LIVE_MAX_SKEW_CHUNKS = 3;

/**
 * What a run started without ffprobe plans for: the first video stream and the first audio
 * stream, sizes taken from the frames themselves. Most files have both; one that does not is
 * planned again from ffmpeg's own description of it (RunResult.replan).
 */
const UNPROBED: MediaInfo = { formatName: '', duration: undefined, video: { width: 0, height: 0, codec: 'unknown' }, audio: { codec: 'unknown', sampleRate: 0, channels: 0 } };

/**
 * One ffmpeg run from where the stream stands: chunks are assembled, stored in order through one
 * async pump, counted and handed to perceive, with backpressure (files wait, live drops keyframes).
 * Without `probed` (a local file), ffmpeg starts at once and its own log says what the file holds:
 * ffprobe first would cost a second process start, measured at a quarter to a third of bare
 * ffmpeg's time on a 30 s clip (test/bench/ingest.ts).
 */
export async function decodeRun(run: StreamRun, state: RunState, probed: MediaInfo | undefined): Promise<RunResult> {
  const { deps, name, runtime0, spec, stop } = run;
  const { config, streams, log } = deps;
  const live = state.live;
  // ---- where this run starts in stream time ----
  const now = Date.now();
  let offset = 0;
  let gapBefore: StreamGap | undefined;
  if (state.lastEnd !== null) {
    if (live) {
      offset = state.lastEnd + Math.max(0, (now - (state.lastWallEnd ?? now)) / 1000);
      gapBefore = { from: state.lastEnd, to: offset, wallFrom: state.lastWallEnd ?? now, wallTo: now, reason: state.gapReason ?? 'reconnect' };
    } else {
      offset = state.lastEnd;
    }
  }
  const runWall = live ? now : state.wallOrigin + offset * 1000;
  // The same ffmpeg records a live stream: no second connection to the camera.
  let info = probed ?? UNPROBED;
  const recorder = live && deps.recording ? await RunRecorder.start(deps.recording, name, info, { runWall, offset }, log) : undefined;
  const plan = buildDecodePlan(spec, info, { config, live, ...(live ? {} : { seekS: offset }), ...(recorder ? { record: recorder.plan } : {}) });
  const assembler = new ChunkAssembler({
    stream: name,
    chunkSeconds: config.chunkSeconds,
    firstSeq: state.nextSeq,
    offset,
    hasVideo: plan.hasVideo,
    hasAudio: plan.hasAudio,
    holdLast: !live,
    // A live stream keeps its audio flowing when video lags; a file always waits for its video.
    ...(live ? { maxSkewChunks: LIVE_MAX_SKEW_CHUNKS } : {}),
    wallAt: (t) => runWall + (t - offset) * 1000,
    ...(gapBefore ? { gapBefore: { from: gapBefore.from, to: gapBefore.to, wallFrom: gapBefore.wallFrom, wallTo: gapBefore.wallTo } } : {}),
  });

  // ---- decode: chunks flow through one async pump so Redis writes keep their order ----
  const pending: Chunk[] = [];
  // A live stream stores each chunk as soon as it is whole (latency); a file waits for a full
  // batch, up to FILE_BATCH_WAIT_MS, and stores whatever is left once ffmpeg is done.
  const fullBatch = live ? 1 : CHUNKS_PER_WRITE;
  let pendingSince = 0;
  let draining = false;
  const batchReady = () => pending.length >= fullBatch || (pending.length > 0 && (draining || Date.now() - pendingSince >= FILE_BATCH_WAIT_MS));
  let pumping: Promise<void> | undefined;
  let pumpError: unknown;
  let gapRecorded = false;
  let knownInFlight: number | undefined;
  const runStarted = Date.now();
  const frames = new FramePool();
  const session = deps.decode(
    plan,
    {
      frame: (f) => assembler.addFrame(f),
      frameBuffer: (size) => frames.take(size),
      videoEnded: () => assembler.videoEnded(),
      audio: (s) => assembler.addAudio(s),
      ...(recorder ? { segment: (segment) => recorder.finished(segment) } : {}),
    },
    stop.signal,
    config.sceneThreshold,
  );
  if (!probed) {
    // Nothing is read from its pipes until its input is known to fit the plan.
    session.pause();
    const verdict = await fitsPlan(session, run);
    if (!('accept' in verdict)) {
      session.kill();
      const result = await session.done;
      if (stop.signal.aborted) return { result, killedByStop: true, ended: false, media: false, stalled: false };
      return { result, killedByStop: false, ended: false, media: false, stalled: false, replan: 'replan' in verdict ? verdict.replan : 'probe' };
    }
    info = verdict.accept;
    await adoptMedia(run, state, info);
    session.resume();
  }
  const flush = (chunks: Chunk[]) => {
    if (pending.length === 0) pendingSince = Date.now();
    pending.push(...chunks);
    // ffmpeg goes on while up to one batch waits behind the one being stored; past that it is
    // paused (it stalls on its pipes) until the pump catches up.
    if (pending.length > CHUNKS_PER_WRITE && !session.paused) session.pause();
    // After a failed batch nothing more is stored: a later batch's checkpoint would move the resume
    // point past the failed one's chunks, beyond the CHUNKS_PER_WRITE a takeover announces again.
    if (batchReady() && pumpError === undefined) pumping ??= pump().finally(() => (pumping = undefined));
  };
  // Chunks waiting when the pump comes round are stored, checkpointed and enqueued together: two
  // round trips for up to CHUNKS_PER_WRITE chunks instead of two each. A file decodes many chunks
  // per round trip on a busy machine, where each round trip hands the CPU to redis-server.
  const storeBatch = async () => {
    if (!gapRecorded && gapBefore) {
      gapRecorded = true;
      await streams.addGap(name, gapBefore);
    }
    // The count the last checkpoint returned saves a round trip per batch; perception only
    // lowers it meanwhile, so it is read afresh only when it says the limit is reached.
    let inFlight = knownInFlight ?? (await streams.outstanding(name, NEXT_STAGE));
    if (inFlight >= config.maxChunksInFlight) inFlight = await streams.outstanding(name, NEXT_STAGE);
    if (inFlight >= config.maxChunksInFlight && !live) {
      // A file waits for perception; ffmpeg stalls on its full pipes meanwhile.
      session.pause();
      while (inFlight >= config.maxChunksInFlight && !stop.signal.aborted) {
        await streams.setState(name, 'waiting');
        await sleep(100, stop.signal);
        inFlight = await streams.outstanding(name, NEXT_STAGE);
      }
      if (stop.signal.aborted) return;
      await streams.setState(name, 'running');
    }
    // A file takes no more than perception has room for; a live stream stores every chunk and
    // drops the keyframes (never the audio) of those past the limit.
    const room = live ? CHUNKS_PER_WRITE : Math.min(CHUNKS_PER_WRITE, config.maxChunksInFlight - inFlight);
    const batch = pending.splice(0, Math.max(1, room));
    pendingSince = Date.now();
    // Room again behind this batch: ffmpeg goes on decoding while it is stored, instead of idling
    // until every waiting batch is stored.
    if (session.paused && pending.length <= CHUNKS_PER_WRITE && !stop.signal.aborted) session.resume();
    batch.forEach((chunk, i) => {
      if (live && inFlight + i >= config.maxChunksInFlight) {
        chunk.droppedKeyframes = chunk.keyframes.length;
        chunk.keyframes = [];
      }
    });
    const elapsedS = (Date.now() - runStarted) / 1000;
    const progress = batch.map((chunk) => ({
      seq: chunk.seq,
      end: chunk.end,
      wallEnd: chunk.wallStart + (chunk.end - chunk.start) * 1000,
      keyframes: chunk.keyframes.length,
      droppedKeyframes: chunk.droppedKeyframes,
      lagS: live ? Math.max(0, elapsedS - (chunk.end - offset)) : 0,
      ...(chunk.final ? { final: true } : {}),
    }));
    const seqs = batch.map((chunk) => chunk.seq);
    // Stored and checkpointed in one round trip (were two, plus one for the in-flight count).
    knownInFlight = await streams.recordChunks(
      name,
      progress,
      NEXT_STAGE,
      seqs.map((seq) => chunkUnit(runtime0.jobId, seq)),
      batch.map((chunk) => deps.chunks.write(chunk)),
    );
    // Stored: the next keyframes are read into these frames' buffers.
    frames.give(batch.flatMap((chunk) => chunk.keyframes.map((k) => k.rgb)));
    await deps.enqueuePerceive(name, seqs, runtime0.jobId);
    const last = progress[progress.length - 1]!;
    state.nextSeq = last.seq + 1;
    state.lastEnd = last.end;
    state.lastWallEnd = last.wallEnd;
  };
  const pump = async () => {
    try {
      while (batchReady()) {
        if (stop.signal.aborted) {
          pending.length = 0;
          break;
        }
        await storeBatch();
      }
    } catch (error) {
      pumpError = error;
      session.kill();
    }
    if (session.paused && !stop.signal.aborted) session.resume();
  };
  let stalled = false;
  const ticker = setInterval(() => {
    flush(assembler.take());
    // Until the first bytes, connecting and probing may take up to probeTimeoutMs as well.
    const allowed = config.stallTimeoutMs + (session.lastDataAt === startedAt ? config.probeTimeoutMs : 0);
    if (!session.paused && Date.now() - session.lastDataAt > allowed) {
      log.warn({ stream: name }, 'no data from the source; restarting ffmpeg');
      stalled = true;
      session.kill();
    }
  }, 50);
  const startedAt = session.lastDataAt;
  await streams.setState(name, 'running');
  let result: DecodeResult;
  try {
    result = await session.done;
  } finally {
    clearInterval(ticker);
  }
  const killedByStop = result.outcome === 'killed' && stop.signal.aborted;
  const ended = result.outcome === 'ended';
  const media = assembler.framesSeen > 0 || assembler.emittedUntil > offset;
  draining = true;
  if (killedByStop) flush(assembler.take());
  else flush(assembler.finish(!live && ended, info.duration !== undefined ? info.duration - offset : undefined));
  while (pumping) await pumping;
  await recorder?.close(state.lastEnd ?? offset);
  if (pumpError) throw pumpError;
  return { result, killedByStop, ended, media, stalled };
}


/** How long ffmpeg may take to describe a local file before ffprobe is asked instead. */
const DESCRIBE_TIMEOUT_MS = 10_000;

/**
 * Waits for ffmpeg's description of its input: the facts when the unprobed plan fits them (one
 * video and one audio stream that checkMedia accepts); else what to plan again with, the facts
 * (they were read, the plan did not fit) or 'probe' (no readable description, or one checkMedia
 * refuses: ffprobe's reading then names the problem, as for every other source); 'stopped' when
 * the stream was stopped meanwhile.
 */
async function fitsPlan(session: Decoding, run: StreamRun): Promise<{ accept: MediaInfo } | { replan: MediaInfo | 'probe' } | { stopped: true }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), DESCRIBE_TIMEOUT_MS)));
  const dump = await Promise.race([session.input, timeout]);
  clearTimeout(timer);
  if (run.stop.signal.aborted) return { stopped: true };
  if (!dump) return { replan: 'probe' };
  try {
    checkMedia(dump.info, run.deps.config, run.spec.display);
  } catch (error) {
    if (error instanceof SourceError) return { replan: 'probe' };
    throw error;
  }
  return fits(dump) ? { accept: dump.info } : { replan: dump.info };
}

const fits = (dump: InputDump) => dump.info.video !== undefined && dump.info.audio !== undefined && !dump.attachedPicture;
