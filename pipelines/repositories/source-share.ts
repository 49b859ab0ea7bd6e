// Copies a file source into the blob store, so hosts that cannot read the ingest host's file
// (the API cutting an event's clip) find its bytes in the shared object storage. Skipped when
// the same number of bytes is already there: a resumed or retried ingest copies nothing twice.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { sourceBlobPrefix, type BlobStore } from './blob-store.js';

/** The blob path a stream's file source is copied to: sources/<stream>/<file name>. */
export function sourceBlobPath(stream: string, file: string): string {
  const name = basename(file).replace(/[^A-Za-z0-9._-]/g, '_') || 'source';
  return `${sourceBlobPrefix(stream)}${name.startsWith('.') ? `_${name}` : name}`;
}

/** Returns the blob path, and whether bytes were copied (false: already there). */
export async function shareSourceFile(blobs: BlobStore, stream: string, file: string): Promise<{ path: string; copied: boolean }> {
  const path = sourceBlobPath(stream, file);
  const [local, stored] = await Promise.all([stat(file), blobs.stat(path)]);
  if (stored && stored.size === local.size) return { path, copied: false };
  await blobs.write(path, createReadStream(file));
  return { path, copied: true };
}
