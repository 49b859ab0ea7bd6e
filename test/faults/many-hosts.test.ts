// Three "hosts" as separate processes with separate data directories that share only Redis and an
// S3-compatible object store (s3rver, started here): ingest on the first, perceive and segment on
// the second, consolidate and the API on the third. LanceDB lives at s3://engram/memory and
// blobs under s3://engram/blobs/. A file ingested on the first host is answered through the
// third's API, with its thumbnails and clips served from object storage (the source file is
// deleted from the first host before the clip is asked for). The second host's perceive worker
// is killed -9 mid-stream and a perceive worker on a fourth host takes over: nothing is lost.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '../../pipelines/jobs.js';
import { S3BlobStore } from '../../pipelines/repositories/s3-blob-store.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import type { StatusReport } from '../../services/cli/status.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { compareEvents, FAST_RECOVERY, Fleet, generateScenes, waitForWorkers } from '../helpers/fleet.js';
import { freePort } from '../helpers/ports.js';
import { S3_KEY, useTestS3 } from '../helpers/s3.js';

const env = useTestEnv();
const s3 = useTestS3();
let context: EngramContext;
let fleet: Fleet | undefined;
let clip = '';
const SCENES = 8;
const SCENE_S = 4;

/** A host: its own data directory, the shared Redis, LanceDB and blobs on the object store. */
function host(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dataDir = join(env.dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  return env.childEnv({
    ...FAST_RECOVERY,
    ...s3.server.env({ prefix: 'blobs/', lancedbUri: 's3://engram/memory' }),
    ENGRAM_DATA_DIR: dataDir,
    // Ingest stays a few chunks ahead of perception, so perceive is busy when it is killed.
    ENGRAM_INGEST__MAX_CHUNKS_IN_FLIGHT: '6',
    ...extra,
  });
}

beforeAll(async () => {
  context = await EngramContext.open(env.loaded(), silentLogger());
  mkdirSync(join(env.dataDir, 'first'), { recursive: true });
  clip = await generateScenes(join(env.dataDir, 'first'), 'gate', { segments: SCENES, segment: SCENE_S });
}, 60_000);
afterAll(async () => {
  await fleet?.stopAll();
  await context?.close();
});

describe('many hosts sharing Redis and object storage', () => {
  it('answers a file ingested on one host through another host’s API, with thumbnails and clips from object storage, losing nothing when a perceive host dies', async () => {
    const port = await freePort();
    const first = host('first');
    const second = host('second');
    const third = host('third', { ENGRAM_API__PORT: String(port) });
    const fourth = host('fourth');
    fleet = new Fleet(first);
    await fleet.start('ingest', first);
    const doomed = await fleet.start('perceive', second);
    await fleet.start('segment', second);
    await fleet.start('consolidate', third);
    await fleet.start('api', third);
    await waitForWorkers(context.queues, { [QueueName.Ingest]: 1, [QueueName.Perceive]: 1, [QueueName.Segment]: 1, [QueueName.Consolidate]: 1 });
    const api = `http://127.0.0.1:${port}`;
    let ready: Response | undefined;
    for (let i = 0; i < 240 && ready?.status !== 200; i += 1) {
      ready = await fetch(`${api}/readyz`).catch(() => undefined);
      if (ready?.status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(await ready?.json()).toEqual({ ok: true, checks: { redis: { ok: true }, lancedb: { ok: true }, blobs: { ok: true } } });

    // The file goes in on the first host; perceive on the second dies at 1/3 of it and a fourth
    // host's perceive worker takes over its jobs.
    const streams = new StreamRepository(context.redis.connection('hosts-test'), context.config.redis.prefix);
    const ingest = runCli(['ingest', clip, '--name', 'gate', '--json'], { env: first, timeoutMs: 240_000 });
    let killedAt = -1;
    for (;;) {
      const info = await streams.get('gate');
      if (info && (info.mediaTime >= (SCENES * SCENE_S) / 3 || info.state === 'done')) {
        killedAt = info.mediaTime;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await fleet.start('perceive', fourth);
    const result = await ingest;
    const why = `perceive killed at ${killedAt} s of media\n${result.stderr}\n${fleet.processes.map((p) => `${p.role}: ${p.log.slice(-2000)}`).join('\n')}`;
    expect(result.code, why).toBe(0);
    expect(JSON.parse(result.stdout) as IngestReport, why).toMatchObject({ state: 'done', gaps: 0 });

    // Memory, read through the third host's API: the whole file, no holes, nothing twice.
    const listed = (await (await fetch(`${api}/api/events?stream=gate&limit=500`)).json()) as { events: { id: string; start: number; end: number; thumbnail: string | null }[] };
    const events = listed.events.sort((a, b) => a.start - b.start);
    const diff = compareEvents([{ id: 'whole', start: 0, end: SCENES * SCENE_S - 1 }], events);
    expect(diff, `${why}\n${JSON.stringify(events.map((e) => [e.start, e.end]))}`).toMatchObject({ lostSeconds: 0, duplicated: 0, holes: [] });
    expect(events[0]!.start).toBe(0);

    // Thumbnails were written by the second host into the bucket, not into any host's folder.
    const bucket = new S3BlobStore({ endpoint: s3.server.endpoint, region: 'us-east-1', bucket: 'engram', prefix: 'blobs/', accessKeyId: S3_KEY, secretAccessKey: S3_KEY, sessionToken: '', forcePathStyle: true });
    const stored = await bucket.list('gate/');
    expect(stored.length).toBeGreaterThanOrEqual(events.length);
    for (const name of ['first', 'second', 'third', 'fourth']) {
      const blobs = join(env.dataDir, name, 'blobs');
      expect(existsSync(blobs) ? readdirSync(blobs) : [], name).toEqual([]);
    }
    const withThumb = events.find((e) => e.thumbnail !== null)!;
    expect(stored.map((b) => b.path)).toContain(withThumb.thumbnail);
    const thumb = await fetch(`${api}/api/events/${withThumb.id}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await thumb.arrayBuffer());
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    const part = await fetch(`${api}/api/events/${withThumb.id}/thumbnail`, { headers: { range: 'bytes=2-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 2-9/${jpeg.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(jpeg.subarray(2, 10))).toBe(true);

    // A question to the third host's API cites the stream's events.
    const asked = await fetch(`${api}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'what happened at the gate?', stream: 'gate' }) });
    expect(asked.status).toBe(200);
    const answer = (await asked.json()) as { answer: string; evidence: { eventId: string; stream: string; thumbnail: string | null }[] };
    expect(answer.evidence.length, JSON.stringify(answer)).toBeGreaterThan(0);
    expect(answer.evidence.every((e) => e.stream === 'gate' && events.some((x) => x.id === e.eventId))).toBe(true);

    // The clip: the first host copied the file to the bucket; with the file gone from the first
    // host, the third host cuts the clip from its spooled copy.
    expect((await bucket.list('sources/gate/')).map((b) => b.path)).toEqual(['sources/gate/gate.mp4']);
    rmSync(clip);
    const cut = await fetch(`${api}/api/events/${events[1]!.id}/clip`);
    expect(cut.status, await cut.clone().text().catch(() => '')).toBe(200);
    expect(cut.headers.get('content-type')).toBe('video/mp4');
    const mp4 = join(env.dataDir, 'clip.mp4');
    writeFileSync(mp4, Buffer.from(await cut.arrayBuffer()));
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', mp4], { encoding: 'utf8' });
    expect(Number(probe.stdout.trim())).toBeGreaterThan(0.4);

    // engram status on the third host names both stores' backends and finds them reachable.
    const status = await runCli(['status', '--json'], { env: third, timeoutMs: 60_000 });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.storage.lancedb).toMatchObject({ backend: 's3', location: 's3://engram/memory', ok: true, commitLock: true });
    expect(report.storage.blobs).toMatchObject({ backend: 's3', location: `s3://engram/blobs/ at ${s3.server.endpoint}`, ok: true });
  }, 360_000);
});
