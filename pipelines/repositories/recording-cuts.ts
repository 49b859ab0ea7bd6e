// Cuts a planned range (cut-plan.ts) out of recorded segments into an MP4 file, by stream copy:
// no frame is re-encoded. The copy starts at the keyframe that opens the first segment, and the
// MP4 carries an edit list that starts playback at the requested instant, so the clip plays (and
// ffprobe measures) the requested span with every frame of it, at the cost of a file copy (up to
// one segment of media before the instant is stored but not shown) rather than an encode.
//
// The result is a file, not a pipe, because browsers seek with range requests: they need a length
// and the same bytes each time. Files are cached by what they contain and removed after
// recordings.clipCacheSeconds. They are kept beside the segments (recording-files.ts): in the
// shared bucket with storage.blobs s3, so any API host serves a cut another host made, and the
// range requests of one browser may land on different hosts.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ffmpeg from 'fluent-ffmpeg';
import { EngramError } from '../../config/errors.js';
import type { CutPlan } from '../records/cut-plan.js';
import type { RecordedSegment } from '../records/recording.js';
import { CUTS_FOLDER, type RecordingRepository } from './recordings.js';

/** What exporting a range of a recording needs (pipelines/recordings/export-range.ts takes it). */
export interface ExportPorts {
  list(stream: string, fromMs: number, toMs: number): Promise<RecordedSegment[]>;
  prunedUntil(stream: string): Promise<number | null>;
  cut(plan: CutPlan, signal?: AbortSignal): Promise<{ path: string; size: number }>;
  read(cut: { path: string; size: number }, range?: { start: number; end: number }): Promise<Readable>;
}

export interface CutFile {
  /** Blob path in the recordings store (under CUTS_FOLDER). */
  path: string;
  size: number;
}

export class RecordingCutter {
  readonly #recordings: RecordingRepository;

  constructor(recordings: RecordingRepository) {
    this.#recordings = recordings;
  }

  /** Cuts the plan into an MP4 (or reuses the cached one); rejects with EngramError naming ffmpeg's complaint. */
  async cut(plan: CutPlan, signal?: AbortSignal): Promise<CutFile> {
    const key = createHash('sha1').update(JSON.stringify([plan.files, plan.seekS.toFixed(3), plan.durationS.toFixed(3)])).digest('hex').slice(0, 24);
    const blob = `${CUTS_FOLDER}/${key}.mp4`;
    const files = this.#recordings.files;
    const cached = await files.stat(blob);
    if (cached) return { path: blob, size: cached.size };
    const out = await this.#recordings.localPath(blob);
    await this.#recordings.streamDir(CUTS_FOLDER);
    const temp = `${out}.${randomBytes(4).toString('hex')}`;
    const list = `${temp}.ffconcat`;
    // Durations from the index keep the concatenation's timeline equal to the plan's arithmetic.
    const lines = ['ffconcat version 1.0'];
    let size = 0;
    try {
      for (const f of plan.files) {
        const input = await files.input(f.file);
        // Swept by retention between the listing and now.
        if (input === undefined) throw new EngramError(`recording segment ${f.file} was deleted while the cut was being made; ask again`);
        lines.push(`file '${input}'`, `duration ${f.seconds.toFixed(6)}`);
      }
      await writeFile(list, `${lines.join('\n')}\n`);
      await new Promise<void>((resolvePromise, reject) => {
        let stderr = '';
        const command = ffmpeg()
          .input(list)
          .inputOptions(['-f', 'concat', '-safe', '0'])
          // No input seek: concat and MPEG-TS seeking land on the next keyframe, losing up to a
          // keyframe interval of picture. Instead the copy starts at the first segment's start
          // (a keyframe) and is shifted back by seekS: what comes before the requested instant
          // has negative times, and the MP4 muxer turns that into an edit list.
          .outputOptions([
            '-t', (plan.seekS + plan.durationS).toFixed(3),
            '-output_ts_offset', (-plan.seekS).toFixed(3),
            '-avoid_negative_ts', 'disabled',
            '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4',
          ])
          .output(temp);
        const onAbort = () => command.kill('SIGKILL');
        signal?.addEventListener('abort', onAbort, { once: true });
        command.on('stderr', (line: string) => {
          stderr = `${stderr}\n${line}`.slice(-2000);
        });
        command.on('error', (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
          reject(new EngramError(signal?.aborted ? 'cut cancelled' : `ffmpeg could not cut the recording: ${last || error.message}`));
        });
        command.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          resolvePromise();
        });
        command.run();
      });
      // Its size before it is moved: another request for the same cut may upload and remove it.
      size = (await stat(temp)).size;
      await rename(temp, out);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    } finally {
      await unlink(list).catch(() => undefined);
    }
    await files.keep(blob);
    return { path: blob, size };
  }

  /** Reads a cut file, whole or a byte range (inclusive end). */
  async read(cut: CutFile, range?: { start: number; end: number }): Promise<Readable> {
    const opened = await this.#recordings.open(cut.path, range);
    // Swept between the cut and this read (it lived past recordings.clipCacheSeconds).
    if (!opened) throw new EngramError(`the cut ${cut.path} expired from the cache; ask again`);
    return opened.stream;
  }

  /** Copies a cut to where the user asked (engram export -o FILE); replaces an existing file. */
  async saveAs(cut: CutFile, dest: string): Promise<void> {
    const info = await stat(dest).catch(() => null);
    if (info?.isDirectory()) throw new EngramError(`${dest} is a directory; give a file name like ${join(dest, 'export.mp4')}`, { exitCode: 2 });
    const source = await this.read(cut);
    try {
      await pipeline(source, createWriteStream(dest));
    } catch (error) {
      throw new EngramError(`cannot write ${dest}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  /** What exportRange needs, from this cutter and its recordings. */
  ports(): ExportPorts {
    const recordings = this.#recordings;
    return {
      list: (stream, fromMs, toMs) => recordings.list(stream, fromMs, toMs),
      prunedUntil: (stream) => recordings.prunedUntil(stream),
      cut: (plan, signal) => this.cut(plan, signal),
      read: (cut, range) => this.read(cut, range),
    };
  }

  /** Removes cached cuts older than maxAgeMs. */
  async sweep(now: number, maxAgeMs: number): Promise<number> {
    let removed = 0;
    for (const blob of await this.#recordings.files.list(`${CUTS_FOLDER}/`)) {
      if (now - blob.modifiedAt > maxAgeMs && (await this.#recordings.files.delete(blob.path))) removed += 1;
    }
    return removed;
  }
}
