// The repositories one engram process shares between its roles, opened once and closed in
// reverse order. Roles receive this; only repositories talk to Redis, LanceDB, ffmpeg or ONNX.
import type { LoadedConfig } from '../../config/load.js';
import { QueueRepository } from '../../pipelines/repositories/queue.js';
import { RedisRepository } from '../../pipelines/repositories/redis.js';
import type { Logger } from '../logger.js';

export interface Closeable {
  close(): Promise<void>;
}

export class EngramContext {
  readonly loaded: LoadedConfig;
  readonly log: Logger;
  readonly redis: RedisRepository;
  readonly queues: QueueRepository;
  readonly #closeables: { name: string; resource: Closeable }[] = [];
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;

  private constructor(loaded: LoadedConfig, log: Logger, redis: RedisRepository) {
    this.loaded = loaded;
    this.log = log;
    this.redis = redis;
    this.queues = new QueueRepository(redis, loaded.config);
    this.onClose('queues', this.queues);
  }

  static async open(loaded: LoadedConfig, log: Logger): Promise<EngramContext> {
    const redis = await RedisRepository.open(loaded.config, loaded.paths);
    const context = new EngramContext(loaded, log, redis);
    if (redis.managed) {
      redis.managed.on('died', (reason) => {
        log.fatal({ reason }, 'managed redis-server died; engram stops rather than restart it in a loop');
        context.#abort.abort(new Error(reason));
      });
    }
    return context;
  }

  get config() {
    return this.loaded.config;
  }

  get paths() {
    return this.loaded.paths;
  }

  /** Aborted on shutdown, or when the managed Redis dies. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Registers a resource to close on shutdown; closed last-registered first, before Redis. */
  onClose(name: string, resource: Closeable): void {
    this.#closeables.push({ name, resource });
  }

  /** Closes everything once: resources in reverse order of registration, then Redis. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#abort.signal.aborted) this.#abort.abort(new Error('shutting down'));
      for (const { name, resource } of [...this.#closeables].reverse()) {
        try {
          await resource.close();
        } catch (error) {
          this.log.error({ err: error, resource: name }, 'error while closing');
        }
      }
      await this.redis.close();
    })();
    return this.#closing;
  }
}
