// One ffmpeg run of a stream: chunks assembled from its frames and audio, stored in order through
// one async pump, counted and handed to perceive, with backpressure (files wait, live drops
// keyframes) and the recording of a live stream riding on the same ffmpeg.
import { ChunkAssembler } from './assembler.js';
import type { Chunk } from '../records/chunk.js';
import { buildDecodePlan } from './decode-plan.js';
import { RunRecorder } from './recorder.js';
import type { MediaInfo } from '../repositories/media-types.js';
import { chunkUnit, type StreamGap } from '../repositories/streams.js';
import type { DecodeResult } from '../repositories/media.js';
import { NEXT_STAGE, sleep, type RunResult, type RunState, type StreamRun } from './stream-run.js';

/** How many chunks of audio a live stream lets pass while its video track delivers nothing. */
const LIVE_MAX_SKEW_CHUNKS = 3;

/**
 * One ffmpeg run from where the stream stands: chunks are assembled, stored in order through one
 * async pump, counted and handed to perceive, with backpressure (files wait, live drops keyframes).
 */
export async function decodeRun(run: StreamRun, state: RunState, info: MediaInfo): Promise<RunResult> {
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
  const recorder = live && deps.recording ? await RunRecorder.start(deps.recording, name, info, { runWall, offset }, log) : undefined;
  const plan = buildDecodePlan(spec, info, { config, ...(live ? {} : { seekS: offset }), ...(recorder ? { record: recorder.plan } : {}) });
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
  let pumping: Promise<void> | undefined;
  let pumpError: unknown;
  let gapRecorded = false;
  const runStarted = Date.now();
  const session = deps.decode(
    plan,
    {
      frame: (f) => assembler.addFrame(f),
      videoEnded: () => assembler.videoEnded(),
      audio: (s) => assembler.addAudio(s),
      ...(recorder ? { segment: (segment) => recorder.finished(segment) } : {}),
    },
    stop.signal,
    config.sceneThreshold,
  );
  const flush = (chunks: Chunk[]) => {
    if (chunks.length === 0) return;
    pending.push(...chunks);
    if (pending.length > 4 && !session.paused) session.pause();
    pumping ??= pump().finally(() => (pumping = undefined));
  };
  const store = async (chunk: Chunk) => {
    if (!gapRecorded && gapBefore) {
      gapRecorded = true;
      await streams.addGap(name, gapBefore);
    }
    let inFlight = await streams.outstanding(name, NEXT_STAGE);
    if (inFlight >= config.maxChunksInFlight) {
      if (live) {
        chunk.droppedKeyframes = chunk.keyframes.length;
        chunk.keyframes = [];
      } else {
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
    }
    await deps.chunks.put(chunk);
    const wallEnd = chunk.wallStart + (chunk.end - chunk.start) * 1000;
    const lagS = live ? Math.max(0, (Date.now() - runStarted) / 1000 - (chunk.end - offset)) : 0;
    await streams.recordChunk(
      name,
      { seq: chunk.seq, end: chunk.end, wallEnd, keyframes: chunk.keyframes.length, droppedKeyframes: chunk.droppedKeyframes, lagS, ...(chunk.final ? { final: true } : {}) },
      NEXT_STAGE,
      chunkUnit(runtime0.jobId, chunk.seq),
    );
    await deps.enqueuePerceive(name, chunk.seq, runtime0.jobId);
    state.nextSeq = chunk.seq + 1;
    state.lastEnd = chunk.end;
    state.lastWallEnd = wallEnd;
  };
  const pump = async () => {
    try {
      while (pending.length > 0) {
        const chunk = pending.shift()!;
        if (stop.signal.aborted) {
          pending.length = 0;
          break;
        }
        await store(chunk);
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
  if (killedByStop) flush(assembler.take());
  else flush(assembler.finish(!live && ended, info.duration !== undefined ? info.duration - offset : undefined));
  while (pumping) await pumping;
  await recorder?.close(state.lastEnd ?? offset);
  if (pumpError) throw pumpError;
  return { result, killedByStop, ended, media, stalled };
}

