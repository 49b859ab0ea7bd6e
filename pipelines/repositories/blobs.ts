// Blobs on disk under the data directory's blobs/ folder: keyframe thumbnails (and later evidence
// clips). Records and events refer to blobs by a path relative to that folder, so the data
// directory can move without rewriting them.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

export class BlobStore {
  readonly root: string;
  readonly #made = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Absolute path of a blob; refuses paths that would leave the blobs folder. */
  resolve(blobPath: string): string {
    const full = resolve(this.root, blobPath);
    const rel = relative(this.root, full);
    if (!blobPath || isAbsolute(blobPath) || !rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`blob path "${blobPath}" is not inside the blobs folder`);
    return full;
  }

  /** Writes atomically (temp file, then rename), so a reader never sees half a JPEG. */
  async write(blobPath: string, bytes: Uint8Array): Promise<string> {
    const path = this.resolve(blobPath);
    const dir = dirname(path);
    if (!this.#made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#made.add(dir);
    }
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, path);
    return blobPath;
  }

  async read(blobPath: string): Promise<Buffer> {
    return readFile(this.resolve(blobPath));
  }

  /**
   * Thumbnail path of a keyframe: by stream, then UTC day, named by wall-clock ms, so a re-ingested
   * stream never overwrites the thumbnails older events point to.
   */
  static thumbnailPath(stream: string, wallMs: number): string {
    const day = new Date(wallMs).toISOString().slice(0, 10);
    return `${stream}/${day}/${Math.round(wallMs)}.jpg`;
  }

  async saveThumbnail(stream: string, wallMs: number, jpeg: Uint8Array): Promise<string> {
    return this.write(BlobStore.thumbnailPath(stream, wallMs), jpeg);
  }
}
