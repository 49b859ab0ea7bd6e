// Readiness probes for the api role: is Redis answering, can LanceDB be opened. Each resolves
// with nothing or throws an Error whose message says what failed.
import { connect } from '@lancedb/lancedb';
import type { Redis } from 'ioredis';
import type { RedisRepository } from './redis.js';

export class HealthProbes {
  readonly #redis: RedisRepository;
  readonly #lancedbUri: string;
  #client: Redis | undefined;

  constructor(redis: RedisRepository, lancedbUri: string) {
    this.#redis = redis;
    this.#lancedbUri = lancedbUri;
  }

  async redis(): Promise<void> {
    // No retries: readiness must report an outage now, not wait for the reconnect.
    this.#client ??= this.#redis.connection('api-health', { maxRetriesPerRequest: 0 });
    const answer = await this.#client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
  }

  async lancedb(): Promise<void> {
    const db = await connect(this.#lancedbUri);
    try {
      await db.tableNames();
    } finally {
      db.close();
    }
  }
}
