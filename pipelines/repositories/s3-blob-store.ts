// The blob store on S3-compatible object storage: what lets roles on different hosts share
// thumbnails, face crops and clip sources. Blob paths become keys under a prefix of one bucket;
// the shared path rule (blob-store.ts) still applies, so a stored path means the same on the local
// backend and here. A PUT is atomic per object, so readers never see half a blob.
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { EngramError } from '../../config/errors.js';
import { blobContentType, confineBlobPath, confineBlobPrefix, type BlobInfo, type BlobStore, type ByteRange, type OpenedBlob } from './blob-store.js';

export interface S3Location {
  /** Empty for AWS S3 itself. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Key prefix, empty or ending in "/". */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  forcePathStyle: boolean;
}

/** The SDK client for a location; credentials only when configured (else the SDK's default chain). */
export function s3Client(location: Omit<S3Location, 'bucket' | 'prefix'>): S3Client {
  const config: S3ClientConfig = {
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    // Checksums only where S3 requires them: several S3-compatible services reject the SDK's
    // default CRC trailers on streamed uploads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  };
  if (location.endpoint !== '') config.endpoint = location.endpoint;
  if (location.accessKeyId !== '') {
    config.credentials = {
      accessKeyId: location.accessKeyId,
      secretAccessKey: location.secretAccessKey,
      ...(location.sessionToken !== '' ? { sessionToken: location.sessionToken } : {}),
    };
  }
  return new S3Client(config);
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

export class S3BlobStore implements BlobStore {
  readonly backend = 's3' as const;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #where: string;

  constructor(location: S3Location, client: S3Client = s3Client(location)) {
    this.#client = client;
    this.#bucket = location.bucket;
    this.#prefix = location.prefix;
    this.#where = `s3://${location.bucket}/${location.prefix}${location.endpoint === '' ? '' : ` at ${location.endpoint}`}`;
  }

  /** Where the blobs are, for status lines and errors: s3://bucket/prefix at endpoint. */
  get location(): string {
    return this.#where;
  }

  #key(path: string): string {
    return `${this.#prefix}${confineBlobPath(path)}`;
  }

  /** An SDK failure as an error naming the bucket and what was asked. */
  #fail(what: string, error: unknown): EngramError {
    const status = error instanceof S3ServiceException ? ` (HTTP ${error.$metadata.httpStatusCode ?? '?'} ${error.name})` : '';
    const message = error instanceof Error ? error.message : String(error);
    return new EngramError(`object storage ${this.#where}: ${what} failed${status}: ${message}`, { cause: error });
  }

  async write(path: string, bytes: Uint8Array | Readable): Promise<string> {
    const key = this.#key(path);
    try {
      // Upload sends one PUT for small bodies and a multipart upload for large or unsized streams.
      await new Upload({ client: this.#client, params: { Bucket: this.#bucket, Key: key, Body: bytes, ContentType: blobContentType(path) } }).done();
    } catch (error) {
      throw this.#fail(`writing ${key}`, error);
    }
    return confineBlobPath(path);
  }

  async read(path: string): Promise<Buffer | undefined> {
    const key = this.#key(path);
    try {
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!answer.Body) return Buffer.alloc(0);
      return Buffer.from(await answer.Body.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail(`reading ${key}`, error);
    }
  }

  async stat(path: string): Promise<BlobInfo | undefined> {
    const key = this.#key(path);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return { path: confineBlobPath(path), size: head.ContentLength ?? 0, modifiedAt: head.LastModified?.getTime() ?? 0, contentType: blobContentType(path) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail(`looking up ${key}`, error);
    }
  }

  async open(path: string, range?: ByteRange): Promise<OpenedBlob | undefined> {
    const info = await this.stat(path);
    if (!info) return undefined;
    const last = info.size - 1;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? last, last);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || (info.size > 0 && start > end) || (info.size === 0 && start > 0)) {
      throw new RangeError(`byte range ${start}-${range?.end ?? ''} is outside blob "${path}" (${info.size} bytes)`);
    }
    const key = this.#key(path);
    try {
      // An empty object has no byte range to ask for: S3 would answer 416.
      const asked = info.size === 0 ? {} : { Range: `bytes=${start}-${end}` };
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key, ...asked }));
      const body = answer.Body;
      const stream = body instanceof Readable ? body : Readable.from([]);
      return { stream, size: info.size, contentType: info.contentType, start, end: info.size === 0 ? -1 : end };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail(`reading ${key}`, error);
    }
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const clean = confineBlobPrefix(prefix);
    const out: BlobInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: `${this.#prefix}${clean}`, ...(token ? { ContinuationToken: token } : {}) }));
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          const path = object.Key.slice(this.#prefix.length);
          out.push({ path, size: object.Size ?? 0, modifiedAt: object.LastModified?.getTime() ?? 0, contentType: blobContentType(path) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.#fail(`listing ${this.#prefix}${clean}`, error);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<boolean> {
    // S3's DELETE answers the same whether or not the key existed: ask first, so retention counts
    // only what it removed.
    if (!(await this.stat(path))) return false;
    const key = this.#key(path);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.#fail(`deleting ${key}`, error);
    }
  }

  /** Resolves when the bucket answers and these credentials may use it; throws saying why not. */
  async check(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      if (isNotFound(error)) throw new EngramError(`object storage ${this.#where}: bucket "${this.#bucket}" does not exist`, { cause: error });
      throw this.#fail('checking the bucket', error);
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
