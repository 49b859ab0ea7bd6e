// The streams engram ingests: definition, live state, counters, gaps and per-stage progress, in
// Redis so every process (CLI, API, any ingest worker) sees the same picture. Adding a stream
// enqueues its one long-running ingest job; stopping it sets a flag the job polls.
//
// Progress ("fully processed by the roles that exist"): each stage that receives work for a
// stream from the stage before it has a counter of outstanding units, keyed by the role name
// that does the work (Role.Perceive, Role.Segment, ...). Every unit has an identity and is
// counted through stageTrack/stageSettle, which count each id at most once up and at most once
// down, in either order (a settle that arrives before its track leaves a tombstone that makes
// the late track a no-op). So a worker killed at any moment, a retried or duplicated job, or a
// re-run whose input is gone cannot push a counter below zero or leave it stuck above:
//   - ingest tracks each chunk on Role.Perceive (id: the perceive job id, in recordChunk), and
//     the stream's end on Role.Segment (id END_UNIT) with its final chunk;
//   - perceive settles the chunk whatever the outcome and tracks the record it appended on
//     Role.Segment (id: the sequence number);
//   - segment settles each record it consumed or skipped as late, the end once the segmenter has
//     closed the stream, and tracks each closed event on Role.Consolidate;
//   - consolidate settles the event when it is stored, merged or given up.
// waitUntilProcessed(stream, { stages }) resolves once ingest has ended (a terminal state) and
// every listed stage's counter is back to zero; callers list only the roles that are built.
import type { Redis } from 'ioredis';
import { EngramError } from '../../config/errors.js';
import { chunkUnit, ingestStream } from '../follow-ups.js';
import { JobName, Role } from '../jobs.js';
import type { Gap } from '../records/chunk.js';
import { redactUrl } from '../records/source.js';
import { liveChannel, LiveType, type LiveMessage } from './live.js';
import type { QueueRepository } from './queue.js';
import { sendChunkWrite, type ChunkWrite } from './chunk-store.js';

/** A stream of that name is already being ingested (the API answers 409 Conflict). */
export class StreamExistsError extends EngramError {
  override readonly name = 'StreamExistsError';
}

/**
 * Counts units of work by id (see the module comment). KEYS: pending set, progress hash,
 * settled zset (tombstones scored by settle time). ARGV: stage, 1 (track) or -1 (settle), now
 * ms, tombstone lifetime ms, ids... Returns how far the counter moved.
 */
const TRACK = `
local moved = 0
local up = ARGV[2] == '1'
for i = 5, #ARGV do
  local id = ARGV[i]
  if up then
    if not redis.call('ZSCORE', KEYS[3], id) and redis.call('SADD', KEYS[1], id) == 1 then moved = moved + 1 end
  else
    redis.call('ZADD', KEYS[3], ARGV[3], id)
    if redis.call('SREM', KEYS[1], id) == 1 then moved = moved - 1 end
  end
end
if moved ~= 0 then redis.call('HINCRBY', KEYS[2], ARGV[1], moved) end
if not up then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[4])) end
return moved`;

/**
 * How long a settled id is remembered: a track arriving later than this after its settle would
 * count again. A day covers any retry, stall or outage a job can live through.
 */
const TOMBSTONE_MS = 24 * 3600 * 1000;

/** The unit ingest tracks on Role.Segment with a stream's final chunk; segment settles it when the segmenter has closed the stream. */
export const END_UNIT = 'end';

// The unit of perceive work for one chunk is its perceive job id, so the follow-ups table owns it.
export { chunkUnit };

/** The stages whose work is counted per unit (ingest is the producer, api does no queued work). */
const STAGES: readonly string[] = [Role.Perceive, Role.Segment, Role.Consolidate];

export type StreamState = 'starting' | 'running' | 'reconnecting' | 'waiting' | 'done' | 'failed' | 'stopped';
export const TERMINAL_STATES: readonly StreamState[] = ['done', 'failed', 'stopped'];

export interface StreamGap extends Gap {
  /** reconnect, stall, takeover, ... */
  reason: string;
}

export interface StreamDef {
  name: string;
  source: string;
  /** Force live handling (drop frames instead of waiting, reconnect); unset: decided by probing. */
  live?: boolean;
}

export interface StreamInfo {
  name: string;
  /** The source with any password replaced by ***. */
  source: string;
  state: StreamState;
  live: boolean | null;
  /** Stream seconds processed so far. */
  mediaTime: number;
  /** Seconds behind real time (live sources). */
  lagS: number;
  /** Media duration from probing (finite sources). */
  durationS: number | null;
  chunks: number;
  keyframes: number;
  droppedFrames: number;
  gaps: StreamGap[];
  error: string | null;
  startedAt: number;
  updatedAt: number;
  endedAt: number | null;
  /** Outstanding work per stage (see the module comment). */
  progress: Record<string, number>;
}

/** What the ingest job needs beyond StreamInfo: the raw source and its checkpoint. */
export interface StreamRuntime {
  source: string;
  state: StreamState;
  liveRequested: boolean | undefined;
  jobId: string;
  stopRequested: boolean;
  /** The final chunk of a finite source is stored: only marking the stream done is left. */
  finished: boolean;
  /** Next chunk sequence number and where the last chunk ended (stream s, epoch ms). */
  nextSeq: number;
  lastEnd: number | null;
  lastWallEnd: number | null;
  /** Epoch ms of stream time 0. */
  wallOrigin: number | null;
}

export interface ChunkProgress {
  seq: number;
  /** The stream's last chunk (a finite source decoded to its end). */
  final?: boolean;
  end: number;
  wallEnd: number;
  keyframes: number;
  droppedKeyframes: number;
  lagS: number;
}

const num = (value: string | undefined, fallback = 0) => (value === undefined || value === '' ? fallback : Number(value));
const optNum = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));

export class StreamRepository {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #queues: QueueRepository | undefined;

  /** queues may be omitted by readers that never add streams. */
  constructor(redis: Redis, prefix: string, queues?: QueueRepository) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#queues = queues;
  }

  #key(name: string, part = ''): string {
    return `${this.#prefix}:stream:${name}${part ? `:${part}` : ''}`;
  }

  /** The pending and settled sets of every stage of a stream (forgotten with each new run). */
  #unitKeys(name: string): string[] {
    return STAGES.flatMap((stage) => [this.#key(name, `pending-${stage}`), this.#key(name, `settled-${stage}`)]);
  }

  get #index(): string {
    return `${this.#prefix}:streams`;
  }

  /**
   * Adds (or re-adds a finished) stream and enqueues its ingest job. Refuses a running one. With
   * holdMs the job is enqueued delayed by that long: the caller runs the stream itself and renews
   * the hold (holdJob), so workers get the job only if the caller goes away.
   */
  async add(def: StreamDef, options: { holdMs?: number } = {}): Promise<StreamInfo> {
    if (!this.#queues) throw new Error('StreamRepository.add needs a QueueRepository');
    const existing = await this.get(def.name);
    if (existing && !TERMINAL_STATES.includes(existing.state)) {
      throw new StreamExistsError(`stream "${def.name}" already exists and is ${existing.state}; stop it first (engram streams stop ${def.name})`);
    }
    const now = Date.now();
    const jobId = `${def.name}-${now.toString(36)}`;
    await this.#redis
      .multi()
      .del(this.#key(def.name), this.#key(def.name, 'gaps'), this.#key(def.name, 'progress'), ...this.#unitKeys(def.name))
      .hset(this.#key(def.name), {
        name: def.name,
        source: def.source,
        display: redactUrl(def.source),
        liveRequested: def.live === undefined ? '' : def.live ? '1' : '0',
        live: '',
        state: 'starting',
        mediaTime: 0,
        lagS: 0,
        chunks: 0,
        keyframes: 0,
        droppedFrames: 0,
        error: '',
        startedAt: now,
        updatedAt: now,
        jobId,
        nextSeq: 0,
      })
      .zadd(this.#index, now, def.name)
      .exec();
    await this.#queues.addFollowUp(ingestStream(def.name, jobId, options.holdMs));
    return (await this.get(def.name))!;
  }

  /** Renews the hold on a stream's ingest job (see add); false when the job is gone or running. */
  async holdJob(jobId: string, holdMs: number): Promise<boolean> {
    if (!this.#queues) throw new Error('StreamRepository.holdJob needs a QueueRepository');
    return this.#queues.postpone(JobName.IngestStream, jobId, holdMs);
  }

  /** Removes a held ingest job once its holder has run the stream to the end. */
  async releaseJob(jobId: string): Promise<void> {
    if (!this.#queues) throw new Error('StreamRepository.releaseJob needs a QueueRepository');
    await this.#queues.remove(JobName.IngestStream, jobId);
  }

  async get(name: string): Promise<StreamInfo | undefined> {
    const [[, hash], [, gaps], [, progress]] = (await this.#redis
      .multi()
      .hgetall(this.#key(name))
      .lrange(this.#key(name, 'gaps'), 0, -1)
      .hgetall(this.#key(name, 'progress'))
      .exec()) as [[null, Record<string, string>], [null, string[]], [null, Record<string, string>]];
    if (!hash || !hash.name) return undefined;
    return {
      name: hash.name,
      source: hash.display ?? '',
      state: (hash.state ?? 'starting') as StreamState,
      live: hash.live === '1' ? true : hash.live === '0' ? false : null,
      mediaTime: num(hash.mediaTime),
      lagS: num(hash.lagS),
      durationS: optNum(hash.durationS),
      chunks: num(hash.chunks),
      keyframes: num(hash.keyframes),
      droppedFrames: num(hash.droppedFrames),
      gaps: gaps.map((g) => JSON.parse(g) as StreamGap),
      error: hash.error ? hash.error : null,
      startedAt: num(hash.startedAt),
      updatedAt: num(hash.updatedAt),
      endedAt: optNum(hash.endedAt),
      progress: Object.fromEntries(Object.entries(progress ?? {}).map(([k, v]) => [k, Number(v)])),
    };
  }

  async list(): Promise<StreamInfo[]> {
    const names = await this.#redis.zrange(this.#index, 0, -1);
    const infos = await Promise.all(names.map((name) => this.get(name)));
    return infos.filter((info): info is StreamInfo => info !== undefined);
  }

  /** Asks the stream's ingest job to stop; a stream no worker has started yet stops at once. */
  async stop(name: string): Promise<StreamInfo> {
    const info = await this.get(name);
    if (!info) throw new EngramError(`no stream named "${name}"`);
    if (TERMINAL_STATES.includes(info.state)) return info;
    await this.#redis.hset(this.#key(name), { stop: '1', updatedAt: Date.now() });
    if (info.state === 'starting' || info.state === 'waiting') await this.setState(name, 'stopped');
    return (await this.get(name))!;
  }

  /** Forgets a stream (stopping it first); its chunks expire by their TTL. */
  async remove(name: string): Promise<void> {
    const info = await this.get(name);
    if (info && !TERMINAL_STATES.includes(info.state)) await this.stop(name);
    await this.#redis.multi().del(this.#key(name), this.#key(name, 'gaps'), this.#key(name, 'progress'), ...this.#unitKeys(name)).zrem(this.#index, name).exec();
  }

  // ---- used by the ingest job ----

  async runtime(name: string): Promise<StreamRuntime | undefined> {
    const hash = await this.#redis.hgetall(this.#key(name));
    if (!hash.name) return undefined;
    return {
      source: hash.source ?? '',
      state: (hash.state ?? 'starting') as StreamState,
      liveRequested: hash.liveRequested === '1' ? true : hash.liveRequested === '0' ? false : undefined,
      jobId: hash.jobId ?? '',
      stopRequested: hash.stop === '1',
      finished: hash.finished === '1',
      nextSeq: num(hash.nextSeq),
      lastEnd: optNum(hash.lastEnd),
      lastWallEnd: optNum(hash.lastWallEnd),
      wallOrigin: optNum(hash.wallOrigin),
    };
  }

  async stopRequested(name: string): Promise<boolean> {
    return (await this.#redis.hget(this.#key(name), 'stop')) === '1';
  }

  async update(name: string, fields: Record<string, string | number>): Promise<void> {
    await this.#redis.hset(this.#key(name), { ...fields, updatedAt: Date.now() });
  }

  async setState(name: string, state: StreamState, error?: string): Promise<void> {
    const fields: Record<string, string | number> = { state, updatedAt: Date.now() };
    if (error !== undefined) fields.error = error;
    if (TERMINAL_STATES.includes(state)) fields.endedAt = Date.now();
    await this.#redis.hset(this.#key(name), fields);
    await this.#announce(name);
  }

  /** Tells live listeners (the API's /api/live, the web UI) about a state change; best effort. */
  async #announce(name: string): Promise<void> {
    try {
      const info = await this.get(name);
      if (!info) return;
      const message: LiveMessage = {
        type: LiveType.Stream,
        stream: name,
        state: info.state,
        lagS: info.lagS,
        droppedFrames: info.droppedFrames,
        gaps: info.gaps.length,
        ...(info.error ? { message: info.error } : {}),
      };
      await this.#redis.publish(liveChannel(this.#prefix), JSON.stringify(message));
    } catch {
      // A notification nobody hears is fine; the state itself is stored above.
    }
  }

  /**
   * Checkpoint after chunks are stored: counters, resume point, and one unit of work for perceive
   * per chunk (ids `units`, the perceive job ids), all in one transaction, so the resume point
   * never passes a chunk that is not owed to perceive. The final chunk also tracks the stream's
   * end on segment. With `stores`, the chunks' bytes are sent just before the checkpoint, in the
   * same round trip (Redis runs them in order; outside the transaction, see sendChunkWrite).
   * Chunks are in order, `units` and `stores` one per chunk. Returns the work now outstanding on
   * nextStage.
   */
  async recordChunks(name: string, chunks: readonly ChunkProgress[], nextStage: string, units: readonly string[], stores: readonly ChunkWrite[] = []): Promise<number> {
    const last = chunks[chunks.length - 1];
    if (!last) throw new Error(`recording chunks of ${name}: none given`);
    const stored = stores.flatMap((store) => sendChunkWrite(this.#redis, store));
    const sum = (pick: (chunk: ChunkProgress) => number) => chunks.reduce((total, chunk) => total + pick(chunk), 0);
    const multi = this.#redis.multi();
    multi
      .hset(this.#key(name), {
        nextSeq: last.seq + 1,
        lastEnd: last.end,
        lastWallEnd: last.wallEnd,
        mediaTime: last.end,
        lagS: last.lagS,
        updatedAt: Date.now(),
      })
      .hincrby(this.#key(name), 'chunks', chunks.length)
      .hincrby(this.#key(name), 'keyframes', sum((c) => c.keyframes))
      .hincrby(this.#key(name), 'droppedFrames', sum((c) => c.droppedKeyframes));
    const final = chunks.some((chunk) => chunk.final);
    // A worker that takes the stream over after this must not decode past the end again.
    if (final) multi.hset(this.#key(name), { finished: '1' });
    if (final) multi.eval(TRACK, 3, ...this.#unitArgs(name, Role.Segment, 1, [END_UNIT]));
    const checkpoint = multi.eval(TRACK, 3, ...this.#unitArgs(name, nextStage, 1, [...units])).hget(this.#key(name, 'progress'), nextStage).exec();
    const [results] = await Promise.all([checkpoint, ...stored]);
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error(`recording chunks ${chunks[0]!.seq}-${last.seq} of ${name}: transaction aborted`);
    return num((results[results.length - 1]?.[1] as string | null) ?? undefined);
  }

  async addGap(name: string, gap: StreamGap): Promise<void> {
    await this.#redis.multi().rpush(this.#key(name, 'gaps'), JSON.stringify(gap)).ltrim(this.#key(name, 'gaps'), -1000, -1).exec();
  }

  /**
   * Outstanding work that has an identity: counted once however often it is announced, and
   * uncounted once however often it is settled, in either order (see the module comment).
   * Returns how far the stage's counter moved.
   */
  async stageTrack(stream: string, stage: string, ...ids: string[]): Promise<number> {
    return this.#units(stream, stage, 1, ids);
  }

  async stageSettle(stream: string, stage: string, ...ids: string[]): Promise<number> {
    return this.#units(stream, stage, -1, ids);
  }

  async #units(stream: string, stage: string, direction: 1 | -1, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.#redis.eval(TRACK, 3, ...this.#unitArgs(stream, stage, direction, ids)));
  }

  #unitArgs(stream: string, stage: string, direction: 1 | -1, ids: string[]): string[] {
    const keys = [this.#key(stream, `pending-${stage}`), this.#key(stream, 'progress'), this.#key(stream, `settled-${stage}`)];
    return [...keys, stage, String(direction), String(Date.now()), String(TOMBSTONE_MS), ...ids];
  }

  /** The units of work of a stage that are tracked and not settled yet. */
  async pendingUnits(stream: string, stage: string): Promise<string[]> {
    return this.#redis.smembers(this.#key(stream, `pending-${stage}`));
  }

  /** Whether a unit of work is tracked and not settled yet. */
  async isPending(stream: string, stage: string, id: string): Promise<boolean> {
    return (await this.#redis.sismember(this.#key(stream, `pending-${stage}`), id)) === 1;
  }

  /** Outstanding work of one stage for one stream changes by delta (see the module comment). */
  async stageProgress(stream: string, stage: string, delta: number): Promise<number> {
    return this.#redis.hincrby(this.#key(stream, 'progress'), stage, delta);
  }

  async outstanding(stream: string, stage: string): Promise<number> {
    return num((await this.#redis.hget(this.#key(stream, 'progress'), stage)) ?? undefined);
  }

  /**
   * Resolves with the stream's final info once ingest has ended and each of `stages` has no
   * outstanding work for it. Polls (cheap hash reads) so it needs no extra connection mode.
   */
  async waitUntilProcessed(stream: string, options: { signal?: AbortSignal; stages?: readonly string[]; pollMs?: number } = {}): Promise<StreamInfo> {
    const stages = options.stages ?? [];
    for (;;) {
      options.signal?.throwIfAborted();
      const info = await this.get(stream);
      if (!info) throw new EngramError(`no stream named "${stream}"`);
      if (TERMINAL_STATES.includes(info.state) && stages.every((stage) => (info.progress[stage] ?? 0) <= 0)) return info;
      await new Promise<void>((resolve) => {
        const signal = options.signal;
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, options.pollMs ?? 200);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
