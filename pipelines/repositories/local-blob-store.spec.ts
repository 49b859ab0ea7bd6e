import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/helpers/env.js';
import { blobContentType, blobDataUrl, BlobPathError, confineBlobPath, deleteBlobs, thumbnailPath } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';

describe('LocalBlobStore', () => {
  let dir = '';
  let root = '';
  let store: LocalBlobStore;

  beforeEach(() => {
    dir = makeTempDir('engram-blobs-');
    root = join(dir, 'blobs');
    store = new LocalBlobStore(root);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes, reads, stats, lists by prefix and deletes', async () => {
    const path = thumbnailPath('cam', Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(path).toBe('cam/2026-01-02/1767323045000.jpg');
    await store.write(path, Buffer.from('jpeg bytes'));
    await store.write('cam/clip.mp4', Readable.from([Buffer.from('mp4 '), Buffer.from('bytes')]));
    await store.write('door/x.jpg', Buffer.from('other stream'));
    expect((await store.read(path))?.toString()).toBe('jpeg bytes');
    expect(readFileSync(join(root, 'cam/clip.mp4'), 'utf8')).toBe('mp4 bytes');
    expect(await store.stat('cam/clip.mp4')).toMatchObject({ path: 'cam/clip.mp4', size: 9, contentType: 'video/mp4' });
    expect((await store.list('cam/')).map((b) => [b.path, b.size])).toEqual([
      ['cam/2026-01-02/1767323045000.jpg', 10],
      ['cam/clip.mp4', 9],
    ]);
    expect((await store.list('')).map((b) => b.path)).toEqual(['cam/2026-01-02/1767323045000.jpg', 'cam/clip.mp4', 'door/x.jpg']);
    expect(await store.list('nothing/')).toEqual([]);
    expect(await store.delete('cam/clip.mp4')).toBe(true);
    expect(await store.delete('cam/clip.mp4')).toBe(false);
    expect(await store.read('cam/clip.mp4')).toBeUndefined();
    expect(await store.stat('cam/clip.mp4')).toBeUndefined();
    expect(await store.open('cam/clip.mp4')).toBeUndefined();
  });

  it('reads byte ranges the way an HTTP Range request asks for them', async () => {
    await store.write('cam/a.mp4', Buffer.from('0123456789'));
    const middle = await store.open('cam/a.mp4', { start: 2, end: 5 });
    expect(middle).toMatchObject({ size: 10, start: 2, end: 5, contentType: 'video/mp4' });
    expect(await text(middle!.stream)).toBe('2345');
    const tail = await store.open('cam/a.mp4', { start: 7 });
    expect(tail).toMatchObject({ start: 7, end: 9 });
    expect(await text(tail!.stream)).toBe('789');
    const clipped = await store.open('cam/a.mp4', { start: 8, end: 1000 });
    expect(await text(clipped!.stream)).toBe('89');
    const whole = await store.open('cam/a.mp4');
    expect(await text(whole!.stream)).toBe('0123456789');
    await expect(store.open('cam/a.mp4', { start: 10 })).rejects.toThrow(/byte range 10- is outside blob "cam\/a.mp4" \(10 bytes\)/);
    await expect(store.open('cam/a.mp4', { start: 5, end: 2 })).rejects.toThrow(RangeError);
  });

  it('refuses every path that could leave the store, with one rule, naming the problem', async () => {
    const bad: [string, RegExp][] = [
      ['../outside.jpg', /contains "\.\."/],
      ['cam/../../outside.jpg', /contains "\.\."/],
      ['cam\\..\\..\\outside.jpg', /contains "\.\."/],
      ['/etc/passwd', /is absolute/],
      ['C:/windows/x', /is absolute/],
      ['cam/x.jpg\0.png', /NUL byte/],
      ['', /empty/],
      ['cam//x.jpg', /empty or "\." step/],
    ];
    for (const [path, message] of bad) {
      for (const attempt of [() => store.write(path, Buffer.from('x')), () => store.read(path), () => store.open(path), () => store.stat(path), () => store.delete(path)]) {
        await expect(attempt(), path).rejects.toThrow(BlobPathError);
        await expect(attempt(), path).rejects.toThrow(message);
      }
    }
    await expect(store.list('../')).rejects.toThrow(BlobPathError);
  });

  it('refuses symlinks that lead out of the store, for reading and for writing', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    mkdirSync(join(root, 'cam'), { recursive: true });
    symlinkSync(join(outside, 'secret.txt'), join(root, 'cam', 'link.jpg'));
    symlinkSync(outside, join(root, 'escape'));
    await expect(store.read('cam/link.jpg')).rejects.toThrow(/leads outside the blob store/);
    await expect(store.open('cam/link.jpg')).rejects.toThrow(BlobPathError);
    await expect(store.read('escape/secret.txt')).rejects.toThrow(BlobPathError);
    await expect(store.write('escape/new.jpg', Buffer.from('x'))).rejects.toThrow(BlobPathError);
    await expect(store.write('escape/deeper/new.jpg', Buffer.from('x'))).rejects.toThrow(BlobPathError);
    expect((await store.list('')).map((b) => b.path)).toEqual([]);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    // A symlink that stays inside the store is an ordinary path.
    await store.write('door/a.jpg', Buffer.from('inside'));
    symlinkSync(join(root, 'door'), join(root, 'alias'));
    expect((await store.read('alias/a.jpg'))?.toString()).toBe('inside');
  });

  it('has one MIME map, and data URLs and retention deletes that skip what they cannot use', async () => {
    expect(blobContentType('a/b.JPG')).toBe('image/jpeg');
    expect(blobContentType('a/b.webp')).toBe('image/webp');
    expect(blobContentType('a/b.mp4')).toBe('video/mp4');
    expect(blobContentType('a/noext')).toBe('application/octet-stream');
    expect(blobContentType('a.dir/noext')).toBe('application/octet-stream');
    expect(confineBlobPath('cam\\day\\x.jpg')).toBe('cam/day/x.jpg');
    await store.write('cam/x.png', Buffer.from([1, 2, 3]));
    expect(await blobDataUrl(store, 'cam/x.png')).toBe('data:image/png;base64,AQID');
    expect(await blobDataUrl(store, 'cam/missing.png')).toBeUndefined();
    expect(await blobDataUrl(store, '../x.png')).toBeUndefined();
    expect(await deleteBlobs(store, ['cam/x.png', 'cam/missing.png', '../../etc/passwd'])).toBe(1);
  });
});
