// The repositories one engram process shares between its roles, opened once and closed in
// reverse order. Roles receive this; only repositories talk to Redis, LanceDB, ffmpeg or ONNX.
import { setMaxListeners } from 'node:events';
import { RedisLostError } from '../../config/errors.js';
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
  #redisLost = false;

  private constructor(loaded: LoadedConfig, log: Logger, redis: RedisRepository) {
    this.loaded = loaded;
    this.log = log;
    this.redis = redis;
    this.queues = new QueueRepository(redis, loaded.config);
    this.onClose('queues', this.queues);
    // Every running job of every role listens on this signal (a perceive job once, through a
    // child signal its model calls share; an ingest job once per stream): legitimately more than
    // Node's warning threshold of 10 listeners. The bound still catches a real leak, which grows
    // without limit.
    const concurrency = Object.values(loaded.config.queues).reduce((sum, q) => sum + q.concurrency, 0);
    setMaxListeners(Math.max(256, 4 * concurrency), this.#abort.signal);
  }

  static async open(loaded: LoadedConfig, log: Logger): Promise<EngramContext> {
    const redis = await RedisRepository.open(loaded.config, loaded.paths);
    const context = new EngramContext(loaded, log, redis);
    if (redis.managed) {
      const logPath = redis.managed.logPath;
      redis.managed.on('died', (reason) => {
        log.fatal({ reason }, 'managed redis-server died; engram stops rather than restart it in a loop');
        // One line for a person: the server's log tail stays in the log record above and its file.
        const why = reason.split('\n')[0]?.replace(/; last log lines:$/, '') ?? reason;
        context.#redisLost = true;
        context.#abort.abort(new RedisLostError(`the managed Redis died (${why}); stopping rather than restarting it in a loop (its log: ${logPath})`));
      });
    }
    redis.onLink((link) => {
      if (link.state === 'lost') {
        if (!context.#redisLost) log.warn({ redis: redis.url, reason: link.reason }, 'lost the connection to Redis; reconnecting (work waits meanwhile)');
      } else {
        log.warn({ redis: redis.url, downMs: link.downMs }, `reconnected to Redis after ${(link.downMs / 1000).toFixed(1)} s; resuming`);
      }
    });
    return context;
  }

  get config() {
    return this.loaded.config;
  }

  get paths() {
    return this.loaded.paths;
  }

  /** True once the managed Redis died: nothing that needs Redis can finish any more. */
  get redisLost(): boolean {
    return this.#redisLost;
  }

  /** Aborted on shutdown, or when the managed Redis dies (reason: a RedisLostError). */
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
          // With Redis gone, running jobs can never report back: stop workers without waiting for them.
          if (this.#redisLost && resource === this.queues) await this.queues.close({ force: true });
          else await resource.close();
        } catch (error) {
          this.log.error({ err: error, resource: name }, 'error while closing');
        }
      }
      await this.redis.close();
    })();
    return this.#closing;
  }
}
