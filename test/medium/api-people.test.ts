// /api/people over a real people memory (LanceDB tables and face crops in the blob store, stored by
// PeopleStore): the list is what `engram people list --json` prints for the same data directory;
// naming, merging and forgetting change it; unknown ids and bad bodies are 4xx naming the problem;
// forgetting leaves no row and no crop; the routes sit behind the API key.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { hashKey } from '../../services/api/auth.js';
import type { PersonLine } from '../../services/runtime/person-line.js';
import { openApi } from '../helpers/api.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { seedPeople } from '../helpers/people-memory.js';

const env = useTestEnv();
const KEY = 'people-key-5b1e';
let app: FastifyInstance;
let ids: string[];
let stop: () => Promise<void>;
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  const loaded = env.loaded({ redis: { prefix: 'people' }, api: { port: 0, apiKeys: [hashKey(KEY)] } });
  ids = await seedPeople(loaded, [
    { clip: 'again', stream: 'hall', times: [1, 2, 3], eventId: 'hall.0000001000' },
    { clip: 'brother', stream: 'porch', times: [4, 5] },
    { clip: 'bird', stream: 'garden', times: [2] },
  ]);
  ({ app, stop } = await openApi(loaded));
}, 60_000);
afterAll(async () => stop?.());

const list = async () => (await app.inject({ url: '/api/people', headers: auth })).json() as PersonLine[];
const crops = () => {
  const dir = join(env.loaded().paths.blobsDir, 'faces');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.bmp')).length : 0;
};

describe('/api/people', () => {
  it('needs the API key', async () => {
    expect((await app.inject('/api/people')).statusCode).toBe(401);
    expect((await app.inject({ url: `/api/people/${ids[0]}/crop`, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(403);
  });

  it('lists people as engram people list --json does, most recently seen first', async () => {
    const people = await list();
    expect(people.map((p) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    const hall = people.find((p) => p.id === ids[0])!;
    expect(hall).toMatchObject({ name: null, faces: 3, sightings: [{ eventId: 'hall.0000001000', stream: 'hall', start: 1, end: 3 }] });
    const cli = await runCli(['people', 'list', '--json'], { env: env.childEnv() });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(people);
    expect((await app.inject({ url: `/api/people/${ids[1]}`, headers: auth })).json()).toEqual(people.find((p) => p.id === ids[1]));
  });

  it('serves the best face crop of a person as the image the blob store holds', async () => {
    const res = await app.inject({ url: `/api/people/${ids[0]}/crop`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/bmp');
    expect(res.rawPayload.subarray(0, 2).toString('latin1')).toBe('BM');
    expect(res.rawPayload.readInt32LE(18)).toBe(112);
  });

  it('names a person; the name is what list and one person show, and an empty or odd name is a 400', async () => {
    const res = await app.inject({ method: 'PATCH', url: `/api/people/${ids[0]}`, headers: auth, payload: { name: '  Alice  ' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ids[0], name: 'Alice' });
    expect((await list()).find((p) => p.id === ids[0])?.name).toBe('Alice');
    for (const [payload, field] of [[{ name: '   ' }, 'body.name'], [{ name: 'a\nb' }, 'body.name'], [{}, 'body.name'], [{ name: 'Bo', age: 3 }, 'body.age']] as const) {
      const bad = await app.inject({ method: 'PATCH', url: `/api/people/${ids[1]}`, headers: auth, payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'bad_request' });
      expect(bad.json().fields).toContain(field);
    }
    expect((await list()).find((p) => p.id === ids[1])?.name).toBeNull();
  });

  it('merges two ids into one person with every face and sighting of both', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/people/merge', headers: auth, payload: { kept: ids[0], absorbed: ids[1] } });
    expect(res.statusCode).toBe(200);
    const merged = res.json() as PersonLine;
    expect(merged).toMatchObject({ id: ids[0], name: 'Alice', faces: 5 });
    expect(merged.sightings.map((s) => s.stream).sort()).toEqual(['hall', 'porch']);
    expect((await list()).map((p) => p.id).sort()).toEqual([ids[0], ids[2]].sort());
    // Each kept face of both is Alice's now, with its own crop.
    const faces = (await app.inject({ url: `/api/people/${ids[0]}/faces`, headers: auth })).json() as { id: string; stream: string; t: number; eventId: string; score: number; seenAt: string }[];
    expect(faces.map((f) => `${f.stream}@${f.t}`).sort()).toEqual(['hall@1', 'hall@2', 'hall@3', 'porch@4', 'porch@5']);
    for (const f of faces) {
      const img = await app.inject({ url: `/api/people/${ids[0]}/faces/${f.id}/crop`, headers: auth });
      expect(img.statusCode).toBe(200);
      expect(img.rawPayload.subarray(0, 2).toString('latin1')).toBe('BM');
    }
    expect((await app.inject({ url: `/api/people/${ids[0]}/faces/not-a-face/crop`, headers: auth })).json().message).toContain('has no face "not-a-face"');
    const gone = await app.inject({ url: `/api/people/${ids[1]}`, headers: auth });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().message).toContain(ids[1]);
  });

  it('answers unknown ids with 404 and malformed merges with 400, changing nothing', async () => {
    const before = await list();
    const unknown = 'no-such-person';
    for (const req of [
      { method: 'PATCH' as const, url: `/api/people/${unknown}`, payload: { name: 'X' } },
      { method: 'DELETE' as const, url: `/api/people/${unknown}` },
      { method: 'GET' as const, url: `/api/people/${unknown}/crop` },
      { method: 'GET' as const, url: `/api/people/${unknown}/faces` },
      { method: 'POST' as const, url: '/api/people/merge', payload: { kept: ids[0], absorbed: unknown } },
    ]) {
      const res = await app.inject({ ...req, headers: auth });
      expect(res.statusCode, req.url).toBe(404);
      expect(res.json()).toMatchObject({ error: 'not_found' });
      expect(res.json().message).toContain(`no person with id "${unknown}"`);
    }
    const same = await app.inject({ method: 'POST', url: '/api/people/merge', headers: auth, payload: { kept: ids[0], absorbed: ids[0] } });
    expect(same.statusCode).toBe(400);
    expect(same.json().message).toContain('same person');
    const missing = await app.inject({ method: 'POST', url: '/api/people/merge', headers: auth, payload: { kept: ids[0] } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().fields).toContain('body.absorbed');
    const badId = await app.inject({ url: '/api/people/..%2Fetc', headers: auth });
    expect(badId.statusCode).toBe(400);
    expect(await list()).toEqual(before);
  });

  it('forgets a person: no row, no descriptor and no crop remain', async () => {
    const before = crops();
    const res = await app.inject({ method: 'DELETE', url: `/api/people/${ids[2]}`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: ids[2], forgotten: true, faces: 1, crops: 1, events: 0 });
    expect(crops()).toBe(before - 1);
    expect((await list()).map((p) => p.id)).toEqual([ids[0]]);
    expect((await app.inject({ url: `/api/people/${ids[2]}/crop`, headers: auth })).statusCode).toBe(404);
    const { paths, config } = env.loaded();
    const store = await PeopleStore.open(paths.lancedbUri, new LocalBlobStore(paths.blobsDir), config.faces);
    try {
      expect(await store.counts()).toEqual({ faces: 5, people: 1 });
    } finally {
      await store.close();
    }
  });
});

describe('/api/people in the API description', () => {
  it('lists every people route in the OpenAPI document and on /docs', async () => {
    const spec = (await app.inject({ url: '/docs/json', headers: auth })).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(spec.paths['/api/people']!)).toEqual(['get']);
    expect(Object.keys(spec.paths['/api/people/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
    expect(spec.paths['/api/people/merge']).toHaveProperty('post');
    for (const path of ['/api/people/{id}/crop', '/api/people/{id}/faces', '/api/people/{id}/faces/{face}/crop', '/api/events/{id}/detections']) expect(spec.paths[path], path).toHaveProperty('get');
    const page = (await app.inject({ url: '/docs', headers: auth })).body;
    expect(page).toContain('/api/people/merge');
  });
});

describe('/api/people with faces turned off', () => {
  it('says faces are off (409) instead of showing an empty list', async () => {
    const { app: server, stop } = await openApi(env.loaded({ redis: { prefix: 'people-off' }, api: { port: 0 }, faces: { enabled: false } }));
    try {
      const res = await server.inject('/api/people');
      expect(res.statusCode).toBe(409);
      expect(res.json().message).toContain('faces.enabled: false');
    } finally {
      await stop();
    }
  });
});
