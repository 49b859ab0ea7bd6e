// Where recording files live (recording-files.ts), on s3rver and on a local folder: a finished
// file is uploaded under recordings/ and leaves the ingest host's disk, other hosts get local
// copies for ffmpeg, a bucket that fails the upload does not leave the file filling the disk,
// and with a local store nothing moves.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobSpool } from '../../pipelines/repositories/blob-spool.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { RecordingFiles } from '../../pipelines/repositories/recording-files.js';
import { S3BlobStore } from '../../pipelines/repositories/s3-blob-store.js';
import { makeTempDir } from '../helpers/env.js';
import { S3_KEY, useTestS3 } from '../helpers/s3.js';

const s3 = useTestS3();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return dir;
}

function bucket(name = 'engram'): S3BlobStore {
  return new S3BlobStore({ endpoint: s3.server.endpoint, region: 'us-east-1', bucket: name, prefix: 'blobs/', accessKeyId: S3_KEY, secretAccessKey: S3_KEY, sessionToken: '', forcePathStyle: true });
}

/** A host's recordings folder with one finished segment file in it. */
function hostWithSegment(bytes: Buffer): { dir: string; file: string; path: string } {
  const dir = tempDir();
  mkdirSync(join(dir, 'cam'), { recursive: true });
  const file = 'cam/1767312000000-000001.ts';
  writeFileSync(join(dir, file), bytes);
  return { dir, file, path: join(dir, file) };
}

describe('recording files', () => {
  it('uploads a finished file to the bucket and removes it from the ingest host; another host reads, lists, spools and deletes it', async () => {
    const bytes = Buffer.from('G'.repeat(188 * 50));
    const ingest = hostWithSegment(bytes);
    const store = bucket();
    const files = new RecordingFiles(new LocalBlobStore(ingest.dir), { store, spool: new BlobSpool(store, join(ingest.dir, 'spool'), 1 << 20) });
    await files.keep(ingest.file);
    expect(existsSync(ingest.path)).toBe(false);
    expect((await store.read(`recordings/${ingest.file}`))?.equals(bytes)).toBe(true);
    // A retried add finds it already kept.
    await files.keep(ingest.file);

    const other = tempDir();
    const api = new RecordingFiles(new LocalBlobStore(other), { store, spool: new BlobSpool(store, join(other, 'spool'), 1 << 20) });
    expect(await api.stat(ingest.file)).toMatchObject({ path: ingest.file, size: bytes.length, contentType: 'video/mp2t' });
    expect((await api.list('cam/')).map((b) => [b.path, b.size])).toEqual([[ingest.file, bytes.length]]);
    const opened = await api.open(ingest.file, { start: 188, end: 375 });
    expect((await buffer(opened!.stream)).equals(bytes.subarray(188, 376))).toBe(true);
    const local = await api.input(ingest.file);
    expect(local?.startsWith(join(other, 'spool'))).toBe(true);
    expect(readFileSync(local!).equals(bytes)).toBe(true);
    expect(await api.delete(ingest.file)).toBe(true);
    expect(await api.stat(ingest.file)).toBeUndefined();
    expect(await api.input(ingest.file)).toBeUndefined();
  });

  it('removes the local file when the upload fails, with an error naming the bucket', async () => {
    const ingest = hostWithSegment(Buffer.from('segment'));
    const store = bucket('no-such-bucket');
    const files = new RecordingFiles(new LocalBlobStore(ingest.dir), { store, spool: new BlobSpool(store, join(ingest.dir, 'spool'), 1 << 20) });
    await expect(files.keep(ingest.file)).rejects.toThrow(/no-such-bucket.*writing blobs\/recordings\/cam\/1767312000000-000001\.ts failed/);
    expect(existsSync(ingest.path)).toBe(false);
  });

  it('keeps files where ffmpeg wrote them with a local store', async () => {
    const bytes = Buffer.from('local segment');
    const ingest = hostWithSegment(bytes);
    const files = new RecordingFiles(new LocalBlobStore(ingest.dir));
    await files.keep(ingest.file);
    expect(readFileSync(ingest.path).equals(bytes)).toBe(true);
    expect(await files.input(ingest.file)).toBe(ingest.path);
    expect(await files.input('cam/missing.ts')).toBeUndefined();
    expect((await files.list('cam/')).map((b) => b.path)).toEqual([ingest.file]);
  });
});
