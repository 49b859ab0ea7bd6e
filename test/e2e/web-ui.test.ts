// The web UI in Debian's Chromium (playwright-core): it loads, shows the stream and its timeline,
// answers a question with evidence cards whose thumbnails load, plays the clip of a card, and
// shows a new event arriving live. Memory holds real frames of the car footage, stored by the
// real consolidate stage; the answer comes from the real reasoning. Screenshots go to test-results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import type { StoredEvent } from '../../pipelines/records/event.js';
import { LivePublisher } from '../../pipelines/repositories/live.js';
import { hashKey } from '../../services/api/auth.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';
import { ROAD_STREAM, seedRoadMemory } from '../helpers/road-memory.js';

const env = useTestEnv();
const ARTIFACTS = join(packageRoot(), 'test-results');
let app: FastifyInstance;
let context: EngramContext;
let base: string;
let browser: Browser;
let seeded: StoredEvent[];
let stop: () => Promise<void>;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const loaded = env.loaded({ redis: { prefix: 'ui' }, api: { port: 0 }, ingest: { fileRoots: [SHARED_MEDIA] } });
  seeded = await seedRoadMemory(loaded);
  context = await EngramContext.open(loaded, silentLogger());
  const { deps, close } = await apiDeps(context);
  app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The stream's file is where clips are cut from.
  const added = await fetch(`${base}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: ROAD_STREAM, url: CAR_DETECTION }) });
  if (added.status !== 201) throw new Error(`adding the stream: ${added.status} ${await added.text()}`);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  stop = async () => {
    await browser.close();
    await app.close();
    await close();
    await context.close();
  };
}, 60_000);
afterAll(async () => stop?.());

const loaded = (el: unknown) => {
  const i = el as { complete: boolean; naturalWidth: number };
  return i.complete && i.naturalWidth;
};
const playable = (el: unknown) => {
  const v = el as { readyState: number; duration: number };
  return v.readyState >= 2 ? Math.round(v.duration) : -1;
};

describe('web UI', () => {
  it('shows the stream, its timeline and live events with thumbnails, and plays a clip', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.locator('#streams tbody tr', { hasText: ROAD_STREAM }).waitFor();
    await page.locator('#timeline .lane', { hasText: ROAD_STREAM }).waitFor();
    expect(await page.locator('#timeline .lane .ev').count()).toBe(3);
    await page.locator('#live-state', { hasText: 'live' }).waitFor();

    // An event stored by consolidate and announced on the live channel appears with its thumbnail.
    const white = seeded.find((e) => e.transcript.includes('white van'))!;
    await new LivePublisher(context.redis, 'ui').publishEvent(white);
    const item = page.locator('#live li').first();
    await item.waitFor();
    expect(await item.textContent()).toContain(ROAD_STREAM);
    await expect.poll(() => item.locator('img').evaluate(loaded)).toBe(320);

    // A click on it plays the event (14..18 s), cut from the file by ffmpeg.
    await item.click();
    await page.locator('#player:not([hidden])').waitFor();
    await expect.poll(() => page.locator('#clip').evaluate(playable), { timeout: 20_000 }).toBe(4);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-live.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('answers a question with evidence cards that show thumbnails and play the clip', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.fill('#question', 'when did the red car pass the junction?');
    await page.click('#ask button[type=submit]');
    const card = page.locator('.evidence-card').first();
    await card.waitFor({ timeout: 30_000 });
    expect(((await page.textContent('#answer-text')) ?? '').length).toBeGreaterThan(0);
    const red = seeded.find((e) => e.transcript.includes('red car'))!;
    await expect.poll(() => card.textContent()).toContain('red car');
    expect(await card.textContent()).toContain(ROAD_STREAM);
    // The thumbnail is a real JPEG frame of the footage, decoded by the browser.
    const thumb = card.locator('img');
    expect(await thumb.getAttribute('src')).toBe(`/api/events/${encodeURIComponent(red.id)}/thumbnail`);
    await expect.poll(() => thumb.evaluate(loaded)).toBe(320);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-answer.png'), fullPage: true });
    await card.click();
    await page.locator('#player:not([hidden])').waitFor();
    await expect.poll(() => page.locator('#clip').evaluate(playable), { timeout: 20_000 }).toBe(3);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('searches by an example picture chosen in the file picker, with no question typed', async () => {
    const png = join(env.dataDir, 'frame.png');
    execFileSync('ffmpeg', ['-v', 'error', '-ss', '6', '-i', CAR_DETECTION, '-frames:v', '1', '-vf', 'scale=320:-2', '-y', png]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.click('#ask button[type=submit]');
    await page.locator('#status.error', { hasText: 'choose a picture or a sound' }).waitFor();
    await page.setInputFiles('#example', png);
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/query') && r.method() === 'POST');
    await page.click('#ask button[type=submit]');
    const body = (await sent).postDataJSON() as Record<string, string>;
    expect(Object.keys(body)).toEqual(['image']);
    expect(Buffer.from(body.image!.slice('data:image/png;base64,'.length), 'base64').equals(readFileSync(png))).toBe(true);
    await page.locator('#answer:not([hidden])').waitFor({ timeout: 30_000 });
    expect(((await page.textContent('#answer-text')) ?? '').length).toBeGreaterThan(0);
    expect(await page.getAttribute('#status', 'class')).not.toBe('error');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('links to the queue dashboard, which lists every queue', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.click('#queues-link');
    for (const queue of ['ingest', 'perceive', 'segment', 'consolidate', 'reason']) {
      await page.getByText(queue, { exact: true }).first().waitFor();
    }
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-queues.png') });
    await page.close();
  });
});

describe('web UI behind an API key', () => {
  it('asks for the key, refuses a wrong one, and then works with the cookie (thumbnails and live updates too)', async () => {
    const key = 'k-0f3a9c2e7b1d';
    const keyed = await EngramContext.open(env.loaded({ redis: { prefix: 'ui' }, api: { port: 0, apiKeys: [hashKey(key)] }, ingest: { fileRoots: [SHARED_MEDIA] } }), silentLogger());
    const { deps, close } = await apiDeps(keyed);
    const server = await buildServer({ config: keyed.config.api, deps, log: silentLogger() });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const first = await page.goto(url);
      expect(first?.status()).toBe(401);
      await page.fill('input[name=key]', 'not-it');
      await page.click('#login button[type=submit]');
      await page.locator('#login-error', { hasText: 'not accepted' }).waitFor();
      await page.fill('input[name=key]', key);
      await page.click('#login button[type=submit]');
      await page.locator('#ask').waitFor();
      await page.locator('#live-state', { hasText: 'live' }).waitFor();
      await page.locator('#timeline .lane .ev').first().waitFor();
      // The cookie also carries <img> requests, which cannot send a header.
      const status = await page.evaluate(async (id) => (await fetch(`/api/events/${id}/thumbnail`)).status, seeded[0]!.id);
      expect(status).toBe(200);
      await page.screenshot({ path: join(ARTIFACTS, 'web-ui-keyed.png') });
    } finally {
      await page.close();
      await server.close();
      await close();
      await keyed.close();
    }
  });
});
