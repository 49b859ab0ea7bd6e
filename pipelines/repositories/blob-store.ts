// The one blob repository: keyframe thumbnails, evidence clips, recordings and face crops, stored
// by a relative path ("cam/2026-01-02/1767312000000.jpg") that records and events keep, so the
// data directory (or the bucket) can move without rewriting them. This file is the contract and
// the rules every backend shares: which paths are valid, and what MIME type a path has.
import type { Readable } from 'node:stream';
import { EngramError } from '../../config/errors.js';

/** A blob path that could reach outside the store: absolute, `..`, NUL, empty, or through a symlink out of it. */
export class BlobPathError extends EngramError {
  override readonly name = 'BlobPathError';
}

export interface BlobInfo {
  /** The blob's path, relative to the store's root, with `/` separators. */
  path: string;
  /** Bytes. */
  size: number;
  /** Epoch milliseconds of the last write. */
  modifiedAt: number;
  contentType: string;
}

/** Bytes of a blob to read: both ends inclusive, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  /** Defaults to the last byte. */
  end?: number;
}

export interface OpenedBlob {
  stream: Readable;
  /** The blob's whole size in bytes (not the range's). */
  size: number;
  contentType: string;
  /** The bytes the stream carries, inclusive; the whole blob without a range. */
  start: number;
  end: number;
}

/**
 * Every method checks its path with confineBlobPath and throws BlobPathError for one that could
 * leave the store; a valid path with no blob behind it is `undefined` (or false, or skipped).
 */
export interface BlobStore {
  /** `local`: a directory only this host sees; `s3`: object storage every host shares. */
  readonly backend: 'local' | 's3';
  /** Where the blobs are, for status lines: a directory, or s3://bucket/prefix at endpoint. */
  readonly location: string;
  /** Resolves when the store can be used now (readiness); throws an Error saying why not. */
  check(): Promise<void>;
  /** Writes atomically: a reader sees the old blob or the whole new one, never half a JPEG. */
  write(path: string, bytes: Uint8Array | Readable): Promise<string>;
  read(path: string): Promise<Buffer | undefined>;
  /** A stream of the blob, or of a byte range of it; undefined when it does not exist. */
  open(path: string, range?: ByteRange): Promise<OpenedBlob | undefined>;
  stat(path: string): Promise<BlobInfo | undefined>;
  /** The blobs whose path starts with `prefix` ("cam/" for one stream), in path order. */
  list(prefix: string): Promise<BlobInfo[]>;
  /** True when a blob was removed; a missing blob is not an error. */
  delete(path: string): Promise<boolean>;
}

/**
 * The one confinement rule, shared by every backend: a blob path is relative, has no `..` step,
 * no NUL and no empty or `.` steps. Backslashes count as separators, so a path means the same
 * on every host. Returns the path normalised to `/` separators.
 */
export function confineBlobPath(path: string): string {
  if (typeof path !== 'string' || path === '') throw new BlobPathError('blob path is empty');
  if (path.includes('\0')) throw new BlobPathError(`blob path "${path.replace(/\0/g, '\\0')}" contains a NUL byte`);
  const steps = path.split(/[\\/]/);
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) throw new BlobPathError(`blob path "${path}" is absolute; blob paths are relative to the blob store`);
  if (steps.includes('..')) throw new BlobPathError(`blob path "${path}" contains "..": it would leave the blob store`);
  if (steps.some((s) => s === '' || s === '.')) throw new BlobPathError(`blob path "${path}" has an empty or "." step`);
  return steps.join('/');
}

/** A prefix for list(): a confined path, or '' for everything; a trailing '/' is kept. */
export function confineBlobPrefix(prefix: string): string {
  if (prefix === '') return '';
  const trailing = prefix.endsWith('/') || prefix.endsWith('\\');
  const body = confineBlobPath(trailing ? prefix.slice(0, -1) : prefix);
  return trailing ? `${body}/` : body;
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  webp: 'image/webp',
  mp4: 'video/mp4',
  ts: 'video/mp2t',
  mkv: 'video/x-matroska',
  wav: 'audio/wav',
  json: 'application/json',
};

/** The one MIME map: by the path's extension, `application/octet-stream` when unknown. */
export function blobContentType(path: string): string {
  const dot = path.lastIndexOf('.');
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (dot <= slash + 1) return 'application/octet-stream';
  return CONTENT_TYPES[path.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Thumbnail path of a keyframe: by stream, then UTC day, named by wall-clock ms, so a re-ingested
 * stream never overwrites the thumbnails older events point to.
 */
export function thumbnailPath(stream: string, wallMs: number): string {
  const day = new Date(wallMs).toISOString().slice(0, 10);
  return `${stream}/${day}/${Math.round(wallMs)}.jpg`;
}

/** Where a face's aligned crop is kept: under faces/, so every crop can be found (and forgotten) apart from thumbnails. */
export function faceCropPath(stream: string, wallMs: number, index: number): string {
  const day = new Date(wallMs).toISOString().slice(0, 10);
  return `faces/${stream}/${day}/${Math.round(wallMs)}-${index}.bmp`;
}

/**
 * Where the API finds a file source's bytes when the ingest host's file is not readable on its
 * own host: ingest copies the file under this prefix when blobs are shared (storage.blobs s3).
 */
export function sourceBlobPrefix(stream: string): string {
  return `sources/${stream}/`;
}

/** A blob as a data URL (for vision models); undefined when it is missing, unreadable or its path is bad. */
export async function blobDataUrl(store: Pick<BlobStore, 'read'>, path: string): Promise<string | undefined> {
  try {
    const bytes = await store.read(path);
    return bytes === undefined ? undefined : `data:${blobContentType(path)};base64,${bytes.toString('base64')}`;
  } catch {
    // A summary without the picture is still a summary: an unreadable blob only leaves it out.
    return undefined;
  }
}

/**
 * Deletes blobs that records point to (retention); a missing blob or a bad stored path is skipped,
 * so one bad record does not stop the rest. Returns how many were removed.
 */
export async function deleteBlobs(store: Pick<BlobStore, 'delete'>, paths: readonly string[]): Promise<number> {
  let removed = 0;
  for (const path of paths) {
    try {
      if (await store.delete(path)) removed += 1;
    } catch (error) {
      if (!(error instanceof BlobPathError)) throw error;
    }
  }
  return removed;
}
