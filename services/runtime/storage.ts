// How a process reaches the stores it shares with other hosts: LanceDB's storage options and
// commit lock, and the blob store, from storage.* in the config. Every role and command that
// opens long-term memory or blobs comes here, so one setting moves them all.
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { BlobSpool } from '../../pipelines/repositories/blob-spool.js';
import type { BlobStore } from '../../pipelines/repositories/blob-store.js';
import { openBlobStore } from '../../pipelines/repositories/blob-backend.js';
import { LanceCommitLock } from '../../pipelines/repositories/lance-commit-lock.js';
import { isObjectStoreUri, lanceStorageOptions } from '../../pipelines/repositories/lance-connect.js';
import type { LanceAccess } from '../../pipelines/repositories/memory-tables.js';
import type { RedisRepository } from '../../pipelines/repositories/redis.js';
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';

/** Whether LanceDB commits take the Redis commit lock (storage.commitLock). */
export function needsCommitLock(loaded: LoadedConfig): boolean {
  const mode = loaded.config.storage.commitLock;
  return mode === 'redis' || (mode === 'auto' && isObjectStoreUri(loaded.paths.lancedbUri));
}

/**
 * Storage options for the LanceDB URI and, when it needs one and this process has Redis, the
 * commit lock. Read-only commands pass no Redis: reads need no lock.
 */
export function lanceAccess(loaded: LoadedConfig, redis?: RedisRepository): LanceAccess {
  const access: LanceAccess = { storageOptions: lanceStorageOptions(loaded.paths.lancedbUri, loaded.config.storage) };
  if (redis && needsCommitLock(loaded)) access.commitLock = new LanceCommitLock(redis.connection('lancedb-commit'), loaded.config.redis.prefix);
  return access;
}

export function blobStore(loaded: LoadedConfig): BlobStore {
  return openBlobStore(loaded.config.storage, loaded.paths.blobsDir);
}

/** Local copies of object-storage blobs for ffmpeg: the data directory's spool/, storage.spoolMaxBytes. */
export function blobSpool(loaded: LoadedConfig, blobs: BlobStore): BlobSpool {
  return new BlobSpool(blobs, join(loaded.paths.dataDir, 'spool'), loaded.config.storage.spoolMaxBytes);
}

/**
 * Live streams' recordings: the index in Redis, the files in recordings.dir, or in the shared
 * bucket when storage.blobs is s3 (recording-files.ts). A process that already has the blob store
 * and its spool passes them, so one spool's size bound covers sources and recordings alike.
 */
export function recordingRepository(loaded: LoadedConfig, redis: Parameters<typeof RecordingRepository.local>[0], shared?: { blobs: BlobStore; spool: BlobSpool }): RecordingRepository {
  const { config, paths } = loaded;
  const blobs = shared?.blobs ?? blobStore(loaded);
  if (blobs.backend === 'local') return RecordingRepository.local(redis, config.redis.prefix, paths.recordingsDir);
  return RecordingRepository.shared(redis, config.redis.prefix, paths.recordingsDir, { store: blobs, spool: shared?.spool ?? blobSpool(loaded, blobs) });
}
