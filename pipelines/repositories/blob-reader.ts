// Reads blobs (thumbnails, clips) from the data directory for the API. Paths come from stored
// records, but are still confined to the blobs directory so a bad record cannot serve /etc/passwd.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.mp4': 'video/mp4',
};

export interface BlobFile {
  stream: Readable;
  size: number;
  contentType: string;
}

export class BlobReader {
  readonly #dir: string;

  constructor(blobsDir: string) {
    this.#dir = resolve(blobsDir);
  }

  /** The absolute path of a blob, or null when the reference points outside the blobs directory. */
  resolve(ref: string): string | null {
    const path = resolve(this.#dir, ref);
    const rel = relative(this.#dir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
    return path;
  }

  /** Opens a blob for reading; null when it is missing or not inside the blobs directory. */
  async open(ref: string): Promise<BlobFile | null> {
    const path = this.resolve(ref);
    if (!path) return null;
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      return { stream: createReadStream(path), size: info.size, contentType: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream' };
    } catch {
      return null;
    }
  }
}
