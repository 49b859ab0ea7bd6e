// Live streams' recordings: segment files under recordings.dir (written by the stream's ffmpeg)
// and their index in Redis.
//
// Why Redis for the index: every process that needs it already shares Redis (the ingest worker
// that writes segments, the api role that cuts clips, `engram export`, any worker sweeping
// retention), sorted sets answer "segments overlapping this time" directly, and deleting a
// segment from the index is atomic (ZREM tells exactly one sweeper to unlink the file). LanceDB
// would need a single writer; a file per stream would need locking across processes.
//
// Keys (prefix `${prefix}:rec`):
//   :seg               hash   file -> RecordedSegment JSON
//   :s:<stream>        zset   file scored by wallStart (range reads per stream)
//   :all               zset   file scored by wallEnd (oldest first, for age and disk-cap sweeps)
//   :bytes             hash   stream -> bytes on disk
//   :pruned            hash   stream -> latest wallEnd deleted by retention (410 vs 404)
//   :holds:<stream>    zset   hold JSON scored by its until (events keep their segments longer)
//
// Files are addressed by paths relative to the recordings root, confined to it (symlinks too)
// and kept where recording-files.ts says: the local recordings directory, or the shared bucket
// under recordings/ when storage.blobs is s3. A segment is indexed only once it is kept there, so
// every host that lists it can read it.
import { mkdir } from 'node:fs/promises';
import ffmpeg from 'fluent-ffmpeg';
import type { Redis } from 'ioredis';
import { ageCutoff, isHeld, type RecordingHold, type RetentionPolicy } from '../records/recording-retention.js';
import type { RecordedSegment } from '../records/recording.js';
import { confineBlobPath, type ByteRange, type OpenedBlob } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { RecordingFiles, type SharedRecordingStore } from './recording-files.js';

/** Atomically removes a segment from the index; returns its JSON when this caller removed it. */
const REMOVE = `
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return false end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local seg = cjson.decode(json)
redis.call('ZREM', KEYS[3] .. seg.stream, ARGV[1])
redis.call('HINCRBY', KEYS[4], seg.stream, -seg.bytes)
local pruned = tonumber(redis.call('HGET', KEYS[5], seg.stream) or '0')
if tonumber(seg.wallEnd) > pruned then redis.call('HSET', KEYS[5], seg.stream, tostring(seg.wallEnd)) end
return json`;

/** Longest segment the range reads look back for (a camera with keyframes minutes apart). */
const MAX_SEGMENT_MS = 3_600_000;

export interface SweepResult {
  deletedByAge: number;
  deletedByCap: number;
  bytesFreed: number;
}

export class RecordingRepository {
  readonly files: RecordingFiles;
  readonly #redis: Redis;
  readonly #key: string;
  readonly #made = new Set<string>();

  constructor(redis: Redis, prefix: string, files: RecordingFiles) {
    this.#redis = redis;
    this.#key = `${prefix}:rec`;
    this.files = files;
  }

  /** Recordings in a local directory (recordings.dir). */
  static local(redis: Redis, prefix: string, dir: string): RecordingRepository {
    return new RecordingRepository(redis, prefix, new RecordingFiles(new LocalBlobStore(dir)));
  }

  /** Recordings written under `dir` and kept in a shared blob store (storage.blobs s3). */
  static shared(redis: Redis, prefix: string, dir: string, shared: SharedRecordingStore): RecordingRepository {
    return new RecordingRepository(redis, prefix, new RecordingFiles(new LocalBlobStore(dir), shared));
  }

  /** This host's path of a file ffmpeg writes (for ffmpeg); BlobPathError for paths that would leave the store. */
  localPath(file: string): Promise<string> {
    return this.files.local.resolve(file);
  }

  /** The stream's segment directory on this host, created on first use. */
  async streamDir(stream: string): Promise<string> {
    const dir = await this.localPath(stream);
    if (!this.#made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#made.add(dir);
    }
    return dir;
  }

  /** Size of a segment file ffmpeg wrote on this host, or null when it does not exist. */
  async size(file: string): Promise<number | null> {
    return (await this.files.local.stat(file))?.size ?? null;
  }

  /**
   * Seconds of media in a recording file by its timestamps (ffprobe), or null when it has none:
   * a segment cut short by a kill holds more than ingest had decoded when it stopped.
   */
  async mediaSeconds(file: string): Promise<number | null> {
    const path = await this.localPath(file);
    return new Promise((done) => {
      ffmpeg.ffprobe(path, (error: Error | null, data: ffmpeg.FfprobeData) => {
        const seconds = Number(data?.format?.duration);
        done(!error && Number.isFinite(seconds) && seconds > 0 ? seconds : null);
      });
    });
  }

  /** Keeps a finished segment file where every host reads recordings (recording-files.ts), then indexes it. */
  async add(segment: RecordedSegment): Promise<void> {
    confineBlobPath(segment.file);
    await this.files.keep(segment.file);
    const added = await this.#redis
      .multi()
      .hsetnx(`${this.#key}:seg`, segment.file, JSON.stringify(segment))
      .exec();
    // A file is indexed once (a retried flush must not count its bytes twice).
    if (added?.[0]?.[1] !== 1) return;
    await this.#redis
      .multi()
      .zadd(`${this.#key}:s:${segment.stream}`, segment.wallStart, segment.file)
      .zadd(`${this.#key}:all`, segment.wallEnd, segment.file)
      .hincrby(`${this.#key}:bytes`, segment.stream, segment.bytes)
      .exec();
  }

  /** Deletes a file that never made it into the index (an empty trailing segment). */
  async discard(file: string): Promise<void> {
    await this.files.local.delete(file);
  }

  /** The stream's segments overlapping [fromMs, toMs), by wall-clock start. */
  async list(stream: string, fromMs: number, toMs: number): Promise<RecordedSegment[]> {
    const files = await this.#redis.zrangebyscore(`${this.#key}:s:${stream}`, fromMs - MAX_SEGMENT_MS, `(${toMs}`);
    if (files.length === 0) return [];
    const rows = await this.#redis.hmget(`${this.#key}:seg`, ...files);
    return rows
      .filter((r): r is string => r !== null)
      .map((r) => JSON.parse(r) as RecordedSegment)
      .filter((s) => s.wallEnd > fromMs && s.wallStart < toMs);
  }

  /** Recording bytes on disk per stream (streams never recorded are absent). */
  async bytes(): Promise<Record<string, number>> {
    const all = await this.#redis.hgetall(`${this.#key}:bytes`);
    return Object.fromEntries(Object.entries(all).map(([stream, n]) => [stream, Number(n)]));
  }

  /** The latest wall-clock ms retention deleted recording up to, or null if it never did. */
  async prunedUntil(stream: string): Promise<number | null> {
    const value = await this.#redis.hget(`${this.#key}:pruned`, stream);
    return value === null ? null : Number(value);
  }

  /** An event keeps the segments around it until hold.until. */
  async hold(stream: string, hold: RecordingHold): Promise<void> {
    await this.#redis.zadd(`${this.#key}:holds:${stream}`, hold.until, JSON.stringify(hold));
  }

  /** The holds on a stream's recording still in force at `now` (expired ones are dropped). */
  async holds(stream: string, now: number): Promise<RecordingHold[]> {
    const key = `${this.#key}:holds:${stream}`;
    await this.#redis.zremrangebyscore(key, '-inf', now);
    return (await this.#redis.zrangebyscore(key, now, '+inf')).map((j) => JSON.parse(j) as RecordingHold);
  }

  async #remove(file: string): Promise<RecordedSegment | null> {
    const k = this.#key;
    const json = (await this.#redis.eval(REMOVE, 5, `${k}:seg`, `${k}:all`, `${k}:s:`, `${k}:bytes`, `${k}:pruned`, file)) as string | null;
    if (!json) return null;
    // Only the caller that removed the entry unlinks the file.
    await this.files.delete(file).catch(() => undefined);
    return JSON.parse(json) as RecordedSegment;
  }

  /**
   * Deletes segments past retainDays (unless an event holds them), then the oldest segments of
   * any stream while the total is over maxBytes. Safe to run in several processes at once.
   */
  async sweep(now: number, policy: RetentionPolicy): Promise<SweepResult> {
    const result: SweepResult = { deletedByAge: 0, deletedByCap: 0, bytesFreed: 0 };
    const cutoff = ageCutoff(now, policy);
    const holds = new Map<string, RecordingHold[]>();
    for (let offset = 0; ; ) {
      const old = await this.#redis.zrangebyscore(`${this.#key}:all`, '-inf', `(${cutoff}`, 'LIMIT', offset, 200);
      if (old.length === 0) break;
      let kept = 0;
      const rows = await this.#redis.hmget(`${this.#key}:seg`, ...old);
      for (const [i, row] of rows.entries()) {
        const file = old[i]!;
        if (row) {
          const segment = JSON.parse(row) as RecordedSegment;
          if (!holds.has(segment.stream)) holds.set(segment.stream, await this.holds(segment.stream, now));
          if (isHeld(holds.get(segment.stream)!, segment.wallStart, segment.wallEnd, now)) {
            kept += 1;
            continue;
          }
        }
        const removed = await this.#remove(file);
        if (removed) {
          result.deletedByAge += 1;
          result.bytesFreed += removed.bytes;
        } else if (!row) {
          // An :all entry without details: drop it so it is not read again.
          await this.#redis.zrem(`${this.#key}:all`, file);
        }
      }
      offset += kept;
      if (old.length < 200) break;
    }
    if (policy.maxBytes > 0) {
      let total = Object.values(await this.bytes()).reduce((a, b) => a + b, 0);
      while (total > policy.maxBytes) {
        const oldest = await this.#redis.zrange(`${this.#key}:all`, 0, 19);
        if (oldest.length === 0) break;
        for (const file of oldest) {
          if (total <= policy.maxBytes) break;
          const removed = await this.#remove(file);
          if (!removed) {
            await this.#redis.zrem(`${this.#key}:all`, file);
            continue;
          }
          result.deletedByCap += 1;
          result.bytesFreed += removed.bytes;
          total -= removed.bytes;
        }
      }
    }
    return result;
  }

  /** Reads a recording file, whole or a byte range (inclusive end); undefined when it is gone. */
  open(file: string, range?: ByteRange): Promise<OpenedBlob | undefined> {
    return this.files.open(file, range);
  }
}

/** Where cut clips and exports are cached: a blob folder no stream name can be (names start with a letter or digit). */
export const CUTS_FOLDER = '.cuts';
