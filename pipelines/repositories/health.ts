// Readiness probes for the api role: is Redis answering, can LanceDB be opened, can the blob
// store be used (a local folder, or an object-storage bucket other hosts share). Each resolves
// with nothing or throws an Error whose message says what failed.
import type { Redis } from 'ioredis';
import type { BlobStore } from './blob-store.js';
import { probeLance } from './lance-connect.js';
import type { RedisRepository } from './redis.js';

export class HealthProbes {
  readonly #redis: RedisRepository;
  readonly #lancedbUri: string;
  readonly #storageOptions: Record<string, string>;
  readonly #blobs: Pick<BlobStore, 'check'>;
  #client: Redis | undefined;

  constructor(redis: RedisRepository, lancedbUri: string, storageOptions: Record<string, string>, blobs: Pick<BlobStore, 'check'>) {
    this.#redis = redis;
    this.#lancedbUri = lancedbUri;
    this.#storageOptions = storageOptions;
    this.#blobs = blobs;
  }

  async redis(): Promise<void> {
    // No retries: readiness must report an outage now, not wait for the reconnect.
    this.#client ??= this.#redis.connection('api-health', { maxRetriesPerRequest: 0 });
    const answer = await this.#client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
  }

  async lancedb(): Promise<void> {
    await probeLance(this.#lancedbUri, this.#storageOptions);
  }

  blobs(): Promise<void> {
    return this.#blobs.check();
  }
}
