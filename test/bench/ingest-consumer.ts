// The ingest bench's stand-in for perception, in a worker thread: takes each chunk as soon as its
// perceive job is announced (a blocking XREAD of BullMQ's event stream for the perceive queue),
// reads its bytes, deletes it and settles it, so ingest never waits. In a thread of its own
// because engram's perceive runs in processes of its own (perceive.processes, one per core by
// default): reading ~0.7 MB frames back in the ingest's thread made that thread's garbage
// collector walk the whole engram heap for bytes ingest never reads. Its CPU still counts in
// the bench process's CPU time. Started by test/bench/ingest.ts; not a test of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { ChunkStore } from '../../pipelines/repositories/chunk-store.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';

const { socketPath, prefix, stream } = workerData as { socketPath: string; prefix: string; stream: string };
const redis = new Redis({ path: socketPath, maxRetriesPerRequest: null });
const chunks = new ChunkStore(redis, prefix, 600);
const streams = new StreamRepository(redis, prefix);
const eventsKey = `${prefix}:${QueueName.Perceive}:events`;
// Told how many chunks the stream ended with; stops once it has taken them all.
let total = Infinity;
parentPort!.on('message', (message: { total: number }) => (total = message.total));
await redis.ping();
parentPort!.postMessage('ready');
// From the start: each run has its own fresh redis-server, so the stream holds only this run's events.
let lastId = '0';
let consumed = 0;
while (consumed < total) {
  const reply = await redis.xread('BLOCK', 50, 'STREAMS', eventsKey, lastId);
  for (const [, entries] of reply ?? []) {
    for (const [id, fields] of entries) {
      lastId = id;
      const field = (key: string) => fields[fields.indexOf(key) + 1];
      if (field('event') !== 'added' || field('name') !== JobName.PerceiveChunk) continue;
      // Job ids are "<ingest run>-<seq>" (chunkUnit).
      const seq = Number(field('jobId')!.split('-').pop());
      if (!(await chunks.get(stream, seq))) throw new Error(`chunk ${seq} of ${stream} was announced but is not stored`);
      await chunks.delete(stream, seq);
      await streams.stageProgress(stream, Role.Perceive, -1);
      consumed += 1;
    }
  }
}
redis.disconnect();
parentPort!.postMessage({ consumed });
