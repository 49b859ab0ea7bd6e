// A live stream recorded on one host and read back on another, sharing only Redis and an
// S3-compatible object store (s3rver, started here), with storage.blobs s3. The first host runs
// ingest: every closed segment goes to the bucket under recordings/ and leaves the host's disk.
// With that host's recordings folder deleted, the third host (its own data directory, LanceDB
// on the bucket too) lists what is recorded, exports a range, cuts an event's clip with range
// requests, and `engram export` there writes a file; retention deletes segments from the bucket.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { QueueName } from '../../pipelines/jobs.js';
import type { RecordedSegment } from '../../pipelines/records/recording.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import type { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import { S3BlobStore } from '../../pipelines/repositories/s3-blob-store.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { lanceAccess, recordingRepository } from '../../services/runtime/storage.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { syntheticEvent } from '../helpers/events.js';
import { FAST_RECOVERY, Fleet, waitForWorkers } from '../helpers/fleet.js';
import { LiveTsServer, generateVideo, mediaDuration } from '../helpers/media.js';
import { freePort } from '../helpers/ports.js';
import { S3_KEY, useTestS3 } from '../helpers/s3.js';

const run = promisify(execFile);
const env = useTestEnv();
const s3 = useTestS3();
const SEGMENT_S = 2;
const LANCEDB = 's3://engram/memory';
let context: EngramContext;
let fleet: Fleet | undefined;
let camera: LiveTsServer | undefined;

/** A host: its own data directory, the shared Redis, LanceDB and blobs on the object store. */
function host(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dataDir = join(env.dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  return env.childEnv({
    ...FAST_RECOVERY,
    ...s3.server.env({ prefix: 'blobs/', lancedbUri: LANCEDB }),
    ENGRAM_DATA_DIR: dataDir,
    ENGRAM_RECORDINGS__SEGMENT_SECONDS: String(SEGMENT_S),
    ENGRAM_INGEST__RECONNECT_MIN_MS: '200',
    ENGRAM_INGEST__PROBE_TIMEOUT_MS: '10000',
    ...extra,
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}\n${fleet?.processes.map((p) => `${p.role}: ${p.log.slice(-1500)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every frame decodes and there are as many as `seconds` holds at 25 fps, within half a second. */
async function expectPlays(path: string, seconds: number): Promise<void> {
  const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  expect(stderr.trim()).toBe('');
  expect(Math.abs(Number(stdout.trim()) - seconds * 25)).toBeLessThanOrEqual(12.5);
}

beforeAll(async () => {
  context = await EngramContext.open(env.loaded({ storage: s3.server.storage({ prefix: 'blobs/', lancedbUri: LANCEDB }) }), silentLogger());
}, 60_000);
afterAll(async () => {
  await camera?.stop();
  await fleet?.stopAll();
  await context?.close();
});

describe('recordings of live streams with blobs on object storage', () => {
  it('uploads closed segments from the ingest host, and another host lists, exports and cuts them from the bucket; retention deletes them there', async () => {
    const port = await freePort();
    const first = host('first');
    const third = host('third', { ENGRAM_API__PORT: String(port) });
    fleet = new Fleet(first);
    await fleet.start('ingest', first);
    await fleet.start('api', third);
    await waitForWorkers(context.queues, { [QueueName.Ingest]: 1 });
    const bucket = new S3BlobStore({ endpoint: s3.server.endpoint, region: 'us-east-1', bucket: 'engram', prefix: 'blobs/', accessKeyId: S3_KEY, secretAccessKey: S3_KEY, sessionToken: '', forcePathStyle: true });
    const redis = context.redis.connection('test');
    // The index as any host reads it (Redis), with the bucket behind it.
    const recordings: RecordingRepository = recordingRepository(context.loaded, redis);
    const all = async (): Promise<RecordedSegment[]> => (await recordings.list('cam', 0, Date.now() + 3_600_000)).sort((a, b) => a.wallStart - b.wallStart);

    const clip = await generateVideo(env.dataDir, 'cam-source', { duration: 40, size: '320x240', fps: 25, audio: 'sine' });
    camera = new LiveTsServer(clip);
    await camera.start();
    const streams = new StreamRepository(redis, context.config.redis.prefix, context.queues);
    await streams.add({ name: 'cam', source: camera.url });

    // While it records, every indexed segment is already in the bucket, and the first host's
    // folder holds only what ffmpeg is still writing: the live tail is not uploaded.
    const local = join(env.dataDir, 'first', 'recordings', 'cam');
    const midway = await until('3 segments', all, (s) => s.length >= 3);
    const inBucket = new Set((await bucket.list('recordings/cam/')).map((b) => b.path));
    for (const s of midway) expect(inBucket).toContain(`recordings/${s.file}`);
    const writing = readdirSync(local).filter((f) => f.endsWith('.ts'));
    expect(writing.length).toBeLessThanOrEqual(2);
    for (const f of writing) expect(midway.map((s) => s.file)).not.toContain(`cam/${f}`);

    await until('5 segments', all, (s) => s.length >= 5);
    await streams.stop('cam');
    await until('stopped', async () => (await streams.get('cam'))?.state, (state) => state === 'stopped');
    // The segment ffmpeg was writing when it stopped is uploaded as the run closes.
    await new Promise((r) => setTimeout(r, 1_500));
    const segments = await all();
    const stored = await bucket.list('recordings/cam/');
    expect(stored.map((b) => [b.path, b.size])).toEqual(segments.map((s) => [`recordings/${s.file}`, s.bytes]));
    expect(readdirSync(local).filter((f) => f.endsWith('.ts'))).toEqual([]);
    // The first host's folder is not needed from here on.
    rmSync(join(env.dataDir, 'first', 'recordings'), { recursive: true, force: true });

    // The third host: the stream's recording bytes, an export across two segments.
    const api = `http://127.0.0.1:${port}`;
    await until('api', () => fetch(`${api}/readyz`).then((r) => r.status).catch(() => 0), (status) => status === 200);
    const total = segments.reduce((n, s) => n + s.bytes, 0);
    const listed = (await (await fetch(`${api}/api/streams`)).json()) as { streams: { name: string; recordingBytes: number }[] };
    expect(listed.streams.find((s) => s.name === 'cam')?.recordingBytes).toBe(total);
    // What is recorded, as spans of time: one run, from the first segment to the last.
    const spans = (await (await fetch(`${api}/api/streams/cam/recordings`)).json()) as { spans: { from: string; to: string; segments: number; bytes: number }[]; prunedUntil: string | null };
    expect(spans).toEqual({
      stream: 'cam',
      spans: [{ from: new Date(segments[0]!.wallStart).toISOString(), to: new Date(segments.at(-1)!.wallEnd).toISOString(), seconds: expect.any(Number), segments: segments.length, bytes: total }],
      prunedUntil: null,
    });
    expect((await fetch(`${api}/api/streams/nowhere/recordings`)).status).toBe(404);
    const [a, b] = [segments[1]!, segments[2]!];
    const from = Math.round(a.wallStart + 500);
    const to = Math.round(b.wallStart + 1_000);
    const exported = await fetch(`${api}/api/streams/cam/export?from=${from}&to=${to}`);
    expect(exported.status, await exported.clone().text()).toBe(200);
    expect(exported.headers.get('x-engram-segments')).toBe('2');
    const exportFile = join(env.dataDir, 'export.mp4');
    writeFileSync(exportFile, Buffer.from(await exported.arrayBuffer()));
    expect(Math.abs((await mediaDuration(exportFile)) - (to - from) / 1000)).toBeLessThan(0.5);
    await expectPlays(exportFile, (to - from) / 1000);

    // An event's clip, cut on the third host from the bucket, with byte ranges.
    const store = await MemoryStore.open(LANCEDB, { ...lanceAccess(context.loaded, context.redis), reinforceDays: 1 });
    const event = syntheticEvent({ stream: 'cam', start: segments[0]!.start + 1.5, length: 3, epoch: Number(segments[0]!.run), dims: 16, seed: 7 });
    const summarizer = makeSummarizer(new LlmClient(context.config.llm), async () => undefined, { maxImages: 0 });
    try {
      expect((await consolidateEvent(event, { store, summarizer, memory: context.config.memory })).status).toBe('stored');
    } finally {
      await store.close();
    }
    const cut = await fetch(`${api}/api/events/${event.id}/clip`);
    expect(cut.status, await cut.clone().text()).toBe(200);
    const body = Buffer.from(await cut.arrayBuffer());
    const clipFile = join(env.dataDir, 'event.mp4');
    writeFileSync(clipFile, body);
    expect(Math.abs((await mediaDuration(clipFile)) - 3)).toBeLessThan(0.5);
    await expectPlays(clipFile, 3);
    const part = await fetch(`${api}/api/events/${event.id}/clip`, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100, 1100))).toBe(true);
    // The cuts are kept in the bucket for any API host; the third host's folder holds none.
    expect((await bucket.list('recordings/.cuts/')).length).toBe(2);
    const thirdCuts = join(env.dataDir, 'third', 'recordings', '.cuts');
    expect(existsSync(thirdCuts) ? readdirSync(thirdCuts) : []).toEqual([]);

    // engram export on the third host writes the range to a file.
    const out = join(env.dataDir, 'cli-export.mp4');
    const cli = await runCli(['export', 'cam', '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '-o', out, '--json'], { env: third, timeoutMs: 60_000 });
    expect(cli.code, cli.stderr).toBe(0);
    expect(Math.abs((await mediaDuration(out)) - (to - from) / 1000)).toBeLessThan(0.5);

    // Retention over the cap deletes the oldest segments from the bucket; their clips are gone (410).
    const newest = segments.slice(-2);
    const swept = await recordings.sweep(Date.now(), { ...context.config.recordings, maxBytes: newest.reduce((n, s) => n + s.bytes, 0) });
    expect(swept.deletedByCap).toBe(segments.length - 2);
    expect((await bucket.list('recordings/cam/')).map((x) => x.path)).toEqual(newest.map((s) => `recordings/${s.file}`));
    const gone = await fetch(`${api}/api/streams/cam/export?from=${from}&to=${to}`);
    expect(gone.status).toBe(410);
    const after = (await (await fetch(`${api}/api/streams/cam/recordings`)).json()) as { spans: { from: string; segments: number }[]; prunedUntil: string | null };
    expect(after.spans).toMatchObject([{ from: new Date(newest[0]!.wallStart).toISOString(), segments: 2 }]);
    expect(after.prunedUntil).toBe(new Date(segments.at(-3)!.wallEnd).toISOString());
  }, 240_000);
});
