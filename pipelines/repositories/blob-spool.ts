// Local copies of object-storage blobs for ffmpeg, which cuts clips from files: a blob is
// downloaded once into the spool folder and reused while its size matches; past maxBytes the
// least recently used copies are deleted. Concurrent requests for one blob share one download.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore } from './blob-store.js';

export class BlobSpool {
  readonly #blobs: BlobStore;
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(blobs: BlobStore, dir: string, maxBytes: number) {
    this.#blobs = blobs;
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** A local file with the blob's bytes, or undefined when the blob does not exist. */
  async localPath(blob: string): Promise<string | undefined> {
    const info = await this.#blobs.stat(blob);
    if (!info) return undefined;
    const key = `${info.path}:${info.size}`;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#fetch(info).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #fetch(info: BlobInfo): Promise<string> {
    // Named by a hash of the blob path, with its extension kept: ffmpeg guesses formats by it.
    const name = `${createHash('sha256').update(info.path).digest('hex').slice(0, 32)}${extname(info.path)}`;
    const file = join(this.#dir, name);
    const have = await stat(file).catch(() => undefined);
    if (have && have.size === info.size) {
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      return file;
    }
    await mkdir(this.#dir, { recursive: true });
    const opened = await this.#blobs.open(info.path);
    if (!opened) throw new Error(`blob ${info.path} disappeared while it was being spooled`);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      await pipeline(opened.stream, createWriteStream(temp));
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await this.#evict(file);
    return file;
  }

  /** Deletes the least recently used copies until the spool fits maxBytes (never `keep`). */
  async #evict(keep: string): Promise<void> {
    const entries = await readdir(this.#dir).catch(() => [] as string[]);
    const files = (
      await Promise.all(entries.filter((e) => !e.endsWith('.tmp')).map(async (e) => ({ path: join(this.#dir, e), info: await stat(join(this.#dir, e)).catch(() => undefined) })))
    ).filter((x): x is { path: string; info: NonNullable<typeof x.info> } => x.info !== undefined && x.info.isFile());
    let total = files.reduce((sum, x) => sum + x.info.size, 0);
    for (const x of files.sort((a, b) => a.info.mtimeMs - b.info.mtimeMs)) {
      if (total <= this.#maxBytes) break;
      if (x.path === keep) continue;
      await unlink(x.path).catch(() => undefined);
      total -= x.info.size;
    }
  }
}
