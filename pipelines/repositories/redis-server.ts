// Supervises the redis-server that engram runs for itself when no REDIS_URL is given: one server
// per data directory, shared by every engram process using it, stopped by the last one out.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { EngramError } from '../../config/errors.js';
import { acquireLock, isAlive, readPid, removeIfExists } from './lock-file.js';

export interface ManagedRedisOptions {
  /** Directory for the socket, pid file, append-only file and log. */
  dir: string;
  binary: string;
  startTimeoutMs: number;
  maxMemory: string;
}

/** Linux limits a unix socket path to 107 bytes. */
const MAX_SOCKET_PATH = 107;

/** Client names that mark a connection as one of engram's, so the last process out can tell. */
export const CLIENT_NAME_PREFIX = 'engram-';

export function clientName(purpose: string): string {
  return `${CLIENT_NAME_PREFIX}${process.pid}-${purpose.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

async function ping(socketPath: string, timeoutMs = 500): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  const client = new Redis({ path: socketPath, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function logTail(path: string, lines = 5): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface ManagedRedisEvents {
  /** The server went away without engram stopping it. */
  died: [reason: string];
}

export class ManagedRedis extends EventEmitter<ManagedRedisEvents> {
  readonly socketPath: string;
  readonly pidPath: string;
  readonly logPath: string;
  readonly lockPath: string;
  /** True when this process started the server. */
  readonly startedHere: boolean;
  readonly pid: number;
  #child: ChildProcess | undefined;
  #closing = false;
  #closed = false;
  #watch: NodeJS.Timeout | undefined;
  #options: ManagedRedisOptions;

  private constructor(options: ManagedRedisOptions, pid: number, child: ChildProcess | undefined) {
    super();
    this.#options = options;
    this.socketPath = join(options.dir, 'redis.sock');
    this.pidPath = join(options.dir, 'redis.pid');
    this.logPath = join(options.dir, 'redis.log');
    this.lockPath = join(options.dir, 'redis.lock');
    this.pid = pid;
    this.startedHere = child !== undefined;
    this.#child = child;
    if (child) {
      child.once('exit', (code, signal) => this.#onGone(`redis-server (pid ${pid}) exited with ${signal ?? `code ${code}`}`));
    } else {
      // Not our child: notice its death by polling, as a child's exit event never reaches us.
      this.#watch = setInterval(() => {
        if (!isAlive(pid)) this.#onGone(`redis-server (pid ${pid}) is no longer running`);
      }, 1_000);
      this.#watch.unref();
    }
  }

  get url(): string {
    return `unix://${this.socketPath}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onGone(reason: string): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = undefined;
    if (this.#closing || this.#closed) {
      this.#closed = true;
      return;
    }
    this.#closed = true;
    const tail = logTail(this.logPath);
    this.emit('died', tail ? `${reason}; last log lines:\n${tail}` : reason);
  }

  /** Connects to the data directory's running server, or starts one (after cleaning a crashed one's files). */
  static async acquire(options: ManagedRedisOptions): Promise<ManagedRedis> {
    try {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new EngramError(`cannot create ${options.dir} for the managed Redis (${(error as NodeJS.ErrnoException).code ?? String(error)}); check ENGRAM_DATA_DIR`);
    }
    const socketPath = join(options.dir, 'redis.sock');
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new EngramError(
        `the data directory path is too long for a unix socket (${socketPath} is over ${MAX_SOCKET_PATH} bytes); set ENGRAM_DATA_DIR to a shorter path or set REDIS_URL`,
      );
    }
    const pidPath = join(options.dir, 'redis.pid');
    const release = await acquireLock(join(options.dir, 'redis.lock'), options.startTimeoutMs + 5_000);
    try {
      const pid = readPid(pidPath);
      if (pid !== undefined && isAlive(pid) && (await ping(socketPath))) {
        return new ManagedRedis(options, pid, undefined);
      }
      // Anything left now is from a crash: a dead pid, or a socket nobody answers on.
      if (pid !== undefined && isAlive(pid)) {
        throw new EngramError(`redis-server pid ${pid} from ${pidPath} is running but does not answer on ${socketPath}; stop it or remove ${pidPath}`);
      }
      removeIfExists(pidPath);
      removeIfExists(socketPath);
      return await ManagedRedis.#start(options);
    } finally {
      release();
    }
  }

  static async #start(options: ManagedRedisOptions): Promise<ManagedRedis> {
    const dir = options.dir;
    const socketPath = join(dir, 'redis.sock');
    const logPath = join(dir, 'redis.log');
    const args = [
      '--port', '0',
      '--unixsocket', socketPath,
      '--unixsocketperm', '700',
      '--dir', dir,
      '--pidfile', join(dir, 'redis.pid'),
      '--logfile', logPath,
      '--daemonize', 'no',
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--save', '',
      '--maxmemory', options.maxMemory,
      // BullMQ needs keys it owns never to be evicted.
      '--maxmemory-policy', 'noeviction',
    ];
    // detached: a Ctrl-C in this terminal must not kill a server other processes still use.
    const child = spawn(options.binary, args, { detached: true, stdio: 'ignore' });
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new EngramError(`redis-server not found (tried "${options.binary}"): install it (npm run setup does, on Debian) or set REDIS_URL`)
            : new EngramError(`cannot start redis-server "${options.binary}": ${error.message}`),
        );
      });
      child.once('exit', (code, signal) => {
        const tail = logTail(logPath);
        reject(new EngramError(`redis-server exited during start with ${signal ?? `code ${code}`}${tail ? `:\n${tail}` : ''}`));
      });
    });
    spawnError.catch(() => undefined);
    const deadline = Date.now() + options.startTimeoutMs;
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (await ping(socketPath)) return;
        await sleep(20);
      }
      throw new EngramError(`redis-server did not answer on ${socketPath} within ${options.startTimeoutMs} ms; see ${logPath}`);
    })();
    try {
      await Promise.race([ready, spawnError]);
    } catch (error) {
      if (child.exitCode === null && child.pid) child.kill('SIGKILL');
      throw error;
    }
    child.unref();
    return new ManagedRedis(options, child.pid ?? -1, child);
  }

  /**
   * Says this process is done with the server. The last engram process out shuts it down (the
   * append-only file keeps the data); others leave it running. Idempotent.
   */
  async release(ownConnectionPrefix = `${CLIENT_NAME_PREFIX}${process.pid}-`): Promise<'stopped' | 'left-running' | 'gone'> {
    if (this.#closed) return 'gone';
    if (this.#closing) return 'left-running';
    this.#closing = true;
    if (this.#watch) clearInterval(this.#watch);
    const release = await acquireLock(this.lockPath, this.#options.startTimeoutMs + 5_000);
    const client = new Redis({ path: this.socketPath, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      try {
        await client.connect();
      } catch {
        this.#closed = true;
        return 'gone';
      }
      const list = String(await client.client('LIST'));
      const others = list
        .split('\n')
        .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
        .filter((name) => name.startsWith(CLIENT_NAME_PREFIX) && !name.startsWith(ownConnectionPrefix));
      if (others.length > 0) {
        await client.quit();
        return 'left-running';
      }
      try {
        await client.call('SHUTDOWN');
      } catch {
        // The server closes the connection as it shuts down; that is the expected reply.
      }
      await this.#waitGone();
      removeIfExists(this.socketPath);
      removeIfExists(this.pidPath);
      this.#closed = true;
      return 'stopped';
    } finally {
      client.disconnect();
      release();
    }
  }

  async #waitGone(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (isAlive(this.pid) && Date.now() < deadline) {
      // Reap our own child promptly so its pid does not linger as a zombie.
      if (this.#child && this.#child.exitCode !== null) break;
      await sleep(20);
    }
  }
}
