// Containment of what a source can make engram do, tried as a hostile API client would: reach
// local files through a playlist, make engram listen, aim it at its own API, and leave ffprobe
// running. Real ingest worker, real ffmpeg/ffprobe, real sockets; children listed from /proc.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { Role } from '../../pipelines/jobs.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { childrenOf, waitForChildren, waitGone } from '../helpers/children.js';
import { makeTempDir, useTestEnv } from '../helpers/env.js';
import { freePort } from '../helpers/ports.js';
import { ffmpegRun, LiveTsServer } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let app: FastifyInstance;
let closeDeps: () => Promise<void>;
let media: string;
let outside: string;
let web: HttpServer;
let webPort = 0;
let silent: Server;
let silentPort = 0;
let trickle: Server;
let tricklePort = 0;
const sockets = new Set<Socket>();
let apiPort = 0;

const ffprobes = () => childrenOf(process.pid, 'ffprobe');

beforeAll(async () => {
  media = join(env.dataDir, 'media');
  mkdirSync(media);
  outside = makeTempDir('engram-outside-');
  // Two MPEG-TS segments: one served over http, one a local file outside ingest.fileRoots.
  await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=2', '-c:v', 'mpeg2video', '-f', 'mpegts', join(media, 'seg0.ts')]);
  await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=3', '-c:v', 'mpeg2video', '-f', 'mpegts', join(outside, 'secret.ts')]);
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:3', '#EXT-X-MEDIA-SEQUENCE:0', '#EXTINF:2.0,', 'seg0.ts', '#EXTINF:3.0,', `file://${join(outside, 'secret.ts')}`, '#EXT-X-ENDLIST', ''].join('\n');
  web = createHttpServer((req, res) => {
    if (req.url === '/cam.m3u8') res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(playlist);
    else if (req.url === '/seg0.ts') res.writeHead(200, { 'content-type': 'video/mp2t' }).end(readFileSync(join(media, 'seg0.ts')));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as { port: number }).port;
  // A camera that accepts and never says a word, and one that trickles a byte now and then: the
  // second never trips ffprobe's own read timeout, so only engram's probe deadline stops it.
  silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
  trickle = createServer((socket) => {
    sockets.add(socket);
    const timer = setInterval(() => socket.write(Buffer.from([0x47])), 200);
    socket.on('close', () => clearInterval(timer));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
  tricklePort = (trickle.address() as { port: number }).port;

  apiPort = await freePort();
  // The probe deadline only has to end probes of sources that never answer (the deadline tests use
  // their own world); 1.5 s was shorter than probing the HLS playlist takes on a loaded CI machine.
  const loaded = env.loaded({ api: { port: apiPort }, ingest: { fileRoots: [media], probeTimeoutMs: 6_000, connectAttempts: 1, reconnectMinMs: 100 } });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest]);
  streams = new StreamRepository(context.redis.connection('test'), loaded.config.redis.prefix, context.queues);
  const built = await apiDeps(context);
  closeDeps = built.close;
  app = await buildServer({ config: context.config.api, deps: built.deps, log: silentLogger() });
  await app.listen({ host: '127.0.0.1', port: apiPort });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await app?.close();
  await closeDeps?.();
  await context?.close();
  web?.close();
  silent?.close();
  trickle?.close();
});

async function addViaApi(name: string, url: string): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, url }) });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
}

/** Adds a stream behind the API's back (as a job in the queue would arrive) and waits for its end. */
async function ingestDirectly(name: string, source: string) {
  await streams.add({ name, source });
  return streams.waitUntilProcessed(name);
}

describe('sources cannot reach local files', () => {
  it('an HLS playlist over http cannot pull in a file:// segment', async () => {
    // With `file` allowed (before), the 3 s local file became memory after the 2 s http segment.
    const info = await ingestDirectly('hls', `http://127.0.0.1:${webPort}/cam.m3u8`);
    expect(info.durationS).toBeCloseTo(5, 0); // the playlist says 5 s ...
    expect(info.mediaTime).toBeLessThanOrEqual(2.5); // ... but only the http segment was read
    expect(info.state).toBe('failed');
    expect(info.error).toMatch(/truncated or damaged: decoded 2\.\d s of 5\.0 s/);
  });

  it('file:///etc/passwd and data: are refused with a message that says why', async () => {
    const passwd = await addViaApi('passwd', 'file:///etc/passwd');
    expect(passwd.status).toBe(400);
    expect(passwd.body.message).toMatch(/^file \/etc\/passwd is outside the allowed directories \(ingest\.fileRoots: /);
    const data = await addViaApi('inline', 'data:video/mp2t;base64,R0dHRw==');
    expect(data.status).toBe(400);
    expect(data.body.message).toMatch(/^"data:" is not a source engram can watch: give a file path, a URL/);
  });

  it('stdin through the API is a 400 naming the problem', async () => {
    const res = await addViaApi('pipe', '-');
    expect(res).toEqual({ status: 400, body: { error: 'bad_request', message: expect.stringMatching(/^url "-" \(stdin\) is only for `engram ingest -`/) } });
    expect(await streams.get('pipe')).toBeUndefined();
  });
});

describe('sources cannot make engram listen', () => {
  const refusesToConnect = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });

  it('tcp ?listen is refused by the API and by the worker, and nothing listens', async () => {
    const port = await freePort();
    const res = await addViaApi('listener', `tcp://0.0.0.0:${port}?listen`);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/source option "listen" is refused: engram connects out to sources and never listens/);
    const info = await ingestDirectly('listener', `tcp://0.0.0.0:${port}?listen=1`);
    expect(info.state).toBe('failed');
    expect(info.error).toMatch(/"listen" is refused/);
    expect(await refusesToConnect(port)).toBe(true);
  });

  it('udp binds loopback only, and a udp source on another address is refused', async () => {
    const port = await freePort();
    const wide = await addViaApi('udp-wide', `udp://0.0.0.0:${port}`);
    expect(wide.status).toBe(400);
    expect(wide.body.message).toMatch(/would make engram listen for datagrams on every interface/);
    await streams.add({ name: 'udp-local', source: `udp://127.0.0.1:${port}` });
    // While ffprobe waits for datagrams, its socket is bound to 127.0.0.1:port, not 0.0.0.0:port.
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    let bound: string[] = [];
    for (const deadline = Date.now() + 5_000; bound.length === 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      bound = readFileSync('/proc/net/udp', 'utf8')
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[1] ?? '')
        .filter((local) => local.endsWith(`:${hex}`));
    }
    expect(bound).toEqual([`0100007F:${hex}`]);
    await streams.stop('udp-local');
    expect((await streams.waitUntilProcessed('udp-local')).state).toMatch(/stopped|failed/);
  });
});

describe('sources cannot aim engram at itself', () => {
  it('http to its own API port is refused by the API and by the worker', async () => {
    for (const url of [`http://127.0.0.1:${apiPort}/api/streams`, `http://localhost:${apiPort}/`, `tcp://0.0.0.0:${apiPort}`]) {
      const res = await addViaApi('self', url);
      expect(res.status, url).toBe(400);
      expect(res.body.message, url).toMatch(new RegExp(`points at engram's own API \\(api\\.host/api\\.port\\), port ${apiPort}`));
    }
    const info = await ingestDirectly('self', `http://127.0.0.1:${apiPort}/api/streams`);
    expect(info.state).toBe('failed');
    expect(info.error).toMatch(/own API/);
  });

  it('a local restreamer on another port is still a normal source', async () => {
    const res = await addViaApi('restream', `tcp://127.0.0.1:${silentPort}`);
    expect(res.status).toBe(201);
    await streams.stop('restream');
    await streams.waitUntilProcessed('restream');
  });
});

describe('no ffprobe outlives its reason', () => {
  /** A second engram (ingest worker and API) whose probes may wait `probeTimeoutMs`. */
  async function world(probeTimeoutMs: number, ingest: Record<string, unknown> = {}) {
    const port = await freePort();
    const ctx = await EngramContext.open(env.loaded({ redis: { prefix: `probe${probeTimeoutMs}` }, api: { port }, ingest: { probeTimeoutMs, connectAttempts: 1, ...ingest } }), silentLogger());
    await startRoles(ctx, [Role.Ingest]);
    const built = await apiDeps(ctx);
    const server = await buildServer({ config: ctx.config.api, deps: built.deps, log: silentLogger() });
    await server.listen({ host: '127.0.0.1', port });
    const repo = new StreamRepository(ctx.redis.connection('test'), ctx.config.redis.prefix, ctx.queues);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await server.close();
      await built.close();
      await ctx.close();
    };
    cleanups.push(close);
    return { port, streams: repo, close };
  }
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanups) await fn();
  });

  it('deleting a stream through the API kills its ffprobe', async () => {
    // A long probe deadline, so only the delete can end it.
    const w = await world(30_000);
    await w.streams.add({ name: 'hang-delete', source: `tcp://127.0.0.1:${silentPort}` });
    const probing = (await waitForChildren(ffprobes, 10_000)).map((c) => c.pid);
    expect(probing).toHaveLength(1);
    const res = await fetch(`http://127.0.0.1:${w.port}/api/streams/hang-delete`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await waitGone(probing, 3_000)).toEqual([]);
    expect((await w.streams.waitUntilProcessed('hang-delete')).state).toBe('stopped');
    await w.close();
  });

  it('shutting the worker down kills its ffprobe', async () => {
    const w = await world(30_000);
    await w.streams.add({ name: 'hang-shutdown', source: `tcp://127.0.0.1:${silentPort}` });
    const probing = (await waitForChildren(ffprobes, 10_000)).map((c) => c.pid);
    expect(probing).toHaveLength(1);
    const closing = Date.now();
    await w.close();
    expect(await waitGone(probing, 3_000)).toEqual([]);
    expect(Date.now() - closing).toBeLessThan(10_000);
    expect(ffprobes()).toEqual([]);
  });

  it('deleting a live stream, or shutting down, kills its decoding ffmpeg', async () => {
    const camera = new LiveTsServer(join(media, 'seg0.ts'));
    await camera.start();
    try {
      const cameraFfmpeg = childrenOf(process.pid, 'ffmpeg').map((c) => c.pid);
      const decoders = () => childrenOf(process.pid, 'ffmpeg').filter((c) => !cameraFfmpeg.includes(c.pid));
      const w = await world(5_000);
      await w.streams.add({ name: 'live-delete', source: camera.url, live: true });
      const first = (await waitForChildren(decoders, 15_000)).map((c) => c.pid);
      expect(first).toHaveLength(1);
      const res = await fetch(`http://127.0.0.1:${w.port}/api/streams/live-delete`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(await waitGone(first, 3_000)).toEqual([]);
      await w.streams.add({ name: 'live-shutdown', source: camera.url, live: true });
      const second = (await waitForChildren(decoders, 15_000)).map((c) => c.pid);
      expect(second).toHaveLength(1);
      await w.close();
      expect(await waitGone(second, 3_000)).toEqual([]);
      expect(decoders()).toEqual([]);
    } finally {
      await camera.stop();
    }
  });

  it('ingest.allowedHosts keeps sources to the listed networks; an unresolvable name is retried, then refused', async () => {
    const w = await world(1_500, { allowedHosts: ['127.0.0.0/8'], connectAttempts: 2, reconnectMinMs: 100 });
    const res = await fetch(`http://127.0.0.1:${w.port}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'far', url: 'rtsp://192.0.2.10/stream' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe('source host "192.0.2.10" is not in ingest.allowedHosts (127.0.0.0/8)');
    await w.streams.add({ name: 'far', source: 'rtsp://192.0.2.10/stream' });
    expect((await w.streams.waitUntilProcessed('far')).error).toBe('source host "192.0.2.10" is not in ingest.allowedHosts (127.0.0.0/8)');
    await w.streams.add({ name: 'nowhere', source: 'rtsp://camera.invalid/stream' });
    expect((await w.streams.waitUntilProcessed('nowhere')).error).toBe(
      'rtsp://camera.invalid/stream: source host "camera.invalid" could not be resolved, so it cannot be checked against ingest.allowedHosts (127.0.0.0/8) (2 attempts)',
    );
    // A listed network is an ordinary source (this one never answers).
    await w.streams.add({ name: 'near', source: `tcp://127.0.0.1:${silentPort}` });
    expect((await w.streams.waitUntilProcessed('near')).error).toMatch(/never answered after 2 attempts/);
    await w.close();
  });

  it('a process that exits abruptly takes its ffprobe with it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'test/ingest/probe-exit-child.ts'), String(silentPort)], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await new Promise((resolve) => child.once('exit', resolve));
    const pids = JSON.parse(out) as number[];
    expect(pids).toHaveLength(1);
    expect(await waitGone(pids, 2_000)).toEqual([]);
  });

  it('a probe past its deadline is killed, even when the source keeps trickling bytes', async () => {
    const w = await world(1_000);
    const started = Date.now();
    await w.streams.add({ name: 'trickle', source: `tcp://127.0.0.1:${tricklePort}` });
    const probing = (await waitForChildren(ffprobes, 10_000)).map((c) => c.pid);
    expect(probing).toHaveLength(1);
    const info = await w.streams.waitUntilProcessed('trickle');
    expect(info.state).toBe('failed');
    expect(info.error).toMatch(/never answered after 1 attempts \(no answer within 1000 ms\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await waitGone(probing, 1_000)).toEqual([]);
    expect(ffprobes()).toEqual([]);
    await w.close();
  });
});
