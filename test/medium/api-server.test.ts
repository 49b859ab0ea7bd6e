// The HTTP API over real Redis, real BullMQ queues and a real LanceDB directory: health, auth,
// validation, metrics, the queue dashboard, the OpenAPI document, the UI files and live events.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { LivePublisher } from '../../pipelines/repositories/live.js';
import { hashKey } from '../../services/api/auth.js';
import { EngramContext } from '../../services/runtime/context.js';
import { defineRoleForTest, startRoles } from '../../services/runtime/roles.js';
import { openApi } from '../helpers/api.js';
import { makeTempDir, useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { testModelsConfig } from '../helpers/test-models.js';

const env = useTestEnv();
const KEY = 'correct horse battery staple';
const cleanups: (() => Promise<void>)[] = [];

async function server(api: Record<string, unknown> = {}, prefix = 'api', more: Record<string, unknown> = {}): Promise<{ app: FastifyInstance; context: EngramContext }> {
  const { app, context, stop } = await openApi(env.loaded({ redis: { prefix }, api: { port: 0, ...api }, ...more }));
  cleanups.push(stop);
  return { app, context };
}

afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('open loopback server (no keys configured)', () => {
  let app: FastifyInstance;
  let context: EngramContext;
  beforeAll(async () => {
    ({ app, context } = await server({}, 'open'));
  });

  it('answers /healthz and /readyz with Redis, LanceDB and the blob store reachable', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ ok: true });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ok: true, checks: { redis: { ok: true }, lancedb: { ok: true }, blobs: { ok: true } } });
  });

  it('serves Prometheus text with queue counts, job durations and process memory', async () => {
    await context.queues.add(JobName.PerceiveChunk, { stream: 'cam1', seq: 1 });
    await context.queues.add(JobName.PerceiveChunk, { stream: 'cam1', seq: 2 });
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const exp = parsePrometheus(res.body);
    expect(sampleValue(exp, 'engram_queue_jobs', { queue: 'perceive', state: 'waiting' })).toBe(2);
    for (const queue of ['ingest', 'segment', 'consolidate', 'reason']) {
      for (const state of ['waiting', 'active', 'failed']) expect(sampleValue(exp, 'engram_queue_jobs', { queue, state })).toBe(0);
    }
    expect(sampleValue(exp, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(exp.types.get('engram_job_duration_seconds')).toBe('histogram');
    expect(exp.types.get('engram_inference_seconds')).toBe('histogram');
    expect(exp.types.get('engram_inference_batch_size')).toBe('histogram');
  });

  it('reports how long jobs took, from this process\'s workers and from BullMQ\'s timestamps', async () => {
    const undo = defineRoleForTest(Role.Segment, async () => ({
      handlers: async () => ({
        [JobName.SegmentTick]: async () => {
          await sleep(120);
          return 'done' as const;
        },
      }),
    }));
    try {
      const { context: worker } = await server({}, 'durations');
      await startRoles(worker, [Role.Segment]);
      for (let i = 0; i < 3; i += 1) await worker.queues.add(JobName.SegmentTick, { stream: `cam${i}` });
      const deadline = Date.now() + 10_000;
      while ((await worker.queues.counts())[QueueName.Segment].completed < 3 && Date.now() < deadline) await sleep(50);
      const { app: scraper } = await server({}, 'durations');
      const exp = parsePrometheus((await scraper.inject('/metrics')).body);
      expect(sampleValue(exp, 'engram_job_duration_seconds_count', { queue: 'segment', outcome: 'completed' })).toBe(3);
      expect(sampleValue(exp, 'engram_job_duration_seconds_sum', { queue: 'segment', outcome: 'completed' })).toBeGreaterThan(0.3);
      const recent = sampleValue(exp, 'engram_queue_recent_job_duration_seconds', { queue: 'segment' });
      expect(recent).toBeGreaterThan(0.1);
      expect(recent).toBeLessThan(2);
      expect(sampleValue(exp, 'engram_queue_jobs', { queue: 'segment', state: 'completed' })).toBe(3);
      // One process runs a segment worker on this prefix, none a perceive worker.
      expect(sampleValue(exp, 'engram_queue_workers', { queue: 'segment' })).toBe(1);
      expect(sampleValue(exp, 'engram_queue_workers', { queue: 'perceive' })).toBe(0);
      expect(await worker.queues.workers(QueueName.Segment)).toEqual([expect.objectContaining({ pid: process.pid })]);
    } finally {
      undo();
    }
  });

  it('lists every engram queue on the dashboard', async () => {
    const page = await app.inject({ url: '/admin/queues', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('engram queues');
    const api = await app.inject('/admin/queues/api/queues?activeQueue=perceive&status=waiting&page=1');
    expect(api.statusCode).toBe(200);
    const names = (api.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['consolidate', 'ingest', 'perceive', 'reason', 'segment']);
  });

  it('describes the API as OpenAPI at /docs, with the zod schemas as JSON Schema', async () => {
    const spec = (await app.inject('/docs/json')).json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> } }>> };
    expect(spec.openapi).toBe('3.1.0');
    for (const path of ['/api/streams', '/api/streams/{name}', '/api/query', '/api/events', '/api/events/{id}', '/api/events/{id}/thumbnail', '/api/events/{id}/clip', '/api/live', '/healthz', '/readyz', '/metrics']) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
    const query = spec.paths['/api/query']?.post?.requestBody?.content['application/json']?.schema;
    // A question, an example, or both: none of the fields is required on its own.
    expect(query?.required ?? []).toEqual([]);
    expect(Object.keys(query?.properties ?? {})).toEqual(['question', 'stream', 'since', 'until', 'image', 'audio', 'face']);
    const page = await app.inject('/docs');
    expect(page.body).toContain('<code>/api/query</code>');
  });

  it('serves the web UI', async () => {
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('id="ask"');
    expect(page.body).toContain('href="/admin/queues"');
    const js = await app.inject('/ui/app.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await app.inject('/ui/../../package.json')).statusCode).toBe(404);
  });

  it('names the bad field in a 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/query', payload: { question: 42 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request', fields: ['body.question'] });
    expect(res.json().message).toMatch(/^body\.question: /);
    const extra = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'cam', url: 'x.mp4', colour: 'red' } });
    expect(extra.json()).toMatchObject({ fields: ['body.colour'] });
    const name = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'Bad Name!', url: 'x.mp4' } });
    expect(name.json().message).toMatch(/^body\.name: a stream name/);
    const time = await app.inject('/api/events?since=yesterday-ish');
    expect(time.statusCode).toBe(400);
    expect(time.json().message).toMatch(/^query\.since: expected an ISO 8601 time/);
    const id = await app.inject('/api/events/..%2F..%2Fetc%2Fpasswd');
    expect(id.statusCode).toBe(400);
    expect(id.json().fields).toEqual(['params.id']);
  });

  it('answers a question with the same JSON as engram query --json, and names a bad time bound', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/query', payload: { question: 'what happened?', since: 'yesterday' } });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(['answer', 'evidence', 'question', 'timings']);
    const bad = await app.inject({ method: 'POST', url: '/api/query', payload: { question: 'what happened?', since: 'the day after never' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ fields: ['body.since'] });
    expect(bad.json().message).toMatch(/^body\.since: "the day after never" is not a time/);
  });

  it('refuses bodies over api.bodyLimitBytes and non-JSON bodies with 4xx', async () => {
    const big = await app.inject({ method: 'POST', url: '/api/query', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ question: 'x'.repeat(1_100_000) }) });
    expect(big.statusCode).toBe(413);
    const broken = await app.inject({ method: 'POST', url: '/api/query', headers: { 'content-type': 'application/json' }, payload: '{"question": ' });
    expect(broken.statusCode).toBe(400);
    const text = await app.inject({ method: 'POST', url: '/api/query', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    // Fastify reads text/plain as a string; the schema wants an object and says so.
    expect(text.statusCode).toBe(400);
    expect(text.json().message).toMatch(/^body: /);
    const xml = await app.inject({ method: 'POST', url: '/api/query', headers: { 'content-type': 'application/xml' }, payload: '<q/>' });
    expect(xml.statusCode).toBe(415);
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const { app: withCors } = await server({ corsOrigins: ['https://ui.example'] }, 'cors');
    const pre = await withCors.inject({ method: 'OPTIONS', url: '/api/events', headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET' } });
    expect(pre.headers['access-control-allow-origin']).toBe('https://ui.example');
    const other = await withCors.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('rate limits /api/query per client', async () => {
    const { app: limited } = await server({ queryRateMax: 3, queryRateWindowMs: 60_000 }, 'rate');
    const codes: number[] = [];
    for (let i = 0; i < 5; i += 1) codes.push((await limited.inject({ method: 'POST', url: '/api/query', payload: {} })).statusCode);
    expect(codes).toEqual([400, 400, 400, 429, 429]);
    // Other routes are not limited.
    expect((await limited.inject('/healthz')).statusCode).toBe(200);
  });
});

describe('streams through the real stream repository', () => {
  let app: FastifyInstance;
  let context: EngramContext;
  beforeAll(async () => {
    // Only the shared media directory is an allowed file root here.
    ({ app, context } = await server({}, 'streams', { ingest: { fileRoots: [SHARED_MEDIA] } }));
  });

  it('adds a file stream, lists it with state, lag, drops and gaps, refuses a second add, and stops it', async () => {
    const added = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'road', url: CAR_DETECTION } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ name: 'road', source: CAR_DETECTION, state: 'starting', lagS: 0, droppedFrames: 0, gaps: [] });
    // The ingest job is waiting for an ingest worker.
    expect((await context.queues.counts()).ingest.waiting).toBe(1);
    const list = (await app.inject('/api/streams')).json() as { streams: { name: string; state: string }[] };
    expect(list.streams.map((s) => [s.name, s.state])).toEqual([['road', 'starting']]);
    expect((await app.inject('/api/streams/road')).json()).toMatchObject({ name: 'road', state: 'starting' });
    const again = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'road', url: CAR_DETECTION } });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/stream "road" already exists and is starting/);
    const exp = parsePrometheus((await app.inject('/metrics')).body);
    expect(sampleValue(exp, 'engram_stream_lag_seconds', { stream: 'road' })).toBe(0);
    expect(sampleValue(exp, 'engram_stream_dropped_frames', { stream: 'road' })).toBe(0);
    expect(sampleValue(exp, 'engram_stream_gaps', { stream: 'road' })).toBe(0);
    const stopped = await app.inject({ method: 'DELETE', url: '/api/streams/road' });
    expect(stopped.json()).toEqual({ stopped: 'road' });
    expect((await app.inject('/api/streams/road')).json()).toMatchObject({ state: 'stopped' });
  });

  it('answers 404 for a stream it does not know', async () => {
    expect((await app.inject('/api/streams/nowhere')).statusCode).toBe(404);
    const stop = await app.inject({ method: 'DELETE', url: '/api/streams/nowhere' });
    expect(stop.statusCode).toBe(404);
    expect(stop.json().message).toBe('no stream named "nowhere"');
  });

  it('refuses sources ingest would refuse, naming why', async () => {
    const outside = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'passwd', url: '/etc/passwd' } });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().message).toMatch(/\/etc\/passwd/);
    const protocol = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'gopher', url: 'gopher://example.org/x' } });
    expect(protocol.statusCode).toBe(400);
    expect(protocol.json().message).toMatch(/protocol "gopher" is not allowed/);
    const missing = await app.inject({ method: 'POST', url: '/api/streams', payload: { name: 'gone', url: `${SHARED_MEDIA}/no-such.mp4` } });
    expect(missing.statusCode).toBe(400);
    expect((await app.inject('/api/streams')).json().streams.map((s: { name: string }) => s.name)).toEqual(['road']);
  });
});

describe('server with API keys', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    ({ app } = await server({ apiKeys: [hashKey(KEY)] }, 'keys'));
  });

  const routes: [string, string][] = [
    ['GET', '/readyz'],
    ['GET', '/metrics'],
    ['GET', '/docs'],
    ['GET', '/docs/json'],
    ['GET', '/'],
    ['GET', '/ui/app.js'],
    ['GET', '/admin/queues'],
    ['GET', '/admin/queues/api/queues'],
    ['GET', '/api/streams'],
    ['POST', '/api/streams'],
    ['GET', '/api/streams/cam'],
    ['DELETE', '/api/streams/cam'],
    ['POST', '/api/query'],
    ['GET', '/api/events'],
    ['GET', '/api/events/cam.0000001000'],
    ['GET', '/api/events/cam.0000001000/thumbnail'],
    ['GET', '/api/events/cam.0000001000/clip'],
    ['GET', '/api/live'],
  ];

  it('answers 401 without a key and 403 with a wrong one on every route but /healthz', async () => {
    for (const [method, url] of routes) {
      const none = await app.inject({ method: method as 'GET', url });
      expect(none.statusCode, `${method} ${url} without key`).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="engram"');
      const wrong = await app.inject({ method: method as 'GET', url, headers: { authorization: 'Bearer not-the-key' } });
      expect(wrong.statusCode, `${method} ${url} with a wrong key`).toBe(403);
      const wrongHeader = await app.inject({ method: method as 'GET', url, headers: { 'x-api-key': 'not-the-key' } });
      expect(wrongHeader.statusCode).toBe(403);
    }
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('lets the right key through (Bearer or x-api-key)', async () => {
    expect((await app.inject({ url: '/readyz', headers: { authorization: `Bearer ${KEY}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', headers: { 'x-api-key': KEY } })).statusCode).toBe(200);
    const dash = await app.inject({ url: '/admin/queues/api/queues', headers: { 'x-api-key': KEY } });
    expect(dash.statusCode).toBe(200);
  });

  it('gives a browser a key form, and a cookie once the key is right', async () => {
    const page = await app.inject({ url: '/admin/queues', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.statusCode).toBe(401);
    expect(page.body).toContain('<form id="login"');
    expect((await app.inject({ method: 'POST', url: '/api/login', payload: { key: 'nope' } })).statusCode).toBe(403);
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { key: KEY } });
    expect(login.statusCode).toBe(204);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await app.inject({ url: '/admin/queues', headers: { accept: 'text/html', cookie: cookie.split(';')[0] as string } });
    expect(withCookie.statusCode).toBe(200);
  });
});

describe('a real listening server', () => {
  it('streams live events and stream state over SSE', async () => {
    const { app, context } = await server({}, 'live');
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const health = await fetch(`${address}/healthz`);
    expect(await health.json()).toEqual({ ok: true });

    const abort = new AbortController();
    const res = await fetch(`${address}/api/live`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (needle: string) => {
      const deadline = Date.now() + 5_000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no "${needle}" in SSE: ${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE ended');
        text += new TextDecoder().decode(value);
      }
    };
    await until('event: hello');
    const publisher = new LivePublisher(context.redis, 'live');
    expect(await publisher.publishStream({ stream: 'porch', state: 'reconnecting', gaps: 1, message: 'connection refused' })).toBe(true);
    await until('event: stream');
    const published = { id: 'porch.0000005000', stream: 'porch', start: 5, end: 9, startedAt: 1_764_300_000_000, endedAt: 1_764_300_004_000, summary: 'a car passes', tags: ['motion-high'], thumbnail: 'thumbs/porch/5000.jpg', labels: ['car'], counts: { car: { distinct: 1, max: 1 } } };
    expect(await publisher.publishEvent({ ...published })).toBe(true);
    await until('"a car passes"');
    const frames = text.split('\n\n').filter((f) => f.startsWith('event: '));
    const streamFrame = frames.find((f) => f.startsWith('event: stream'))!;
    expect(JSON.parse(streamFrame.split('data: ')[1]!)).toMatchObject({ type: 'stream', stream: 'porch', state: 'reconnecting', gaps: 1 });
    const eventFrame = frames.find((f) => f.startsWith('event: event'))!;
    expect(JSON.parse(eventFrame.split('data: ')[1]!)).toEqual(published);
    abort.abort();
    // Closing the server ends open SSE responses instead of waiting for them.
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('query by example through POST /api/query', () => {
  let app: FastifyInstance;
  let png = '';
  let wav = '';
  let dir = '';
  const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;
  const ask = (target: FastifyInstance, payload: Record<string, unknown>) => target.inject({ method: 'POST', url: '/api/query', payload });
  beforeAll(async () => {
    ({ app } = await server({}, 'examples'));
    dir = makeTempDir('engram-api-examples-');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=green:s=64x48', '-frames:v', '1', '-y', join(dir, 'green.png')]);
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-y', join(dir, 'tone.wav')]);
    png = dataUrl('image/png', readFileSync(join(dir, 'green.png')));
    wav = dataUrl('audio/wav', readFileSync(join(dir, 'tone.wav')));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the example field for a value that is not a data URL, bad base64, a wrong type or an empty file', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ image: png.slice(png.indexOf(',') + 1) }, 'body.image', /^body\.image: expected a data URL: data:<type>;base64,<bytes>/],
      [{ image: 'data:image/png;base64,iVBOR*w0K!!' }, 'body.image', /^body\.image: the data after "base64," is not valid base64$/],
      [{ audio: 'data:audio/wav;base64,UklGR' }, 'body.audio', /^body\.audio: the data after "base64," is not valid base64$/],
      [{ audio: png }, 'body.audio', /^body\.audio: the data URL declares image\/png; an audio\/\* or video\/\* type is expected here$/],
      [{ image: wav, question: 'green' }, 'body.image', /^body\.image: the data URL declares audio\/wav; an image\/\* type is expected here$/],
      [{ image: 'data:image/png;base64,' }, 'body.image', /^body\.image: the image file is empty$/],
      [{ image: 42 }, 'body.image', /^body\.image: /],
      [{ question: '   ' }, 'body.question', /^body\.question: ask a question: text is empty \(or give an image or audio example\)$/],
    ];
    for (const [payload, field, message] of cases) {
      const res = await ask(app, payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json()).toMatchObject({ error: 'bad_request', fields: [field] });
      expect(res.json().message).toMatch(message);
    }
  });

  it('refuses an example over the size limits: the body limit with 413, the example limit with a 400 naming the field', async () => {
    const big = await ask(app, { audio: dataUrl('audio/wav', new Uint8Array(900_000)) });
    expect(big.statusCode).toBe(413);
    expect(big.json().message).toMatch(/^the request body is larger than api\.bodyLimitBytes \(1048576 bytes\)/);
    const { app: roomy } = await server({ bodyLimitBytes: 32 * 1048576 }, 'roomy');
    const huge = await ask(roomy, { audio: dataUrl('audio/wav', new Uint8Array(21 * 1048576)) });
    expect(huge.statusCode).toBe(400);
    expect(huge.json()).toMatchObject({ fields: ['body.audio'] });
    expect(huge.json().message).toBe('body.audio: the audio file is 21.0 MiB; examples are limited to 20 MiB');
  });

  it('says which example no installed model can embed', async () => {
    // Images always have the weight-free visual signature; sounds need an audio model.
    const res = await ask(app, { audio: wav });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ fields: ['body.audio'] });
    expect(res.json().message).toBe('body.audio: query by audio needs an audio embedding model; none is installed (see `engram models list`)');
  });

  it('with the test models installed, answers an image or audio example and names an example ffmpeg cannot decode', async () => {
    const dataDir = makeTempDir('engram-api-models-');
    const { app: withModels } = await server({}, 'models', { dataDir, ...testModelsConfig() });
    for (const payload of [{ image: png }, { audio: wav }, { question: 'what was green?', image: png }]) {
      const res = await ask(withModels, payload);
      expect(res.statusCode, res.body).toBe(200);
      // Memory is empty here: the answer says so instead of inventing one (finding scenes is in test/e2e).
      expect(res.json()).toMatchObject({ evidence: [] });
      expect(res.json().answer).toMatch(/^Memory holds no events/);
    }
    const junk = await ask(withModels, { audio: dataUrl('audio/wav', Buffer.from('not a sound at all, only words')) });
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toMatchObject({ fields: ['body.audio'] });
    expect(junk.json().message).toMatch(/^body\.audio: query audio: ffmpeg could not decode it \(.+\)$/);
    const soundAsPicture = await ask(withModels, { image: dataUrl('image/png', Buffer.from(wav.slice(wav.indexOf(',') + 1), 'base64')) });
    expect(soundAsPicture.statusCode).toBe(400);
    expect(soundAsPicture.json()).toEqual({ error: 'bad_request', message: 'body.image: query image: the file holds no picture ffmpeg can read', fields: ['body.image'] });
  });
});
