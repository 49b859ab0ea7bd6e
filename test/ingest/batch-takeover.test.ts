// Chunks are stored, checkpointed and enqueued for perception in batches (decode-run.ts). A worker
// that dies after a batch's checkpoint and before its perceive jobs are added must not cost those
// chunks their perception: the worker that takes the stream over announces them again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { chunkUnit } from '../../pipelines/follow-ups.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { ingestStream } from '../../pipelines/ingest/ingest-stream.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { ingestDeps } from '../../services/ingest/main.js';
import { silentLogger } from '../../services/logger.js';
import { useTestEnv } from '../helpers/env.js';
import { generateVideo } from '../helpers/media.js';

const env = useTestEnv();
let context: EngramContext;

beforeAll(async () => {
  context = await EngramContext.open(env.loaded({ ingest: { fileRoots: [env.dataDir] } }), silentLogger());
});
afterAll(async () => {
  await context?.close();
});

describe('batched chunk storage', () => {
  it('perceives every chunk when the worker died between a batch checkpoint and its enqueue', async () => {
    // Longer than two batches: a file stores CHUNKS_PER_WRITE chunks at a time.
    const seconds = 20;
    const file = await generateVideo(env.dataDir, 'crash', { duration: seconds, size: '320x240', fps: 25, audio: 'sine', frequency: 440 });
    const streams = new StreamRepository(context.redis.connection('test'), context.config.redis.prefix, context.queues);
    await streams.add({ name: 'crash', source: file });
    const jobId = (await streams.runtime('crash'))!.jobId;

    // The first worker: its first enqueue is slow, so chunks pile up into the next batch; the
    // next enqueue never happens (the worker "dies" right after that batch's checkpoint).
    const deps = ingestDeps(context);
    const lost: number[] = [];
    let calls = 0;
    const dying = {
      ...deps,
      enqueuePerceive: async (stream: string, seqs: readonly number[], run: string) => {
        calls += 1;
        if (calls === 1) {
          await new Promise((r) => setTimeout(r, 500));
          return deps.enqueuePerceive(stream, seqs, run);
        }
        lost.push(...seqs);
        throw new Error('worker died');
      },
    };
    await expect(ingestStream(dying, 'crash', jobId, new AbortController().signal)).rejects.toThrow('worker died');
    const checkpoint = (await streams.runtime('crash'))!;
    // The lost batch held several chunks, all checkpointed, none announced.
    expect(lost.length).toBeGreaterThan(1);
    expect(checkpoint.nextSeq).toBe(lost[lost.length - 1]! + 1);
    const perceive = context.queues.queue(QueueName.Perceive);
    for (const seq of lost) expect(await perceive.getJob(chunkUnit(jobId, seq))).toBeUndefined();

    // The ingest job is still queued: a real worker takes it over and finishes the file.
    await startRoles(context, [Role.Ingest]);
    const info = await streams.waitUntilProcessed('crash');
    expect(info.state, info.error ?? '').toBe('done');
    expect(info.chunks).toBe(seconds);
    const ids = (await perceive.getJobs(['waiting', 'delayed', 'prioritized'])).map((job) => job.id).sort();
    expect(ids).toEqual([...Array(seconds).keys()].map((seq) => chunkUnit(jobId, seq)).sort());
    // Each chunk is owed to perception once, whoever announced it.
    expect(info.progress[Role.Perceive]).toBe(seconds);
  });
});
