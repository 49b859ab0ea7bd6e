// Graceful shutdown: SIGTERM to an ingest worker mid-file hands the stream back to the queue
// without spending one of its attempts; another worker resumes it from its checkpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
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

beforeAll(async () => {
  context = await EngramContext.open(env.loaded({ ingest: { maxChunksInFlight: 4, fileRoots: [SHARED_MEDIA] } }), silentLogger());
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await context?.close();
});

describe('graceful ingest shutdown', () => {
  it('SIGTERM hands the stream back with its attempts intact, and another worker finishes it', async () => {
    const redis = context.redis.connection('test');
    const streams = new StreamRepository(redis, context.config.redis.prefix, context.queues);
    const chunks = new ChunkStore(redis, context.config.redis.prefix, 60);
    child = spawn(process.execPath, [ENGRAM_BIN, 'worker', 'ingest'], {
      cwd: packageRoot(),
      env: env.childEnv({ ENGRAM_INGEST__MAX_CHUNKS_IN_FLIGHT: '4', ENGRAM_INGEST__FILE_ROOTS: `[${SHARED_MEDIA}]` }),
      stdio: 'ignore',
    });
    const added = await streams.add({ name: 'car', source: CAR_DETECTION });
    const until = async (ok: (i: StreamInfo) => boolean, what: string) => {
      for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
        const info = (await streams.get('car'))!;
        if (ok(info)) return info;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(info)}`);
      }
    };
    await until((i) => i.state === 'waiting' && i.chunks === 4, 'the first worker to wait at 4 chunks');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child!.once('exit', (c) => r(c)));
    child = undefined;
    expect(code).toBe(0);

    // Back in the waiting list, no attempt spent, checkpoint kept.
    const queue = context.queues.queue(QueueName.Ingest);
    const jobId = `${added.name}-${added.startedAt.toString(36)}`;
    const job = (await queue.getJob(jobId))!;
    expect(await job.getState()).toBe('waiting');
    expect(job.attemptsMade).toBe(0);
    expect((await streams.get('car'))!).toMatchObject({ state: 'waiting', chunks: 4, error: null });

    await startRoles(context, [Role.Ingest]);
    const seen: number[] = [];
    let done: StreamInfo | undefined;
    for (const deadline = Date.now() + 45_000; !done && Date.now() < deadline; ) {
      const info = (await streams.get('car'))!;
      for (let seq = seen.length; seq < info.chunks; seq += 1) {
        const chunk = await chunks.get('car', seq);
        expect(chunk, `chunk ${seq}`).toBeDefined();
        seen.push(chunk!.start);
        await chunks.delete('car', seq);
        await streams.stageProgress('car', Role.Perceive, -1);
      }
      if (info.state === 'done' && seen.length === info.chunks) done = info;
      else if (info.state === 'failed') throw new Error(info.error ?? 'failed');
      else await new Promise((r) => setTimeout(r, 50));
    }
    // The same 31 one-second chunks as an uninterrupted run, and one attempt in all.
    expect(done?.chunks).toBe(31);
    seen.forEach((start, seq) => expect(start).toBeCloseTo(seq, 6));
    const finished = (await queue.getJob(jobId))!;
    expect(await finished.getState()).toBe('completed');
    expect(finished.attemptsMade).toBe(1);
  });
});
