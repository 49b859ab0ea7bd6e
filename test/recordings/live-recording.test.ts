// Recording a live camera: a TCP MPEG-TS source played in real time for about 30 s, with the
// camera going away once. What a user sees: segment files that cover the stream, an event's clip
// as long as the event, exports across segments and across the reconnect (the gap reported),
// seeking by range requests, the disk cap deleting the oldest segments, and 410 for a clip whose
// recording retention deleted.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { Role } from '../../pipelines/jobs.js';
import type { RecordedSegment } from '../../pipelines/records/recording.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { holdFor } from '../../pipelines/records/recording-retention.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { syntheticEvent } from '../helpers/events.js';
import { LiveTsServer, generateVideo, mediaDuration } from '../helpers/media.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

const run = promisify(execFile);
const env = useTestEnv();
const SEGMENT_S = 4;
let context: EngramContext;
let streams: StreamRepository;
let recordings: RecordingRepository;
let camera: LiveTsServer;
let app: FastifyInstance;
let base: string;
let closeApi: () => Promise<void>;
let info: StreamInfo;
let segments: RecordedSegment[];

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const all = () => recordings.list('cam', 0, Date.now() + 3_600_000).then((s) => s.sort((a, b) => a.wallStart - b.wallStart));

/**
 * Decodes every video frame of a file (ffprobe -count_frames): the decoder's complaints (none for a
 * file that plays) and how many frames it got. Not `ffmpeg -f null`: its muxer complains about
 * timestamps its own rounding to the average frame rate collides, which a gap skipped in an export
 * makes uneven.
 */
async function decode(path: string): Promise<{ errors: string; frames: number }> {
  const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  return { errors: stderr.trim(), frames: Number(stdout.trim()) };
}

/**
 * A file plays: every frame decodes, the picture starts with the file (not at a later keyframe),
 * and there are as many frames as `seconds` holds at 25 fps, within `slackS`.
 */
async function expectPlays(path: string, seconds: number, slackS = 0.5): Promise<void> {
  const { errors, frames } = await decode(path);
  expect(errors).toBe('');
  expect(Math.abs(frames - seconds * 25)).toBeLessThanOrEqual(slackS * 25);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', path]);
  expect(Number(stdout.trim())).toBeLessThan(0.05);
}

beforeAll(async () => {
  const loaded = env.loaded({
    api: { port: 0 },
    recordings: { segmentSeconds: SEGMENT_S },
    ingest: { reconnectMinMs: 200, reconnectMaxMs: 1_000, probeTimeoutMs: 3_000, stallTimeoutMs: 3_000 },
  });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest]);
  const redis = context.redis.connection('test');
  streams = new StreamRepository(redis, loaded.config.redis.prefix, context.queues);
  recordings = RecordingRepository.local(redis, loaded.config.redis.prefix, loaded.paths.recordingsDir);
  const { deps, close } = await apiDeps(context);
  app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  closeApi = async () => {
    await app.close();
    await close();
  };

  // A camera with a keyframe every second, sound and picture, played in real time.
  const clip = await generateVideo(env.dataDir, 'cam-source', { duration: 40, size: '320x240', fps: 25, audio: 'sine' });
  camera = new LiveTsServer(clip);
  await camera.start();
  await streams.add({ name: 'cam', source: camera.url });
  await until('3 segments', all, (s) => s.length >= 3);
  // The camera goes away for 2.5 s and comes back.
  await camera.stop();
  await new Promise((r) => setTimeout(r, 2_500));
  await camera.start();
  const before = (await all()).length;
  await until('3 segments after the reconnect', all, (s) => s.length >= before + 3, 40_000);
  await streams.stop('cam');
  info = await until('stopped', async () => (await streams.get('cam'))!, (i) => i.state === 'stopped');
  // The segment ffmpeg was writing when it was stopped is indexed as the run closes.
  await new Promise((r) => setTimeout(r, 1_000));
  segments = await all();
}, 120_000);

afterAll(async () => {
  await camera?.stop();
  await closeApi?.();
  await context?.close();
});

describe('recording a live stream', () => {
  it('writes segment files that cover the stream, a new run after the reconnect', () => {
    const runs = [...new Set(segments.map((s) => s.run))];
    expect(runs).toHaveLength(2);
    expect(info.gaps).toHaveLength(1);
    const gap = info.gaps[0]!;
    for (const s of segments) {
      const path = join(context.paths.recordingsDir, s.file);
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).size).toBe(s.bytes);
    }
    // Stream time: from 0 to what ingest decoded, without holes inside a run.
    expect(segments[0]!.start).toBeCloseTo(0, 1);
    expect(segments.at(-1)!.end).toBeGreaterThan(info.mediaTime - 1.5);
    for (let i = 1; i < segments.length; i += 1) {
      const [a, b] = [segments[i - 1]!, segments[i]!];
      if (a.run === b.run) expect(b.start).toBeCloseTo(a.end, 2);
      else {
        // The reconnect: the new run starts where the gap ends, in stream and wall-clock time.
        expect(a.end).toBeCloseTo(gap.from, 0);
        expect(b.start).toBeCloseTo(gap.to, 0);
        expect(Math.abs(b.wallStart - gap.wallTo)).toBeLessThan(1_000);
      }
    }
    // Segments are cut at keyframes near the configured length (the last of each run is shorter).
    const full = segments.filter((s, i) => segments[i + 1]?.run === s.run);
    for (const s of full) expect(s.end - s.start).toBeGreaterThanOrEqual(SEGMENT_S - 0.1);
    for (const s of full) expect(s.end - s.start).toBeLessThan(SEGMENT_S + 1.1);
  });

  it('lists what is recorded as two spans, one per run, split at the reconnect', async () => {
    const res = await fetch(`${base}/api/streams/cam/recordings`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { stream: string; spans: { from: string; to: string; seconds: number; segments: number; bytes: number }[]; prunedUntil: string | null };
    const runs = [...new Set(segments.map((s) => s.run))].map((run) => segments.filter((s) => s.run === run));
    expect(body).toEqual({
      stream: 'cam',
      spans: runs.map((r) => ({
        from: new Date(r[0]!.wallStart).toISOString(),
        to: new Date(r.at(-1)!.wallEnd).toISOString(),
        seconds: Number(((r.at(-1)!.wallEnd - r[0]!.wallStart) / 1000).toFixed(3)),
        segments: r.length,
        bytes: r.reduce((n, s) => n + s.bytes, 0),
      })),
      prunedUntil: null,
    });
    // Between two times: only the spans that overlap them.
    const second = runs[1]![0]!;
    const later = (await (await fetch(`${base}/api/streams/cam/recordings?from=${Math.round(second.wallStart + 100)}&to=${Math.round(second.wallEnd)}`)).json()) as { spans: unknown[] };
    expect(later.spans).toHaveLength(1);
    const bad = await fetch(`${base}/api/streams/cam/recordings?from=tomorrow`);
    expect(bad.status).toBe(400);
  });

  it('exports a range across two segments as an MP4 that plays', async () => {
    const [a, b] = [segments[0]!, segments[1]!];
    const from = a.wallStart + 1_500;
    const to = b.wallStart + 2_000;
    const res = await fetch(`${base}/api/streams/cam/export?from=${Math.round(from)}&to=${Math.round(to)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('x-engram-segments')).toBe('2');
    expect(JSON.parse(res.headers.get('x-engram-gaps') ?? 'null')).toEqual([]);
    const file = join(env.dataDir, 'two-segments.mp4');
    await import('node:fs/promises').then((fs) => res.arrayBuffer().then((body) => fs.writeFile(file, Buffer.from(body))));
    expect(Math.abs((await mediaDuration(file)) - (to - from) / 1000)).toBeLessThan(0.5);
    await expectPlays(file, (to - from) / 1000);
  });

  it('refuses bad export ranges by name, and says when nothing was recorded', async () => {
    const first = segments[0]!;
    const [start, end] = [Math.round(first.wallStart), Math.round(first.wallEnd)];
    const backwards = await fetch(`${base}/api/streams/cam/export?from=${end}&to=${start}`);
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { message: string }).message).toMatch(/from must be before to/);
    const before = await fetch(`${base}/api/streams/cam/export?from=${new Date(start - 60_000).toISOString()}&to=${new Date(start - 30_000).toISOString()}`);
    expect(before.status).toBe(404);
    expect(((await before.json()) as { message: string }).message).toMatch(/nothing was recorded for stream "cam"/);
    const other = await fetch(`${base}/api/streams/nowhere/export?from=${start}&to=${end}`);
    expect(other.status).toBe(404);
  });

  it('exports across the reconnect with engram export, reporting the gap', async () => {
    const gap = info.gaps[0]!;
    const from = new Date(gap.wallFrom - 3_000).toISOString();
    const to = new Date(gap.wallTo + 3_000).toISOString();
    const out = join(env.dataDir, 'across-gap.mp4');
    const result = await runCli(['export', 'cam', '--from', from, '--to', to, '-o', out, '--json'], { env: env.childEnv() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { durationS: number; segments: number; gaps: { from: string; to: string; seconds: number; atS: number }[] };
    expect(report.segments).toBeGreaterThanOrEqual(2);
    expect(report.gaps).toHaveLength(1);
    expect(Math.abs(report.gaps[0]!.seconds - (gap.wallTo - gap.wallFrom) / 1000)).toBeLessThan(1);
    expect(report.gaps[0]!.atS).toBeCloseTo(3, 0);
    // The gap is skipped, not filled: 3 s before it and 3 s after it.
    expect(Math.abs((await mediaDuration(out)) - 6)).toBeLessThan(1);
    expect(Math.abs(report.durationS - 6)).toBeLessThan(1);
    // A second of slack: the run cut by the reconnect loses what ffmpeg had not written yet.
    await expectPlays(out, 6, 1);
  });

  it('serves an event’s clip with the event’s duration, and byte ranges for seeking', async () => {
    const first = segments[0]!;
    const runWall = Number(first.run);
    const store = await MemoryStore.open(context.paths.lancedbUri, { reinforceDays: 1 });
    const event = syntheticEvent({ stream: 'cam', start: 2.5, length: 5, epoch: runWall, dims: 16, seed: 7 });
    const summarizer = makeSummarizer(new LlmClient(context.config.llm), async () => undefined, { maxImages: 0 });
    expect((await consolidateEvent(event, { store, summarizer, memory: context.config.memory })).status).toBe('stored');
    await store.close();

    const res = await fetch(`${base}/api/events/${event.id}/clip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const file = join(env.dataDir, 'event.mp4');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, body));
    expect(Math.abs((await mediaDuration(file)) - 5)).toBeLessThan(1);
    await expectPlays(file, 5);

    const partial = await fetch(`${base}/api/events/${event.id}/clip`, { headers: { range: 'bytes=100-1099' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 100-1099/${body.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(body.subarray(100, 1100))).toBe(true);
    const tail = await fetch(`${base}/api/events/${event.id}/clip`, { headers: { range: 'bytes=-500' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.length - 500))).toBe(true);
    const past = await fetch(`${base}/api/events/${event.id}/clip`, { headers: { range: `bytes=${body.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${body.length}`);
  });

  it('reports recording bytes in engram status, /api/streams and /metrics', async () => {
    const total = segments.reduce((n, s) => n + s.bytes, 0);
    const listed = (await (await fetch(`${base}/api/streams`)).json()) as { streams: { name: string; recordingBytes: number }[] };
    expect(listed.streams.find((s) => s.name === 'cam')?.recordingBytes).toBe(total);
    const metrics = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(metrics, 'engram_recording_bytes', { stream: 'cam' })).toBe(total);
    const status = await runCli(['status', '--json'], { env: env.childEnv() });
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { streams: { name: string; recordingBytes: number }[] };
    expect(report.streams.find((s) => s.name === 'cam')?.recordingBytes).toBe(total);
  });

  it('deletes the oldest segments first over maxBytes, answers 410 for a pruned clip, and keeps held segments past retainDays', async () => {
    const policy = { ...context.config.recordings };
    // A cap that fits the newest three segments.
    const newest = segments.slice(-3);
    const cap = newest.reduce((n, s) => n + s.bytes, 0);
    const capped = await recordings.sweep(Date.now(), { ...policy, maxBytes: cap });
    expect(capped.deletedByCap).toBe(segments.length - 3);
    expect((await all()).map((s) => s.file)).toEqual(newest.map((s) => s.file));
    for (const s of segments.slice(0, -3)) expect(existsSync(join(context.paths.recordingsDir, s.file))).toBe(false);
    expect((await recordings.bytes()).cam).toBe(cap);

    // The event whose recording went: its clip says so, the event stays.
    const eventId = 'cam.0000002500';
    const gone = await fetch(`${base}/api/events/${eventId}/clip`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { message: string }).message).toMatch(/deleted by retention/);
    expect((await fetch(`${base}/api/events/${eventId}`)).status).toBe(200);

    // An event over the last segment holds it; a sweep a year later deletes the others by age.
    const last = segments.at(-1)!;
    await recordings.hold('cam', holdFor({ id: 'cam.held', startedAt: last.wallStart + 100, endedAt: last.wallStart + 200, labels: ['person'] }, { ...policy, eventPaddingSeconds: 0, labelRetainDays: { person: 400 } }));
    const aged = await recordings.sweep(last.wallEnd + 365 * 86_400_000, { ...policy, retainDays: 7, maxBytes: 0 });
    expect(aged.deletedByAge).toBe(2);
    expect((await all()).map((s) => s.file)).toEqual([last.file]);
    expect(readFileSync(join(context.paths.recordingsDir, last.file)).length).toBe(last.bytes);
  });
});
