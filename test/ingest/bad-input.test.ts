// Every kind of bad input fails its own stream, unrecoverably, with a message naming the cause,
// while the worker keeps serving other streams.
import { createServer, type Server } from 'node:net';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { silentLogger } from '../../services/logger.js';
import { makeTempDir, useTestEnv } from '../helpers/env.js';
import { ffmpegRun, generateVideo } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;
let streams: StreamRepository;
let media: string;
let outside: string;
let silent: Server;
let silentPort = 0;

beforeAll(async () => {
  media = join(env.dataDir, 'media');
  mkdirSync(media);
  outside = makeTempDir('engram-outside-');
  const loaded = env.loaded({ ingest: { fileRoots: [media], probeTimeoutMs: 1_000, connectAttempts: 2, reconnectMinMs: 100 } });
  context = await EngramContext.open(loaded, silentLogger());
  await startRoles(context, [Role.Ingest]);
  streams = new StreamRepository(context.redis.connection('test'), loaded.config.redis.prefix, context.queues);
  // A TCP server that accepts and never says anything: a camera that hangs.
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  silent?.close();
  await context?.close();
});

async function failure(name: string, source: string): Promise<string> {
  await streams.add({ name, source });
  const info = await streams.waitUntilProcessed(name);
  expect(info.state).toBe('failed');
  // The job failed for good (no retry can help) with the same message. The stream's state is
  // written before the handler throws, so BullMQ may move the job to the failed set a moment later.
  let job: Job | undefined;
  for (const deadline = Date.now() + 5_000; !job && Date.now() < deadline; await sleep(25)) {
    job = (await context.queues.queue(QueueName.Ingest).getJobs(['failed'])).find((j) => j.data.stream === name);
  }
  if (!job) throw new Error(`the ingest job of ${name} never reached the failed set`);
  expect(job.failedReason).toBe(info.error);
  expect(job.attemptsMade).toBe(1);
  return info.error!;
}

describe('bad input', () => {
  it('a missing file', async () => {
    expect(await failure('missing', join(media, 'nope.mp4'))).toMatch(/file not found: .*nope\.mp4/);
  });

  it('a zero-length file', async () => {
    writeFileSync(join(media, 'empty.mp4'), '');
    expect(await failure('empty', join(media, 'empty.mp4'))).toMatch(/empty \(zero bytes\)/);
  });

  it('a file that is not media', async () => {
    writeFileSync(join(media, 'notes.mp4'), 'this is a shopping list, not a video\n'.repeat(50));
    expect(await failure('notes', join(media, 'notes.mp4'))).toMatch(/not a readable media file \(.*Invalid data/);
  });

  it('a truncated file (index at the end)', async () => {
    const whole = await generateVideo(media, 'whole', { duration: 4, audio: 'sine' });
    writeFileSync(join(media, 'cut.mp4'), readFileSync(whole).subarray(0, 20_000));
    expect(await failure('cut', join(media, 'cut.mp4'))).toMatch(/truncated or incomplete \(.*moov atom not found/);
  });

  it('a truncated file (index at the start)', async () => {
    const whole = await generateVideo(media, 'fast', { duration: 6, audio: 'sine', outputOptions: ['-movflags', '+faststart'] });
    const bytes = readFileSync(whole);
    writeFileSync(join(media, 'fastcut.mp4'), bytes.subarray(0, Math.floor(bytes.length * 0.4)));
    expect(await failure('fastcut', join(media, 'fastcut.mp4'))).toMatch(/truncated or damaged: decoded [0-9.]+ s of 6\.0 s/);
  });

  it('an unsupported codec', async () => {
    const mkv = await generateVideo(media, 'codec', { duration: 1, audio: 'none', ext: 'mkv' });
    const bytes = readFileSync(mkv);
    const at = bytes.indexOf('V_MPEG4/ISO/AVC');
    expect(at).toBeGreaterThan(0);
    bytes.write('V_ENGRAM/NOPE/X', at); // a codec id no decoder knows
    writeFileSync(join(media, 'alien.mkv'), bytes);
    expect(await failure('alien', join(media, 'alien.mkv'))).toMatch(/unsupported video codec/);
  });

  it('an absurd resolution', async () => {
    await ffmpegRun(['-f', 'lavfi', '-i', 'color=size=8000x16:rate=1:duration=1', '-c:v', 'rawvideo', '-f', 'nut', join(media, 'wide.nut')]);
    expect(await failure('wide', join(media, 'wide.nut'))).toMatch(/absurd resolution 8000x16 \(limit 7680x4320/);
  });

  it('a URL that never answers', async () => {
    const started = Date.now();
    expect(await failure('hung', `tcp://127.0.0.1:${silentPort}`)).toMatch(/never answered after 2 attempts/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a disallowed protocol, and protocol tricks in a bare source', async () => {
    expect(await failure('ftp', 'ftp://user:secret@example.com/a.mp4')).toMatch(/protocol "ftp" is not allowed/);
    expect(await failure('concat', `concat:${join(media, 'whole.mp4')}|${join(media, 'whole.mp4')}`)).toMatch(/protocol "concat" is not allowed/);
    const info = await streams.get('ftp');
    expect(info!.source).toBe('ftp://user:***@example.com/a.mp4');
  });

  it('a path outside the allowed roots, via .. or via a symlink', async () => {
    const secret = await generateVideo(outside, 'secret', { duration: 1, audio: 'none' });
    expect(await failure('outside', secret)).toMatch(/outside the allowed directories/);
    expect(await failure('dots', `${media}/../../${secret}`)).toMatch(/contains "\.\."/);
    symlinkSync(secret, join(media, 'link.mp4'));
    expect(await failure('link', join(media, 'link.mp4'))).toMatch(/resolves to .*secret\.mp4\) is outside the allowed directories/);
  });

  it('stdin, which a worker cannot read, says so', async () => {
    expect(await failure('stdin', '-')).toMatch(/reads stdin \("-"\), which only the "engram ingest -" command that adds the stream can read/);
  });

  it('leaves the worker serving good streams', async () => {
    const good = await generateVideo(media, 'good', { duration: 2, audio: 'sine' });
    await streams.add({ name: 'good', source: good });
    const info = await streams.waitUntilProcessed('good');
    expect(info.state).toBe('done');
    expect(info.chunks).toBe(2);
  });
});
