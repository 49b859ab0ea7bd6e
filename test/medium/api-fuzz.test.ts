// Hundreds of generated malformed requests against the API with its real dependencies: each must
// be refused with a 4xx that names the problem, and none may reach a 5xx.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApi } from '../helpers/api.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();
let app: FastifyInstance;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ app, stop } = await openApi(env.loaded({ redis: { prefix: 'fuzz' }, api: { queryRateMax: 100_000 } })));
});
afterAll(async () => stop?.());

/** mulberry32, so a failure names a case that reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = rng(20261128);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const junkString = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 0x2fff))).join('');
const wrongTypes = [null, 0, -1, 1e308, true, [], [1, 2], {}, { $ne: null }, '', ' ', '\u0000'];

interface Case {
  what: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: string;
  contentType?: string;
}

/** A valid body with exactly one thing wrong. */
function badBody(valid: Record<string, unknown>, fields: Record<string, readonly unknown[]>): unknown {
  const kind = Math.floor(rand() * 4);
  const body: Record<string, unknown> = { ...valid };
  if (kind === 0) {
    const field = pick(Object.keys(fields));
    body[field] = pick(fields[field] as unknown[]);
  } else if (kind === 1) {
    body[pick(['extra', '__proto__x', 'constructor', 'where', 'filter', junkString(5)])] = pick(wrongTypes);
  } else if (kind === 2) {
    const field = pick(Object.keys(valid));
    body[field] = pick(wrongTypes.filter((v) => typeof v !== typeof valid[field] || v === null || Array.isArray(v)));
  } else {
    return pick([[valid], 'question', 42, null, [], true]);
  }
  return body;
}

function cases(): Case[] {
  const out: Case[] = [];
  const longQuestion = 'x'.repeat(2001);
  for (let i = 0; i < 120; i += 1) {
    const body = badBody(
      { question: 'when did the car pass?' },
      {
        question: ['', '   ', '\n\t', longQuestion],
        stream: ['Kitchen', 'a b', '../etc', '-x', 'x'.repeat(65), "cam' OR 1=1 --", ''],
        // Text bounds are read by reasoning's time parser; these fail before it.
        since: ['', 'a\nb', 'x'.repeat(65), -1, 1.5, 1e16, true, {}],
        until: ['', '\u0000', 'y'.repeat(100), -5, Number.MAX_VALUE, []],
      },
    );
    out.push({ what: `query body ${JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', url: '/api/query', payload: JSON.stringify(body) });
  }
  // Query-by-example fields: data URLs with a wrong type, broken base64, or bytes ffmpeg cannot
  // decode (which reach the reason stage and come back as a 400 on the field, never a 500).
  for (let i = 0; i < 60; i += 1) {
    const body = badBody(
      { [pick(['image', 'audio'])]: pick(['data:image/png;base64,iVBORw0KGgo=', 'data:audio/wav;base64,UklGRiQAAABXQVZF']) },
      {
        image: ['', 'iVBORw0KGgo=', 'data:image/png;base64,', 'data:image/png;base64,@@@@', 'data:text/html;base64,PGI+', 'data:image/png,raw', 'data:image/png;base64,AAA', 'data:image/png;base64,AAAA', 42, [], {}],
        audio: ['', 'data:audio/wav;base64,%%%%', 'data:image/png;base64,AAAA', 'data:audio/wav;charset=x;base64,AA==', 'data:audio/wav;base64,AAAA', 'data:;base64,AAAA', null],
      },
    );
    out.push({ what: `query example ${JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', url: '/api/query', payload: JSON.stringify(body) });
  }
  for (let i = 0; i < 100; i += 1) {
    const body = badBody(
      { name: 'porch', url: '/tmp/x.mp4' },
      {
        name: ['', 'Porch', 'por ch', 'p/o', 'x'.repeat(65), '_porch', 'porch;rm -rf', 'ä'],
        url: ['', 'a\nb', 'a\u0000b', 'x'.repeat(2049)],
        live: ['yes', 1, 'true'],
      },
    );
    out.push({ what: `streams body ${JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', url: '/api/streams', payload: JSON.stringify(body) });
  }
  for (let i = 0; i < 30; i += 1) {
    const body = badBody({ key: 'k' }, { key: ['', 'x'.repeat(513)] });
    out.push({ what: `login body ${JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', url: '/api/login', payload: JSON.stringify(body) });
  }
  // Bodies that are not JSON at all, or JSON cut short, under a JSON content type.
  for (let i = 0; i < 40; i += 1) {
    const text = pick(['{', '{"question":', '[1,2', '"unterminated', '{"question":"a"}}', junkString(20), '\u0000\u0001', 'nul', '{"a":' + '['.repeat(50)]);
    out.push({ what: `broken JSON ${JSON.stringify(text).slice(0, 40)}`, method: 'POST', url: pick(['/api/query', '/api/streams', '/api/login']), payload: text, contentType: 'application/json' });
  }
  // Query strings of /api/events with one bad parameter.
  const params: Record<string, readonly string[]> = {
    limit: ['0', '-1', '501', 'abc', '1.5', '', '1e9', '0x10'],
    offset: ['-1', 'x', '1.2', '2000000'],
    since: ['soon', '2026-02-30Tnope', '', 'now', "1' OR 1=1"],
    until: ['later', '1-2-3', ''],
    stream: ['UPPER', 'a b', '%00', "x' OR '1'='1", '..', ''],
    unknown: ['1'],
  };
  for (let i = 0; i < 80; i += 1) {
    const name = pick(Object.keys(params));
    const value = pick(params[name] as string[]);
    const extra = rand() < 0.3 ? `&${name}=${encodeURIComponent(value)}` : '';
    out.push({ what: `events ?${name}=${value}`, method: 'GET', url: `/api/events?${name}=${encodeURIComponent(value)}${extra}` });
  }
  out.push({ what: 'since after until', method: 'GET', url: '/api/events?since=2026-11-28T10:00:00Z&until=2026-11-28T09:00:00Z' });
  // Ids and names in paths.
  for (const id of ['UPPER.001', '..', '.hidden', 'a%2Fb', '%00', 'x'.repeat(129), "a'b", 'a b']) {
    for (const suffix of ['', '/thumbnail', '/clip', '/detections']) out.push({ what: `event id ${id}${suffix}`, method: 'GET', url: `/api/events/${id}${suffix}` });
  }
  for (const name of ['UPPER', 'a%20b', '_x', 'x'.repeat(65), '%2e%2e']) {
    out.push({ what: `stream ${name}`, method: 'GET', url: `/api/streams/${name}` });
    out.push({ what: `stop ${name}`, method: 'DELETE', url: `/api/streams/${name}` });
  }
  // People: names, merges and ids (a well-formed id nobody has is a 404, never a 5xx).
  for (let i = 0; i < 40; i += 1) {
    const body = badBody({ name: 'Alice' }, { name: ['', '   ', 'a\nb', 'tab\there', '\u0000', 'x'.repeat(101)] });
    out.push({ what: `name body ${JSON.stringify(body)?.slice(0, 80)}`, method: 'PATCH', url: `/api/people/${pick(['p1', 'no-such-person'])}`, payload: JSON.stringify(body) });
  }
  for (let i = 0; i < 40; i += 1) {
    const body = badBody({ kept: 'p1', absorbed: 'p2' }, { kept: ['', '../x', 'a b', 'x'.repeat(129)], absorbed: ['p1', '', "a'b", '%00'] });
    out.push({ what: `merge body ${JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', url: '/api/people/merge', payload: JSON.stringify(body) });
  }
  for (const id of ['..', '.hidden', 'a%2Fb', '%00', 'x'.repeat(129), "a'b", 'a b', 'nobody']) {
    for (const suffix of ['', '/crop', '/faces', '/faces/x/crop', `/faces/${id}/crop`]) out.push({ what: `person id ${id}${suffix}`, method: 'GET', url: `/api/people/${id}${suffix}` });
    out.push({ what: `forget ${id}`, method: 'DELETE', url: `/api/people/${id}` });
  }
  return out;
}

describe('malformed requests', () => {
  it('get a 4xx naming the problem, never a 5xx', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(300);
    const byStatus = new Map<number, number>();
    for (const c of all) {
      const res = await app.inject({
        method: c.method,
        url: c.url,
        ...(c.payload === undefined ? {} : { payload: c.payload, headers: { 'content-type': c.contentType ?? 'application/json' } }),
      });
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, `${c.what}: ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${c.what}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
      const body = res.json() as { error: string; message: string; fields?: string[] };
      expect(body.message, c.what).toBeTruthy();
      if (res.statusCode === 400 && body.error === 'bad_request' && body.fields) {
        // The message leads with the field(s) it blames.
        expect(body.message.startsWith(body.fields[0]!.split(',')[0]!), `${c.what}: ${body.message}`).toBe(true);
      }
    }
    // Almost all are validation failures; a few may be 404 (an unknown path) or 413/415.
    expect(byStatus.get(400) ?? 0).toBeGreaterThan(all.length * 0.8);
  });
});
