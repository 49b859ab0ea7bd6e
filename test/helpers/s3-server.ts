// An S3-compatible server for tests: s3rver (an npm package implementing S3's REST API over a
// local folder) on a free loopback port, with the buckets a test names. It speaks the same
// requests AWS S3 does (signed with its fixed S3RVER/S3RVER credentials), so engram's blob
// backend and LanceDB talk to it exactly as they would to a real bucket.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';

export interface TestS3 {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** storage.* config pointing blobs (and an s3:// lancedbUri) at this server's bucket. */
  storage(options?: { bucket?: string; prefix?: string; lancedbUri?: string }): Record<string, unknown>;
  /** The same as ENGRAM_* variables for child processes. */
  env(options?: { bucket?: string; prefix?: string; lancedbUri?: string }): Record<string, string>;
  close(): Promise<void>;
}

export const S3_KEY = 'S3RVER';

/** The part of s3rver's filesystem store that putObject uses. */
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; metadata: unknown; content: Buffer | Readable }): Promise<{ size: number; md5: string }>;
}

let partials = 0;

/**
 * s3rver 3.7.1 writes an object in place and answers the PUT (for a buffered body) before the
 * bytes are on disk, so a GET or LIST right after it can see an empty or partial object. S3
 * promises strong read-after-write consistency and atomic PUTs, and LanceDB relies on them (a
 * manifest read half-written fails with "Range started at 0 and ended at 0"). The test server
 * therefore writes each object to a temporary file and renames it into place before answering.
 */
function makePutsAtomic(server: S3rver): void {
  const store = (server as unknown as { store: S3rverStore }).store;
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    partials += 1;
    const temp = `${path}.${process.pid}.${partials}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, count, createWriteStream(temp));
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(temp, path);
    return { size, md5: digest };
  };
}

export async function startS3(buckets: string[] = ['engram']): Promise<TestS3> {
  // No vitest import here (env.ts has one): benchmarks start this server too.
  const dir = mkdtempSync(join(tmpdir(), 'engram-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 'data'), configureBuckets: buckets.map((name) => ({ name })) });
  makePutsAtomic(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = (bucket: string, prefix: string) => ({ endpoint, region: 'us-east-1', bucket, prefix, accessKeyId: S3_KEY, secretAccessKey: S3_KEY, forcePathStyle: true });
  return {
    endpoint,
    storage({ bucket = buckets[0] ?? 'engram', prefix = '', lancedbUri } = {}) {
      return { blobs: 's3', s3: s3(bucket, prefix), ...(lancedbUri ? { lancedbUri } : {}) };
    },
    env({ bucket = buckets[0] ?? 'engram', prefix = '', lancedbUri } = {}) {
      return {
        ENGRAM_STORAGE__BLOBS: 's3',
        ENGRAM_STORAGE__S3__ENDPOINT: endpoint,
        ENGRAM_STORAGE__S3__BUCKET: bucket,
        ENGRAM_STORAGE__S3__PREFIX: prefix,
        ENGRAM_STORAGE__S3__ACCESS_KEY_ID: S3_KEY,
        ENGRAM_STORAGE__S3__SECRET_ACCESS_KEY: S3_KEY,
        ...(lancedbUri ? { ENGRAM_STORAGE__LANCEDB_URI: lancedbUri } : {}),
      };
    },
    async close() {
      // LanceDB's and the AWS SDK's HTTP clients keep idle connections open; close them, or the
      // server's close waits for their idle timeouts.
      const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
      const closing = server.close();
      http?.closeAllConnections?.();
      await closing;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

