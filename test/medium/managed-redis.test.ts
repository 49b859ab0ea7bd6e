// The redis-server engram runs for itself: started once per data directory, shared, stopped by
// the last process out, stale files from a crash cleaned, a death reported.
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { EngramError } from '../../config/errors.js';
import { ManagedRedis, clientName } from '../../pipelines/repositories/redis-server.js';
import { isAlive } from '../../pipelines/repositories/lock-file.js';
import { makeTempDir } from '../helpers/env.js';

const dirs: string[] = [];
const servers: ManagedRedis[] = [];

function options(dir: string) {
  return { dir, binary: 'redis-server', startTimeoutMs: 10_000, maxMemory: '0' };
}

function newDir(): string {
  const dir = makeTempDir('engram-mr-');
  dirs.push(dir);
  return join(dir, 'redis');
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    if (isAlive(server.pid)) process.kill(server.pid, 'SIGKILL');
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function named(socketPath: string, purpose: string): Promise<Redis> {
  const client = new Redis({ path: socketPath, connectionName: clientName(purpose) });
  await client.ping();
  return client;
}

describe('managed redis-server', () => {
  it('starts a server on a unix socket with an append-only file, and stops it when the last user leaves', async () => {
    const dir = newDir();
    const server = await ManagedRedis.acquire(options(dir));
    servers.push(server);
    expect(server.startedHere).toBe(true);
    expect(existsSync(server.socketPath)).toBe(true);
    const client = await named(server.socketPath, 'test');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await client.set('remembered', '1');
    await client.quit();
    expect(await server.release()).toBe('stopped');
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(server.socketPath)).toBe(false);
    // The data survives: a new server in the same directory replays the append-only file.
    const again = await ManagedRedis.acquire(options(dir));
    servers.push(again);
    const reader = new Redis({ path: again.socketPath });
    expect(await reader.get('remembered')).toBe('1');
    await reader.quit();
    await again.release();
  });

  it('is shared: a second user connects to the running server, and the server stays while anyone uses it', async () => {
    const dir = newDir();
    const first = await ManagedRedis.acquire(options(dir));
    servers.push(first);
    // Another engram process, simulated by a connection named as another pid would name it.
    const other = new Redis({ path: first.socketPath, connectionName: 'engram-999999-worker' });
    await other.ping();
    const second = await ManagedRedis.acquire(options(dir));
    expect(second.startedHere).toBe(false);
    expect(second.pid).toBe(first.pid);
    expect(await first.release()).toBe('left-running');
    expect(isAlive(first.pid)).toBe(true);
    await other.quit();
    expect(await second.release()).toBe('stopped');
    expect(isAlive(first.pid)).toBe(false);
  });

  it('starts exactly one server when two processes ask at the same moment', async () => {
    const dir = newDir();
    const script = `
      import { ManagedRedis } from ${JSON.stringify(new URL('../../pipelines/repositories/redis-server.ts', import.meta.url).pathname)};
      const s = await ManagedRedis.acquire(${JSON.stringify(options(dir))});
      console.log(JSON.stringify({ pid: s.pid, startedHere: s.startedHere }));
      process.exit(0);`;
    const run = () =>
      new Promise<{ pid: number; startedHere: boolean }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => {
          try {
            resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
          } catch (error) {
            reject(new Error(`child printed ${out}: ${String(error)}`));
          }
        });
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.pid).toBe(b.pid);
    expect([a.startedHere, b.startedHere].sort()).toEqual([false, true]);
    const server = await ManagedRedis.acquire(options(dir));
    servers.push(server);
    expect(server.pid).toBe(a.pid);
    expect(await server.release()).toBe('stopped');
  });

  it('cleans a stale pid file and socket left by a crash, and starts afresh', async () => {
    const dir = newDir();
    const crashed = await ManagedRedis.acquire(options(dir));
    servers.push(crashed);
    process.kill(crashed.pid, 'SIGKILL');
    await sleep(200);
    // A crash leaves the socket file behind; and a pid file pointing at a dead process.
    expect(existsSync(join(dir, 'redis.sock'))).toBe(true);
    writeFileSync(join(dir, 'redis.pid'), '999999\n');
    const fresh = await ManagedRedis.acquire(options(dir));
    servers.push(fresh);
    expect(fresh.startedHere).toBe(true);
    expect(fresh.pid).not.toBe(crashed.pid);
    const client = new Redis({ path: fresh.socketPath });
    expect(await client.ping()).toBe('PONG');
    await client.quit();
    await fresh.release();
  });

  it('reports a server that dies instead of restarting it', async () => {
    const dir = newDir();
    const server = await ManagedRedis.acquire(options(dir));
    servers.push(server);
    const died = new Promise<string>((resolve) => server.once('died', resolve));
    process.kill(server.pid, 'SIGKILL');
    const reason = await died;
    expect(reason).toMatch(new RegExp(`redis-server \\(pid ${server.pid}\\) exited with SIGKILL`));
    await sleep(300);
    expect(existsSync(join(dir, 'redis.pid')) && isAlive(server.pid)).toBe(false);
  });

  it('names a missing redis-server binary', async () => {
    const dir = newDir();
    await expect(ManagedRedis.acquire({ ...options(dir), binary: '/nonexistent/redis-server' })).rejects.toThrow(EngramError);
    await expect(ManagedRedis.acquire({ ...options(dir), binary: '/nonexistent/redis-server' })).rejects.toThrow(/redis-server not found \(tried "\/nonexistent\/redis-server"\)/);
  });

  it('refuses a data directory whose socket path would be too long', async () => {
    const dir = join(newDir(), 'x'.repeat(120));
    await expect(ManagedRedis.acquire(options(dir))).rejects.toThrow(/too long for a unix socket/);
  });
});
