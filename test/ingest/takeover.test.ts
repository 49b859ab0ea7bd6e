// Worker takeover: an ingest worker process is killed mid-file; another worker picks the stalled
// job up and resumes from the last stored chunk, so every chunk exists exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../pipelines/jobs.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { silentLogger } from '../../services/logger.js';
import { packageRoot } from '../../config/load.js';
import { ENGRAM_BIN } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;
let child: ChildProcess | undefined;
const ingest = { lockDurationMs: 2_000, stalledIntervalMs: 1_000, maxChunksInFlight: 4, fileRoots: [SHARED_MEDIA] };

beforeAll(async () => {
  context = await EngramContext.open(env.loaded({ ingest }), silentLogger());
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await context?.close();
});

describe('worker takeover', () => {
  it('resumes a file from its checkpoint on another worker after the first is killed', async () => {
    const redis = context.redis.connection('test');
    const streams = new StreamRepository(redis, context.config.redis.prefix, context.queues);
    const chunks = new ChunkStore(redis, context.config.redis.prefix, 60);
    child = spawn(process.execPath, [ENGRAM_BIN, 'worker', 'ingest'], {
      cwd: packageRoot(),
      env: env.childEnv({
        ENGRAM_INGEST__LOCK_DURATION_MS: '2000',
        ENGRAM_INGEST__STALLED_INTERVAL_MS: '1000',
        ENGRAM_INGEST__MAX_CHUNKS_IN_FLIGHT: '4',
        ENGRAM_INGEST__FILE_ROOTS: `[${SHARED_MEDIA}]`,
      }),
      stdio: 'ignore',
    });
    await streams.add({ name: 'car', source: CAR_DETECTION });
    const until = async (ok: (i: StreamInfo) => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const info = (await streams.get('car'))!;
        if (ok(info)) return info;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(info)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // The first worker fills the in-flight bound and waits for perception that never comes.
    const before = await until((i) => i.state === 'waiting' && i.chunks === 4, 'the first worker to wait at 4 chunks');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    expect(before.mediaTime).toBeCloseTo(4, 3);

    // A second worker (this process) takes over; the test plays perception and consumes chunks.
    await startRoles(context, [Role.Ingest]);
    const seen: { seq: number; start: number; end: number; keyframes: number }[] = [];
    let done: StreamInfo | undefined;
    const deadline = Date.now() + 45_000;
    while (!done && Date.now() < deadline) {
      const info = (await streams.get('car'))!;
      for (let seq = seen.length; seq < info.chunks; seq += 1) {
        const chunk = await chunks.get('car', seq);
        expect(chunk, `chunk ${seq}`).toBeDefined();
        seen.push({ seq, start: chunk!.start, end: chunk!.end, keyframes: chunk!.keyframes.filter((k) => !k.scene).length });
        await chunks.delete('car', seq);
        await streams.stageProgress('car', Role.Perceive, -1);
      }
      if (info.state === 'done' && seen.length === info.chunks) done = info;
      else if (info.state === 'failed') throw new Error(info.error ?? 'failed');
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(done?.state).toBe('done');
    // Same chunks as an uninterrupted run: 31, contiguous, one regular keyframe each.
    expect(done!.chunks).toBe(31);
    expect(seen.map((c) => c.seq)).toEqual([...Array(31).keys()]);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!.start).toBeCloseTo(seen[i - 1]!.end, 3);
    expect(seen.every((c) => c.keyframes === 1)).toBe(true);
    expect(seen[4]!.start).toBeCloseTo(4, 6);
    expect((await streams.get('car'))!.progress[Role.Perceive]).toBe(0);
  });
});
