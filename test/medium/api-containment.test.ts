// What a web page or a greedy client can do to a running API: DNS rebinding against a keyless
// loopback server, dodging the question rate limit by rotating keys, and aiming a stream at
// engram's own Redis. Real Redis (a TCP one here), real BullMQ, real LanceDB, a listening server.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../services/api/auth.js';
import { openApi } from '../helpers/api.js';
import { useTestEnv } from '../helpers/env.js';
import { freePort } from '../helpers/ports.js';

const env = useTestEnv();
const cleanups: (() => Promise<void>)[] = [];

/** A listening API server; returns its port. */
async function serve(overrides: Record<string, unknown>, prefix: string): Promise<{ port: number; app: FastifyInstance }> {
  const port = await freePort();
  const loaded = env.loaded({ redis: { prefix }, ...overrides, api: { port, ...((overrides.api as object | undefined) ?? {}) } });
  const { app, stop } = await openApi(loaded);
  cleanups.push(stop);
  await app.listen({ host: '127.0.0.1', port });
  return { port, app };
}

/** A raw HTTP request, so the Host header is exactly what a rebinding browser would send. */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function ask(port: number, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ question: 'what happened?' }) });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string }, retryAfter: res.headers.get('retry-after') };
}

afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('DNS rebinding (no keys, loopback)', () => {
  let port = 0;
  beforeAll(async () => {
    ({ port } = await serve({ api: { hostNames: ['engram.home'] } }, 'rebind'));
  });

  it('answers to loopback names, api.host and api.hostNames', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'engram.home']) {
      expect((await get(port, '/api/streams', { host })).status, host).toBe(200);
    }
  });

  it('refuses any other Host, on data, the dashboard and the UI alike', async () => {
    for (const path of ['/api/streams', '/api/events', '/admin/queues', '/', '/metrics']) {
      const res = await get(port, path, { host: `rebind.evil.example:${port}` });
      expect(res.status, path).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error: 'host_not_allowed', message: expect.stringMatching(/^Host "rebind\.evil\.example:\d+" is not a name this server answers to without an API key/) });
    }
    // Liveness stays open for orchestrators, and says nothing.
    expect(await get(port, '/healthz', { host: 'rebind.evil.example' })).toEqual({ status: 200, body: '{"ok":true}' });
  });

  it('does not check the Host header where every request needs a key anyway', async () => {
    const key = 'k-rebind';
    const keyed = await serve({ api: { apiKeys: [hashKey(key)] } }, 'rebind-keyed');
    expect((await get(keyed.port, '/api/streams', { host: 'any.example', authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await get(keyed.port, '/api/streams', { host: 'any.example' })).status).toBe(401);
  });
});

describe('question rate limit', () => {
  it('keys a keyless server by address: a rotating x-api-key gets no fresh allowance', async () => {
    const { port } = await serve({ api: { queryRateMax: 3, queryRateWindowMs: 45_000 } }, 'rate-open');
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof ask>> | undefined;
    for (let i = 0; i < 5; i += 1) {
      last = await ask(port, { 'x-api-key': `rotating-${i}` });
      statuses.push(last.status);
    }
    // Without a reason worker the API answers in its own process (an empty memory says so).
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.body).toEqual({ error: 'rate_limited', message: expect.stringMatching(/^too many questions from this client: at most 3 per 45 s \(api\.queryRateMax, api\.queryRateWindowMs\); try again in \d+ seconds?$/) });
    expect(Number(last!.retryAfter)).toBeGreaterThan(40);
  });

  it('keys a keyed server by accepted key, so two clients behind one address do not share a limit', async () => {
    const keys = ['k-alice', 'k-bob'];
    const { port } = await serve({ api: { queryRateMax: 2, apiKeys: keys.map(hashKey) } }, 'rate-keyed');
    const alice = [await ask(port, { 'x-api-key': 'k-alice' }), await ask(port, { 'x-api-key': 'k-alice' }), await ask(port, { 'x-api-key': 'k-alice' })];
    expect(alice.map((r) => r.status)).toEqual([200, 200, 429]);
    expect((await ask(port, { authorization: 'Bearer k-bob' })).status).toBe(200);
    // A wrong key is refused before it is counted anywhere.
    expect((await ask(port, { 'x-api-key': 'k-mallory' })).status).toBe(403);
  });
});

describe("engram's own Redis is not a source", () => {
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  beforeAll(async () => {
    redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i += 1) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = createServer();
        socket.once('error', () => resolve(true));
        socket.listen(redisPort, '127.0.0.1', () => socket.close(() => resolve(false)));
      });
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(() => {
    redis?.kill('SIGTERM');
  });

  it('refuses http and tcp sources aimed at the Redis engram runs on', async () => {
    const { port } = await serve({ redis: { url: `redis://127.0.0.1:${redisPort}` } }, 'own-redis');
    for (const url of [`http://127.0.0.1:${redisPort}/`, `tcp://localhost:${redisPort}`]) {
      const res = await fetch(`http://127.0.0.1:${port}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'redis', url }) });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { message: string }).message, url).toMatch(new RegExp(`points at engram's Redis \\(redis\\.url / REDIS_URL\\), port ${redisPort}`));
    }
  });
});
