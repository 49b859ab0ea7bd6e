// Opens engram's Redis: the one named by config (REDIS_URL) or a managed redis-server under the
// data directory. Hands out named ioredis connections, so the managed server knows who uses it.
import { Redis, type RedisOptions } from 'ioredis';
import { EngramError } from '../../config/errors.js';
import type { Config } from '../../config/schema.js';
import type { EngramPaths } from '../../config/load.js';
import { ManagedRedis, clientName } from './redis-server.js';

export interface RedisTarget {
  /** What to show people: the URL with any password hidden. */
  display: string;
  options: RedisOptions;
}

/** Parses redis://, rediss://, unix:///path and bare socket paths into ioredis options. */
export function parseRedisUrl(url: string): RedisTarget {
  if (url.startsWith('/') || url.startsWith('unix://')) {
    const path = url.startsWith('unix://') ? decodeURIComponent(new URL(url).pathname) : url;
    return { display: `unix://${path}`, options: { path } };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EngramError(`redis.url / REDIS_URL "${url}" is not a URL (expected redis://host:port, rediss://…, unix:///path.sock)`, { exitCode: 2 });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new EngramError(`redis.url / REDIS_URL uses ${parsed.protocol}//; expected redis://, rediss:// or unix://`, { exitCode: 2 });
  }
  const db = parsed.pathname.length > 1 ? Number.parseInt(parsed.pathname.slice(1), 10) : 0;
  const options: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number.parseInt(parsed.port, 10) : 6379,
    db: Number.isFinite(db) ? db : 0,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') options.tls = { servername: parsed.hostname };
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return { display: shown.toString(), options };
}

/** Redis became unreachable (lost) or answers again (back); reported once per outage, not per connection. */
export type RedisLink = { state: 'lost'; reason: string } | { state: 'back'; downMs: number };

export class RedisRepository {
  readonly display: string;
  readonly managed: ManagedRedis | undefined;
  readonly #base: RedisOptions;
  readonly #clients = new Set<Redis>();
  readonly #linkListeners: ((link: RedisLink) => void)[] = [];
  #downSince: number | undefined;
  #closed = false;

  private constructor(target: RedisTarget, managed: ManagedRedis | undefined) {
    this.display = target.display;
    this.managed = managed;
    this.#base = target.options;
  }

  /** Connects (starting a managed server when no URL is configured) and checks that Redis answers. */
  static async open(config: Config, paths: EngramPaths): Promise<RedisRepository> {
    let target: RedisTarget;
    let managed: ManagedRedis | undefined;
    if (config.redis.url) {
      target = parseRedisUrl(config.redis.url);
    } else {
      managed = await ManagedRedis.acquire({ dir: paths.redisDir, ...config.redis.managed });
      target = { display: managed.url, options: { path: managed.socketPath } };
    }
    const repo = new RedisRepository(target, managed);
    const probe = repo.connection('probe', { lazyConnect: true, connectTimeout: config.redis.connectTimeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    // ioredis rejects connect() with a bare "Connection is closed"; the cause arrives as an event.
    let cause: Error | undefined;
    probe.on('error', (error: Error) => (cause ??= error));
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      await repo.close();
      const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? cause?.message ?? (error as Error).message;
      throw new EngramError(`cannot reach Redis at ${target.display}: ${reason}`);
    } finally {
      probe.disconnect();
      repo.#clients.delete(probe);
    }
    return repo;
  }

  get url(): string {
    return this.display;
  }

  /**
   * A new connection, named for CLIENT LIST. BullMQ workers need maxRetriesPerRequest null
   * (blocking commands must wait through reconnects), which is the default here.
   */
  connection(purpose: string, extra: RedisOptions = {}): Redis {
    if (this.#closed) throw new Error('RedisRepository is closed');
    const client = new Redis({ maxRetriesPerRequest: null, connectionName: clientName(purpose), ...this.#base, ...extra });
    let lastError: Error | undefined;
    // Reported by the callers' own commands; kept to say why a connection went away.
    client.on('error', (error: Error) => (lastError = error));
    client.on('close', () => {
      if (this.#closed || this.#downSince !== undefined || client.status === 'end') return;
      this.#downSince = Date.now();
      const reason = (lastError as NodeJS.ErrnoException | undefined)?.code ?? lastError?.message ?? 'connection closed';
      this.#emitLink({ state: 'lost', reason });
    });
    client.on('ready', () => {
      if (this.#closed || this.#downSince === undefined) return;
      const downMs = Date.now() - this.#downSince;
      this.#downSince = undefined;
      this.#emitLink({ state: 'back', downMs });
    });
    this.#clients.add(client);
    client.once('end', () => this.#clients.delete(client));
    return client;
  }

  /**
   * Calls `listener` when Redis stops answering (the first connection of this process to notice)
   * and when it answers again; ioredis reconnects by itself meanwhile and queued commands run then.
   */
  onLink(listener: (link: RedisLink) => void): void {
    this.#linkListeners.push(listener);
  }

  #emitLink(link: RedisLink): void {
    for (const listener of this.#linkListeners) listener(link);
  }

  /** Closes every connection handed out, then lets go of the managed server. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [...this.#clients].map(async (client) => {
        try {
          if (client.status === 'ready') await client.quit();
          else client.disconnect();
        } catch {
          client.disconnect();
        }
      }),
    );
    this.#clients.clear();
    if (this.managed) await this.managed.release();
  }
}
