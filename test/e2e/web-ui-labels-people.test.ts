// The web UI in Debian's Chromium (playwright-core), for what the detector and face clustering add:
// the timeline colours events by label with counts on hover, an answer's evidence card lists labels
// and counts and draws the detector's boxes over its thumbnail where they belong; the people view
// shows face crops, and naming, merging and forgetting in the browser change what the API returns.
// Memory: an event of real bottle footage frames stored by the real consolidate stage with
// detections, and people stored through the real PeopleStore. Screenshots go to test-results/.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import type { Detection, StoredEvent } from '../../pipelines/records/event.js';
import { LivePublisher } from '../../pipelines/repositories/live.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { DESCRIPTOR_DIMS, PeopleStore } from '../../pipelines/repositories/people.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { personLine, type PersonLine } from '../../services/runtime/person-line.js';
import { EngramContext } from '../../services/runtime/context.js';
import { useTestEnv } from '../helpers/env.js';
import { EPOCH, syntheticEvent } from '../helpers/events.js';
import { BOTTLE_DETECTION } from '../helpers/media.js';
import { faceCrop, seedPeople } from '../helpers/people-memory.js';

const run = promisify(execFile);
const env = useTestEnv();
const ARTIFACTS = join(packageRoot(), 'test-results');
const STREAM = 'kitchen';
/** bottle-detection.mp4 is 640x360: ingest's keyframes keep that size (frameMaxSide 640). */
const FRAME: [number, number] = [640, 360];
/** What the detector "saw" on every keyframe of the event: the three bottles and the table they stand on. */
const SEEN: Detection[] = [
  { label: 'bottle', score: 0.81, box: [60, 110, 120, 305], track: 1, frame: FRAME },
  { label: 'bottle', score: 0.64, box: [280, 110, 340, 305], track: 2, frame: FRAME },
  { label: 'bottle', score: 0.42, box: [512, 110, 567, 310], track: 3, frame: FRAME },
  { label: 'dining table', score: 0.55, box: [0, 250, 640, 360], track: 4, frame: FRAME },
];
let app: FastifyInstance;
let context: EngramContext;
let base: string;
let browser: Browser;
let stored: StoredEvent;
let ids: string[];
/** The person consolidate recognised on the later kitchen event. */
let later: PersonLine;
let stop: () => Promise<void>;

/** Stores one 2..8 s event of the bottle footage with its detections, labels, counts and tracks. */
async function seedBottles(loaded: ReturnType<typeof env.loaded>): Promise<StoredEvent> {
  const { config, paths } = loaded;
  const thumbnails = (t: number) => `thumbs/${STREAM}/${Math.round(t * 1000)}.jpg`;
  for (let t = 2; t < 8; t += 1) {
    const path = join(paths.blobsDir, thumbnails(t));
    await mkdir(dirname(path), { recursive: true });
    // As ingest makes them: 320 wide, the keyframe's aspect.
    await run('ffmpeg', ['-v', 'error', '-y', '-ss', String(t), '-i', BOTTLE_DETECTION, '-frames:v', '1', '-vf', 'scale=320:-2', path]);
  }
  const closed = syntheticEvent({ stream: STREAM, start: 2, length: 6, epoch: EPOCH, tags: ['motion-low'], thumbnails, seed: 5, dims: 64 });
  closed.moments = closed.moments.map((m) => ({ ...m, detections: SEEN }));
  const track = (id: number, label: string) => ({ id, label, enter: 2, leave: 7, enteredAt: EPOCH + 2000, leftAt: EPOCH + 7000, entered: false, left: false, score: 0.8 });
  closed.objects = {
    labels: ['bottle', 'dining table'],
    counts: { bottle: { distinct: 3, max: 3 }, 'dining table': { distinct: 1, max: 1 } },
    tracks: [track(1, 'bottle'), track(2, 'bottle'), track(3, 'bottle'), track(4, 'dining table')],
  };
  closed.closedBy = 'presence';
  // A later event with only a person in it, for the legend's filter to leave out; consolidate
  // recognises the face on it as a person of its own (descriptor axis 9, far from seedPeople's).
  const later = syntheticEvent({ stream: STREAM, start: 30, length: 4, epoch: EPOCH, tags: ['motion-low'], seed: 6, dims: 64 });
  const blobs = new LocalBlobStore(paths.blobsDir);
  const axis = new Float32Array(DESCRIPTOR_DIMS);
  axis[9] = 1;
  later.faces = [{ t: 31, score: 0.9, box: [200, 40, 320, 160], descriptor: axis, crop: await blobs.write(`faces/${STREAM}/31000.bmp`, await faceCrop('night', 0)) }];
  later.objects = { labels: ['person'], counts: { person: { distinct: 1, max: 1 } }, tracks: [{ ...track(5, 'person'), enter: 30, leave: 33, enteredAt: EPOCH + 30_000, leftAt: EPOCH + 33_000 }] };
  later.closedBy = 'presence';
  const store = await MemoryStore.open(paths.lancedbUri, { reinforceDays: config.memory.reinforceDays });
  const people = await PeopleStore.open(paths.lancedbUri, blobs, config.faces);
  try {
    const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });
    for (const event of [closed, later]) {
      const outcome = await consolidateEvent(event, { store, people, summarizer, memory: config.memory });
      if (outcome.status !== 'stored') throw new Error(`seeding ${event.id}: ${outcome.status}`);
    }
    return (await store.getEvent(closed.id))!;
  } finally {
    await people.close();
    await store.close();
  }
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const loaded = env.loaded({ redis: { prefix: 'uilp' }, api: { port: 0 } });
  stored = await seedBottles(loaded);
  ids = await seedPeople(loaded, [
    { clip: 'again', stream: STREAM, times: [3, 4, 5], eventId: stored.id },
    { clip: 'brother', stream: 'porch', times: [4, 5] },
    { clip: 'bird', stream: 'garden', times: [2] },
  ]);
  context = await EngramContext.open(loaded, silentLogger());
  const { paths, config } = loaded;
  const peopleStore = await PeopleStore.open(paths.lancedbUri, new LocalBlobStore(paths.blobsDir), config.faces);
  try {
    later = personLine((await peopleStore.list()).find((p) => !ids.includes(p.id))!);
  } finally {
    await peopleStore.close();
  }
  const { deps, close } = await apiDeps(context);
  app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(), args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  stop = async () => {
    await browser.close();
    await app.close();
    await close();
    await context.close();
  };
}, 90_000);
afterAll(async () => stop?.());

/** A computed style property of an element, read in the page (the test's TS has no DOM types). */
const computed = (el: unknown, prop: string) => (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)[prop] ?? '';

const naturalWidth = (el: unknown) => {
  const i = el as { complete: boolean; naturalWidth: number };
  return i.complete ? i.naturalWidth : 0;
};

async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(base);
  return { page, errors };
}

/** Polls wait this long: on a shared 2-core machine a page often needs more than vitest's default second. */
const POLL = { timeout: 15_000 };

const people = async () => (await (await fetch(`${base}/api/people`)).json()) as PersonLine[];

describe('web UI: what the detector saw', () => {
  it('colours the timeline by label with counts on hover, a legend names the colours, and live events list their labels', async () => {
    const { page, errors } = await open();
    const bars = page.locator('#timeline .lane', { hasText: STREAM }).locator('.ev');
    await expect.poll(() => bars.count(), POLL).toBe(2);
    // Newest first in the page; each bar says what it held.
    expect((await bars.evaluateAll((list) => list.map((b) => (b as { dataset: { labels: string } }).dataset.labels))).sort()).toEqual(['bottle,dining table', 'person']);
    const bar = page.locator('#timeline .ev[data-labels="bottle,dining table"]');
    const hover = (await bar.getAttribute('title')) ?? '';
    expect(hover).toContain('bottle ×3');
    expect(hover).toContain('dining table ×1');
    // Two labels, two bands of different colours; the legend shows the same colours by name.
    const background = await bar.evaluate(computed, 'backgroundImage');
    const legend = page.locator('#timeline-legend li');
    expect(await legend.allTextContents()).toEqual(['bottle', 'dining table', 'person']);
    for (const label of ['bottle', 'dining table']) {
      const colour = await legend.filter({ hasText: label }).locator('.swatch').evaluate(computed, 'backgroundColor');
      expect(background).toContain(colour);
    }
    // A legend entry narrows the timeline to its label, and lets go again.
    await page.getByRole('button', { name: 'person', exact: true }).click();
    await page.locator('#timeline-filter', { hasText: 'Showing only events where the detector saw “person”' }).waitFor();
    await expect.poll(async () => (await bars.all()).length, POLL).toBe(1);
    expect(await bars.first().getAttribute('data-labels')).toBe('person');
    expect(await page.getByRole('button', { name: 'person', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: 'Show all events' }).click();
    await expect.poll(() => bars.count(), POLL).toBe(2);
    // The same event announced live lists what it held.
    await page.locator('#live-state', { hasText: 'live' }).waitFor();
    await new LivePublisher(context.redis, 'uilp').publishEvent(stored);
    await expect.poll(() => page.locator('#live li ul.labels li').allTextContents(), POLL).toEqual(['bottle ×3', 'dining table ×1']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('answers with an evidence card listing labels and counts, with the boxes drawn where the objects are', async () => {
    const { page, errors } = await open();
    await page.fill('#question', 'how many bottles were there?');
    await page.click('#ask button[type=submit]');
    const card = page.locator('.evidence-card').first();
    await card.waitFor({ timeout: 30_000 });
    expect(await page.textContent('#answer-text')).toMatch(/3 bottles/);
    expect(await card.locator('ul.labels li').allTextContents()).toEqual(['bottle ×3', 'dining table ×1']);
    const img = card.locator('.thumb img');
    await expect.poll(() => img.evaluate(naturalWidth), POLL).toBe(320);
    const boxes = card.locator('.boxes .box');
    await expect.poll(() => boxes.count(), POLL).toBe(SEEN.length);
    expect(await boxes.locator('.box-label').allTextContents()).toEqual(['bottle 81%', 'bottle 64%', 'bottle 42%', 'dining table 55%']);
    // Each box sits over the same part of the shown picture as in the keyframe the detector saw.
    const shown = (await img.boundingBox())!;
    for (const [i, d] of SEEN.entries()) {
      const b = (await boxes.nth(i).boundingBox())!;
      const [x1, y1, x2, y2] = d.box;
      expect(Math.abs(b.x - (shown.x + (x1 / FRAME[0]) * shown.width))).toBeLessThan(1.5);
      expect(Math.abs(b.y - (shown.y + (y1 / FRAME[1]) * shown.height))).toBeLessThan(1.5);
      expect(Math.abs(b.width - ((x2 - x1) / FRAME[0]) * shown.width)).toBeLessThan(1.5);
      expect(Math.abs(b.height - ((y2 - y1) / FRAME[1]) * shown.height)).toBeLessThan(1.5);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-boxes.png'), fullPage: true });
    // The boxes can be hidden, and come back.
    await page.getByLabel('Show detection boxes on thumbnails').uncheck();
    expect(await boxes.first().isVisible()).toBe(false);
    await page.getByLabel('Show detection boxes on thumbnails').check();
    expect(await boxes.first().isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('serves the boxes with the size of the keyframe they are in', async () => {
    const res = await fetch(`${base}/api/events/${stored.id}/detections`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ eventId: stored.id, thumbnail: stored.thumbnail, t: 2, frame: FRAME, detections: SEEN });
    expect((await fetch(`${base}/api/events/${STREAM}.0000099000/detections`)).status).toBe(404);
  });
});

describe('web UI: people', () => {
  it('shows each person with a face crop; naming and merging in the browser change what the API returns', async () => {
    const { page, errors } = await open();
    const cards = page.locator('#people article.person');
    await expect.poll(() => cards.count(), POLL).toBe(4);
    for (const face of await cards.locator('img.face').all()) await expect.poll(() => face.evaluate(naturalWidth), POLL).toBe(112);

    // Name the person seen in the kitchen event (three faces).
    const kitchen = page.locator(`#people article[data-id="${ids[0]}"]`);
    await kitchen.getByLabel('Name', { exact: true }).fill('Alice');
    await kitchen.getByRole('button', { name: 'Save name' }).click();
    await page.locator('#people-status', { hasText: 'Alice' }).waitFor();
    await page.locator('#people article h3', { hasText: 'Alice' }).waitFor();
    expect((await people()).find((p) => p.id === ids[0])?.name).toBe('Alice');

    // The porch person is Alice too: merge, confirming the dialog.
    const porch = page.locator(`#people article[data-id="${ids[1]}"]`);
    await porch.getByLabel('Same person as', { exact: true }).selectOption({ label: 'Alice (3 faces)' });
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await porch.getByRole('button', { name: 'Merge' }).click();
    await expect.poll(() => cards.count(), POLL).toBe(3);
    expect(dialogs[0]).toContain('into Alice');
    const after = await people();
    expect(after.map((p) => p.id).sort()).toEqual([ids[0], ids[2], later.id].sort());
    const alice = after.find((p) => p.id === ids[0])!;
    expect(alice).toMatchObject({ name: 'Alice', faces: 5 });
    expect(alice.sightings.map((s) => s.stream).sort()).toEqual([STREAM, 'porch']);
    const merged = page.locator(`#people article[data-id="${ids[0]}"]`);
    await expect.poll(() => merged.textContent(), POLL).toContain('5 faces');
    // Opening "All 5 faces" shows every kept face of both, each crop decoded.
    await merged.getByText('All 5 faces').click();
    const small = merged.locator('img.face-small');
    await expect.poll(() => small.count(), POLL).toBe(5);
    for (const img of await small.all()) await expect.poll(() => img.evaluate(naturalWidth), POLL).toBe(112);
    expect((await small.evaluateAll((imgs) => imgs.map((i) => (i as { alt: string }).alt))).filter((alt) => alt.includes('porch'))).toHaveLength(2);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ui-people.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('narrows the timeline to the events a person was seen in', async () => {
    const { page, errors } = await open();
    // Consolidate stored the later event with the identity it recognised there.
    expect(later.sightings).toEqual([{ eventId: `${STREAM}.0000030000`, stream: STREAM, start: 31, end: 31 }]);
    const card = page.locator(`#people article[data-id="${later.id}"]`);
    const asked = page.waitForRequest((r) => r.url().includes('/api/events?') && r.url().includes(`person=${later.id}`));
    await card.getByRole('button', { name: 'Show on the timeline' }).click();
    expect((await (await asked).response())?.status()).toBe(200);
    await page.locator('#timeline-filter', { hasText: `Showing only events where Unnamed ${later.id.slice(0, 8)} was seen` }).waitFor();
    const bars = page.locator('#timeline .ev');
    await expect.poll(() => bars.count(), POLL).toBe(1);
    expect(await bars.first().getAttribute('data-labels')).toBe('person');
    expect(await bars.first().getAttribute('title')).toContain(`People: Unnamed ${later.id.slice(0, 8)}`);
    await page.getByRole('button', { name: 'Show all events' }).click();
    await expect.poll(() => bars.count(), POLL).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('forgets a person only after the confirm is accepted', async () => {
    const { page, errors } = await open();
    const garden = page.locator(`#people article[data-id="${ids[2]}"]`);
    await garden.waitFor();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await garden.getByRole('button', { name: /forget/i }).click();
    expect((await people()).map((p) => p.id)).toContain(ids[2]);
    page.once('dialog', (dialog) => void dialog.accept());
    await garden.getByRole('button', { name: /forget/i }).click();
    await page.locator('#people-status', { hasText: 'Forgot' }).waitFor();
    await expect.poll(async () => (await people()).map((p) => p.id).sort(), POLL).toEqual([ids[0], later.id].sort());
    expect(await page.locator('#people article.person').count()).toBe(2);
    expect((await fetch(`${base}/api/people/${ids[2]}/crop`)).status).toBe(404);
    expect(errors).toEqual([]);
    await page.close();
  });
});
