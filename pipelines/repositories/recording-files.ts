// Where recording files (segments of live streams, cut clips) live. ffmpeg needs local paths, so
// it always writes into this host's recordings folder. With storage.blobs local the files stay
// there. With storage.blobs s3 a file ffmpeg has finished is uploaded to the shared bucket under
// recordings/ and its local copy deleted, so the ingest host's disk holds only the segment being
// written; every host reads files from the bucket, spooling them locally when ffmpeg needs them.
//
// A segment still being written is never uploaded: S3 objects cannot be appended to, and
// re-uploading a growing file every few seconds would multiply the traffic for the last ten
// seconds of a stream. Readers on other hosts see a stream's recording up to its last closed
// segment, which is also what the recording index (recordings.ts) lists on the ingest host itself.
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { EngramError } from '../../config/errors.js';
import type { BlobSpool } from './blob-spool.js';
import type { BlobInfo, BlobStore, ByteRange, OpenedBlob } from './blob-store.js';
import type { LocalBlobStore } from './local-blob-store.js';

/** Key prefix of recording files in a shared blob store. */
export const RECORDINGS_BLOB_PREFIX = 'recordings/';

/** The shared store recording files go to, and the spool that gives ffmpeg local copies of them. */
export interface SharedRecordingStore {
  store: BlobStore;
  spool: BlobSpool;
}

export class RecordingFiles {
  /** This host's recordings folder: ffmpeg writes segments and cuts here. */
  readonly local: LocalBlobStore;
  readonly #shared: SharedRecordingStore | undefined;

  constructor(local: LocalBlobStore, shared?: SharedRecordingStore) {
    this.local = local;
    this.#shared = shared;
  }

  /** Where finished files are, for logs and errors. */
  get location(): string {
    return this.#shared ? `${this.#shared.store.location}${RECORDINGS_BLOB_PREFIX}` : this.local.location;
  }

  /**
   * A file ffmpeg finished writing under the local folder becomes readable from every host: on
   * the shared store it is uploaded and the local copy removed (also when the upload fails: a
   * bucket that is down must not fill the ingest host's disk; the index never lists that file,
   * so exports report its time as a gap). Nothing to do with a local store.
   */
  async keep(file: string): Promise<void> {
    if (!this.#shared) return;
    const path = await this.local.resolve(file);
    const local = await stat(path).catch(() => undefined);
    if (!local) {
      // Already uploaded (a retried add): the object is there.
      if (await this.#shared.store.stat(this.#key(file))) return;
      throw new EngramError(`recording file ${file} is neither in ${this.local.location} nor in ${this.location}`);
    }
    try {
      await this.#shared.store.write(this.#key(file), createReadStream(path));
    } finally {
      await unlink(path).catch(() => undefined);
    }
  }

  /** A local path with the file's bytes for ffmpeg to read; undefined when the file is gone. */
  async input(file: string): Promise<string | undefined> {
    if (!this.#shared) {
      const path = await this.local.resolve(file);
      return (await stat(path).catch(() => undefined))?.isFile() ? path : undefined;
    }
    return this.#shared.spool.localPath(this.#key(file));
  }

  stat(file: string): Promise<BlobInfo | undefined> {
    return this.#shared ? this.#shared.store.stat(this.#key(file)).then((info) => info && { ...info, path: file }) : this.local.stat(file);
  }

  open(file: string, range?: ByteRange): Promise<OpenedBlob | undefined> {
    return this.#shared ? this.#shared.store.open(this.#key(file), range) : this.local.open(file, range);
  }

  /** Finished files whose path starts with `prefix`, with paths relative to the recordings root. */
  async list(prefix: string): Promise<BlobInfo[]> {
    if (!this.#shared) return this.local.list(prefix);
    const found = await this.#shared.store.list(this.#key(prefix));
    return found.map((info) => ({ ...info, path: info.path.slice(RECORDINGS_BLOB_PREFIX.length) }));
  }

  /** Deletes a finished file (and any local copy left behind); true when one was removed. */
  async delete(file: string): Promise<boolean> {
    const local = await this.local.delete(file);
    return this.#shared ? (await this.#shared.store.delete(this.#key(file))) || local : local;
  }

  #key(file: string): string {
    return `${RECORDINGS_BLOB_PREFIX}${file}`;
  }
}
