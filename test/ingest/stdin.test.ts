// `engram ingest -`: media piped into the command is ingested by that process (the only one that
// can read the pipe), with chunk times from the media. A worker that gets such a stream's job
// after the command died fails it with a message, instead of leaving it "running" for ever.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { silentLogger } from '../../services/logger.js';
import { packageRoot } from '../../config/load.js';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, generateVideo } from '../helpers/media.js';

const env = useTestEnv();
// A head far smaller than the clips, so ffmpeg always gets the buffered head and then the rest.
const smallHead = { ENGRAM_INGEST__STDIN_HEAD_BYTES: '65536' };
let context: EngramContext;
let child: ChildProcess | undefined;

beforeAll(async () => {
  context = await EngramContext.open(env.loaded(), silentLogger());
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await context?.close();
});

const report = (stdout: string) => JSON.parse(stdout) as { stream: string; durationS: number; chunks: number; keyframes: number; gaps: number; state: string };

describe('engram ingest -', () => {
  it('ingests MPEG-TS piped in, timed from the media', async () => {
    const file = await generateVideo(env.dataDir, 'piped-ts', { duration: 4, size: '640x360', audio: 'sine', ext: 'ts' });
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(4 * 65536);
    const result = await runCli(['ingest', '-', '--name', 'piped', '--json'], { env: env.childEnv(smallHead), input: bytes });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = report(result.stdout);
    // MPEG-TS timestamps start at 1.4 s; stream time starts at 0 and ends with the media.
    expect(out).toMatchObject({ stream: 'piped', chunks: 4, keyframes: 4, gaps: 0, state: 'done' });
    expect(out.durationS).toBeCloseTo(4, 1);
  });

  it('ingests real footage from an MP4 whose index comes first', async () => {
    const result = await runCli(['ingest', '-', '--json'], { env: env.childEnv(smallHead), input: readFileSync(CAR_DETECTION) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = report(result.stdout);
    // The same 31 chunks as ingesting the file by its path (30.0 s of 12.5 fps video plus AAC padding).
    expect(out).toMatchObject({ stream: 'stdin', chunks: 31, gaps: 0, state: 'done' });
    expect(out.durationS).toBeGreaterThan(30);
    expect(out.durationS).toBeLessThan(31);
    expect(out.keyframes).toBeGreaterThanOrEqual(31);
  });

  it('refuses an MP4 with its index at the end, an empty pipe, and --live, saying why', async () => {
    const file = await generateVideo(env.dataDir, 'moov-last', { duration: 2, audio: 'sine' });
    // Independent streams, so the commands run side by side.
    const [mp4, empty, junk, live] = await Promise.all([
      runCli(['ingest', '-', '--name', 'moov-last'], { env: env.childEnv(), input: readFileSync(file) }),
      runCli(['ingest', '-', '--name', 'empty'], { env: env.childEnv(), input: Buffer.alloc(0) }),
      runCli(['ingest', '-', '--name', 'junk'], { env: env.childEnv(), input: Buffer.from('not media at all\n'.repeat(100)) }),
      runCli(['ingest', '-', '--live'], { env: env.childEnv(), input: Buffer.alloc(0) }),
    ]);
    expect(mp4.code).toBe(1);
    expect(mp4.stderr).toMatch(/^engram: stream moov-last failed: stdin: this MP4\/MOV has its index \(moov atom\) at the end, so it cannot be decoded from a pipe; .*-movflags \+faststart/);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/stream empty failed: stdin: no data \(zero bytes were piped in\)/);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/stream junk failed: stdin: not readable media \(.*Invalid data/);
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(/--live cannot be used with "-"/);
  });

  it('a worker leaves the stream to the command while it lives, and fails it once the command is gone', async () => {
    const streams = new StreamRepository(context.redis.connection('test'), context.config.redis.prefix, context.queues);
    // ffmpeg analyses 5 s of a pipe before it decodes anything, so the first half is 6 s.
    const file = await generateVideo(env.dataDir, 'orphan', { duration: 12, size: '320x240', audio: 'sine', ext: 'ts' });
    const bytes = readFileSync(file);
    child = spawn(process.execPath, [ENGRAM_BIN, 'ingest', '-', '--name', 'orphan'], {
      cwd: packageRoot(),
      // A 3 s hold, renewed every second (roles starting in the command may block its event loop
      // for a moment); ffmpeg waits on the half-fed pipe without calling it a stall.
      env: env.childEnv({ ...smallHead, ENGRAM_INGEST__LOCK_DURATION_MS: '3000', ENGRAM_INGEST__STALL_TIMEOUT_MS: '60000' }),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin!.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    const until = async (ok: (i: StreamInfo | undefined) => boolean, what: string) => {
      for (const deadline = Date.now() + 20_000; ; await sleep(50)) {
        const info = await streams.get('orphan');
        if (ok(info)) return info!;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(info)}`);
      }
    };
    await until((i) => i?.state === 'running' && i.chunks >= 1, 'the command to ingest the first half');
    // An ingest worker runs beside the command for longer than the hold: the stream is not its to take.
    await startRoles(context, [Role.Ingest]);
    await sleep(4_500);
    expect((await streams.get('orphan'))!).toMatchObject({ state: 'running', error: null });

    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    const failed = await until((i) => i?.state === 'failed', 'the worker to fail the orphaned stream');
    expect(failed.error).toMatch(/stream "orphan" reads stdin \("-"\), which only the "engram ingest -" command that adds the stream can read, and no such command holds it \(it exited or was killed/);
    // Unrecoverable: failed at the first attempt, with the same words in the job.
    let job: Job | undefined;
    for (const deadline = Date.now() + 5_000; !job && Date.now() < deadline; await sleep(25)) {
      job = (await context.queues.queue(QueueName.Ingest).getJobs(['failed'])).find((j) => j.data.stream === 'orphan');
    }
    expect(job?.failedReason).toBe(failed.error);
    expect(job?.attemptsMade).toBe(1);
  });
});
