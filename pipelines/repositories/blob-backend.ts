// Picks the blob store a process uses from storage.blobs: the data directory's blobs/ folder, or
// the shared S3-compatible bucket. Every role opens its blobs here, so one setting moves them all.
import type { StorageConfig } from '../../config/schema.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

export function openBlobStore(storage: StorageConfig, blobsDir: string): BlobStore {
  return storage.blobs === 's3' ? new S3BlobStore(storage.s3) : new LocalBlobStore(blobsDir);
}
