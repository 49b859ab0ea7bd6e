// The blob store on a local directory (the data directory's blobs/ folder). On top of the shared
// path rule it follows symlinks: a blob, or a folder on its way, that resolves outside the root
// is refused like a `..` path, so a link planted in the folder cannot serve or overwrite /etc.
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, readdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blobContentType, BlobPathError, confineBlobPath, confineBlobPrefix, type BlobInfo, type BlobStore, type ByteRange, type OpenedBlob } from './blob-store.js';

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

let tempCounter = 0;

export class LocalBlobStore implements BlobStore {
  readonly backend = 'local' as const;
  readonly root: string;
  #realRoot: string | undefined;
  readonly #made = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  /** The folder exists (made on first use) and this process may write in it. */
  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  /**
   * The absolute path of a blob, after the shared rule and the symlink rule: the deepest part of
   * the path that exists must resolve inside the root. A blob that does not exist yet is fine.
   */
  async resolve(path: string): Promise<string> {
    const clean = confineBlobPath(path);
    const full = join(this.root, ...clean.split('/'));
    const root = await this.#rootReal();
    let probe = full;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!inside(root, real)) throw new BlobPathError(`blob path "${path}" leads outside the blob store (through a symlink)`);
        return full;
      } catch (error) {
        if (!isMissing(error)) throw error;
        if (probe === this.root) return full;
        probe = dirname(probe);
      }
    }
  }

  async #rootReal(): Promise<string> {
    if (this.#realRoot) return this.#realRoot;
    try {
      this.#realRoot = await realpath(this.root);
    } catch (error) {
      if (!isMissing(error)) throw error;
      return this.root;
    }
    return this.#realRoot;
  }

  async write(path: string, bytes: Uint8Array | Readable): Promise<string> {
    const full = await this.resolve(path);
    const dir = dirname(full);
    if (!this.#made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#made.add(dir);
      // mkdir may have gone through a symlinked folder made since resolve(): check again.
      await this.resolve(path);
    }
    tempCounter += 1;
    const temp = `${full}.${process.pid}.${tempCounter}.tmp`;
    try {
      if (bytes instanceof Readable) await pipeline(bytes, createWriteStream(temp));
      else await writeFile(temp, bytes);
      await rename(temp, full);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return confineBlobPath(path);
  }

  async read(path: string): Promise<Buffer | undefined> {
    const full = await this.resolve(path);
    try {
      return await readFile(full);
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw error;
    }
  }

  async stat(path: string): Promise<BlobInfo | undefined> {
    const full = await this.resolve(path);
    try {
      const info = await stat(full);
      if (!info.isFile()) return undefined;
      return { path: confineBlobPath(path), size: info.size, modifiedAt: info.mtimeMs, contentType: blobContentType(full) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async open(path: string, range?: ByteRange): Promise<OpenedBlob | undefined> {
    const info = await this.stat(path);
    if (!info) return undefined;
    const full = await this.resolve(path);
    const last = info.size - 1;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? last, last);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || (info.size > 0 && start > end) || (info.size === 0 && start > 0)) {
      throw new RangeError(`byte range ${start}-${range?.end ?? ''} is outside blob "${path}" (${info.size} bytes)`);
    }
    // An empty blob has no byte to start at: createReadStream with end -1 reads nothing.
    const stream = createReadStream(full, info.size === 0 ? { start: 0, end: -1 } : { start, end });
    return { stream, size: info.size, contentType: info.contentType, start, end: info.size === 0 ? -1 : end };
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const clean = confineBlobPrefix(prefix);
    // Walk only the folder the prefix names ("cam/2026-" walks cam/), not the whole store.
    const folder = clean.includes('/') ? clean.slice(0, clean.lastIndexOf('/')) : '';
    const start = folder === '' ? this.root : await this.resolve(folder);
    const out: BlobInfo[] = [];
    const root = await this.#rootReal();
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        const rel = relative(this.root, full).split(sep).join('/');
        if (entry.isDirectory()) {
          if (rel.startsWith(clean) || clean.startsWith(`${rel}/`)) await walk(full);
        } else if (entry.isFile() && rel.startsWith(clean) && !rel.endsWith('.tmp')) {
          const info = await stat(full).catch(() => undefined);
          if (info) out.push({ path: rel, size: info.size, modifiedAt: info.mtimeMs, contentType: blobContentType(rel) });
        }
        // Symlinks are not followed: a listing never reaches outside the root.
      }
    };
    if (inside(root, await realpath(start).catch(() => start))) await walk(start);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<boolean> {
    const full = await this.resolve(path);
    try {
      await unlink(full);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
