// Blob files long-term memory refers to (keyframe thumbnails under paths.blobsDir): read as data
// URLs for vision models, and deleted when retention prunes the moments that used them.
import { readFile, unlink } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';

export class MemoryBlobs {
  readonly dir: string;

  constructor(blobsDir: string) {
    this.dir = resolve(blobsDir);
  }

  /** Absolute path of a blob; undefined for a path that would leave the blobs directory. */
  resolve(blobPath: string): string | undefined {
    if (!blobPath || isAbsolute(blobPath) || blobPath.includes('\0')) return undefined;
    const full = resolve(this.dir, blobPath);
    const rel = relative(this.dir, full);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? full : undefined;
  }

  /** The blob as a data URL, or undefined when it is missing. */
  async dataUrl(blobPath: string): Promise<string | undefined> {
    const full = this.resolve(blobPath);
    if (!full) return undefined;
    try {
      const bytes = await readFile(full);
      const ext = extname(full).toLowerCase();
      const mime = ext === '.png' ? 'image/png' : ext === '.webp' ? 'image/webp' : 'image/jpeg';
      return `data:${mime};base64,${bytes.toString('base64')}`;
    } catch {
      return undefined;
    }
  }

  /** Deletes blobs; a missing file counts as deleted. Returns how many were removed. */
  async deleteMany(blobPaths: readonly string[]): Promise<number> {
    let removed = 0;
    for (const p of blobPaths) {
      const full = this.resolve(p);
      if (!full) continue;
      try {
        await unlink(full);
        removed += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return removed;
  }
}
