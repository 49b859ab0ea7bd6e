// The blob store on S3-compatible object storage (s3rver, started by the test): the same
// contract as the local directory — writes, reads, byte ranges, listing by prefix, deletes, the
// one path rule — plus what only object storage has: a prefix inside a shared bucket, large
// streamed uploads, and readiness errors that name the bucket and endpoint.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlobPathError, thumbnailPath } from '../../pipelines/repositories/blob-store.js';
import { BlobSpool } from '../../pipelines/repositories/blob-spool.js';
import { S3BlobStore } from '../../pipelines/repositories/s3-blob-store.js';
import { shareSourceFile } from '../../pipelines/repositories/source-share.js';
import { makeTempDir } from '../helpers/env.js';
import { S3_KEY, useTestS3 } from '../helpers/s3.js';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';

const s3 = useTestS3(['engram', 'other']);

function store(prefix = '', bucket = 'engram', endpoint = s3.server.endpoint): S3BlobStore {
  return new S3BlobStore({ endpoint, region: 'us-east-1', bucket, prefix, accessKeyId: S3_KEY, secretAccessKey: S3_KEY, sessionToken: '', forcePathStyle: true });
}

describe('S3BlobStore', () => {
  it('writes, reads, stats, lists by prefix and deletes, inside its key prefix only', async () => {
    const blobs = store('site-a/');
    const neighbour = store('site-b/');
    const path = thumbnailPath('cam', Date.UTC(2026, 0, 2, 3, 4, 5));
    await blobs.write(path, Buffer.from('jpeg bytes'));
    await blobs.write('cam/clip.mp4', Readable.from([Buffer.from('mp4 '), Buffer.from('bytes')]));
    await blobs.write('door/x.jpg', Buffer.from('other stream'));
    await neighbour.write('cam/theirs.jpg', Buffer.from('not ours'));
    expect((await blobs.read(path))?.toString()).toBe('jpeg bytes');
    expect(await blobs.stat('cam/clip.mp4')).toMatchObject({ path: 'cam/clip.mp4', size: 9, contentType: 'video/mp4' });
    expect((await blobs.list('cam/')).map((b) => [b.path, b.size])).toEqual([
      ['cam/2026-01-02/1767323045000.jpg', 10],
      ['cam/clip.mp4', 9],
    ]);
    expect((await blobs.list('')).map((b) => b.path)).toEqual(['cam/2026-01-02/1767323045000.jpg', 'cam/clip.mp4', 'door/x.jpg']);
    expect((await neighbour.list('')).map((b) => b.path)).toEqual(['cam/theirs.jpg']);
    expect(await blobs.read('cam/theirs.jpg')).toBeUndefined();
    expect(await blobs.list('nothing/')).toEqual([]);
    expect(await blobs.delete('cam/clip.mp4')).toBe(true);
    expect(await blobs.delete('cam/clip.mp4')).toBe(false);
    expect(await blobs.read('cam/clip.mp4')).toBeUndefined();
    expect(await blobs.stat('cam/clip.mp4')).toBeUndefined();
    expect(await blobs.open('cam/clip.mp4')).toBeUndefined();
    // A second writer of the same path replaces the blob whole.
    await blobs.write(path, Buffer.from('newer jpeg'));
    expect((await blobs.read(path))?.toString()).toBe('newer jpeg');
  });

  it('reads byte ranges the way an HTTP Range request asks for them', async () => {
    const blobs = store('ranges/');
    await blobs.write('cam/a.mp4', Buffer.from('0123456789'));
    const middle = await blobs.open('cam/a.mp4', { start: 2, end: 5 });
    expect(middle).toMatchObject({ size: 10, start: 2, end: 5, contentType: 'video/mp4' });
    expect(await text(middle!.stream)).toBe('2345');
    const tail = await blobs.open('cam/a.mp4', { start: 7 });
    expect(tail).toMatchObject({ start: 7, end: 9 });
    expect(await text(tail!.stream)).toBe('789');
    expect(await text((await blobs.open('cam/a.mp4', { start: 8, end: 1000 }))!.stream)).toBe('89');
    expect(await text((await blobs.open('cam/a.mp4'))!.stream)).toBe('0123456789');
    await expect(blobs.open('cam/a.mp4', { start: 10 })).rejects.toThrow(/byte range 10- is outside blob "cam\/a.mp4" \(10 bytes\)/);
    await expect(blobs.open('cam/a.mp4', { start: 5, end: 2 })).rejects.toThrow(RangeError);
    await blobs.write('cam/empty.jpg', Buffer.alloc(0));
    const empty = await blobs.open('cam/empty.jpg');
    expect(empty).toMatchObject({ size: 0, start: 0, end: -1 });
    expect((await buffer(empty!.stream)).length).toBe(0);
  });

  it('uploads a large unsized stream whole (multipart) and spools it back to a local file for ffmpeg', async () => {
    const blobs = store('big/');
    const bytes = randomBytes(12 * 1024 * 1024 + 17);
    // Chunks of 1 MiB with no length given: the upload cannot know the size in advance.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 2 ** 20) }, (_, i) => bytes.subarray(i * 2 ** 20, (i + 1) * 2 ** 20));
    await blobs.write('src/video.mp4', Readable.from(chunks));
    expect((await blobs.stat('src/video.mp4'))?.size).toBe(bytes.length);
    const dir = makeTempDir('engram-spool-');
    const spool = new BlobSpool(blobs, dir, 20 * 1024 * 1024);
    const [a, b] = await Promise.all([spool.localPath('src/video.mp4'), spool.localPath('src/video.mp4')]);
    expect(a).toBe(b);
    expect(readFileSync(a!).equals(bytes)).toBe(true);
    expect(await spool.localPath('src/missing.mp4')).toBeUndefined();
    // Past maxBytes the least recently used copy goes.
    await blobs.write('src/other.mp4', randomBytes(10 * 1024 * 1024));
    const other = await spool.localPath('src/other.mp4');
    expect(statSync(other!).size).toBe(10 * 1024 * 1024);
    expect(() => statSync(a!)).toThrow(/ENOENT/);
  });

  it('copies a file source once: a retried ingest finds it there and copies nothing', async () => {
    const blobs = store('share/');
    const dir = makeTempDir('engram-share-');
    const file = join(dir, 'front door.mp4');
    writeFileSync(file, Buffer.from('pretend video'));
    expect(await shareSourceFile(blobs, 'door', file)).toEqual({ path: 'sources/door/front_door.mp4', copied: true });
    expect(await shareSourceFile(blobs, 'door', file)).toEqual({ path: 'sources/door/front_door.mp4', copied: false });
    expect((await blobs.read('sources/door/front_door.mp4'))?.toString()).toBe('pretend video');
  });

  it('refuses every path that could leave the store before sending anything', async () => {
    const blobs = store('paths/');
    for (const path of ['../outside.jpg', 'cam/../../x.jpg', '/etc/passwd', 'cam/x.jpg\0.png', '', 'cam//x.jpg']) {
      for (const attempt of [() => blobs.write(path, Buffer.from('x')), () => blobs.read(path), () => blobs.open(path), () => blobs.stat(path), () => blobs.delete(path)]) {
        await expect(attempt(), path).rejects.toThrow(BlobPathError);
      }
    }
    await expect(blobs.list('../')).rejects.toThrow(BlobPathError);
    expect(await store('').list('')).not.toContainEqual(expect.objectContaining({ path: expect.stringContaining('outside') }));
  });

  it('says which bucket or endpoint is wrong when it cannot be used', async () => {
    await expect(store('', 'engram').check()).resolves.toBeUndefined();
    await expect(store('', 'no-such-bucket').check()).rejects.toThrow(/s3:\/\/no-such-bucket\/ at http:\/\/127\.0\.0\.1:\d+: bucket "no-such-bucket" does not exist/);
    await expect(store('', 'no-such-bucket').write('a.jpg', Buffer.from('x'))).rejects.toThrow(/object storage s3:\/\/no-such-bucket\/.*writing a\.jpg failed/);
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(store('', 'engram', closed).check()).rejects.toThrow(new RegExp(`object storage s3://engram/ at ${closed.replace(/\./g, '\\.')}: checking the bucket failed`));
  });
});
