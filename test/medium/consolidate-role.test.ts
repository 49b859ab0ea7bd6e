// The consolidate role with real Redis (BullMQ) and real LanceDB: jobs from the event inbox,
// duplicates, job schedulers, and a worker killed between writes followed by a retry.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { JobName, QueueName, Role } from '../../pipelines/jobs.js';
import { EventInbox } from '../../pipelines/repositories/event-inbox.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';
import { useTestEnv } from '../helpers/env.js';
import { syntheticEvent } from '../helpers/events.js';

const env = useTestEnv();

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runChild(id: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'test/medium/consolidate-crash-child.ts'), id], { env: env.childEnv(), cwd: packageRoot() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('consolidate role', () => {
  let context: EngramContext;
  let inbox: EventInbox;
  let store: MemoryStore;

  beforeAll(async () => {
    const loaded = env.loaded();
    context = await EngramContext.open(loaded, silentLogger());
    inbox = new EventInbox(context.redis.connection('test-inbox'), loaded.config.redis.prefix);
    store = await MemoryStore.open(loaded.paths.lancedbUri);
  });
  afterAll(async () => {
    await store?.close();
    await context?.close();
  });

  it('a worker killed between the moments and the event write leaves nothing visible; the retry completes it', async () => {
    const event = syntheticEvent({ stream: 'gate', start: 100, transcript: 'is anyone there' });
    await inbox.put(event);
    const result = await runChild(event.id);
    expect(result.stdout).toContain('moments written');
    expect(result.stdout).not.toContain('not killed');
    expect(result.signal).toBe('SIGKILL');

    // The moments rows landed, but no query shows them without their event.
    expect((await store.tableStats()).tables.moments.rows).toBe(10);
    expect(await store.getEvent(event.id)).toBeUndefined();
    expect(await store.momentsInWindow('gate', 0, 1000)).toEqual([]);
    const probe = event.moments[0]!.vectors.clip as Float32Array;
    expect(await store.vectorSearch({ table: 'moments', space: 'clip', vector: probe, limit: 5 })).toEqual([]);
    expect(await store.listEvents({ streams: ['gate'] })).toEqual([]);

    // The job (retried, or run by another worker) completes it without duplicating anything.
    await startRoles(context, [Role.Consolidate]);
    await context.queues.add(JobName.ConsolidateEvent, { stream: 'gate', eventId: event.id }, { jobId: event.id });
    await until(() => store.countEvents({ streams: ['gate'] }), (n) => n === 1);
    expect((await store.tableStats()).tables.moments.rows).toBe(10);
    expect((await store.momentsInWindow('gate', 0, 1000)).length).toBe(10);
    expect((await store.getEvent(event.id))?.transcript).toBe('is anyone there');
  });

  it('consolidates each event once however often its job is added, and schedules the maintenance jobs', async () => {
    const events = [0, 10, 20].map((start) => syntheticEvent({ stream: 'yard', start, seed: start + 99 }));
    for (const e of events) await inbox.put(e);
    for (let i = 0; i < 3; i += 1) {
      for (const e of events) await context.queues.add(JobName.ConsolidateEvent, { stream: 'yard', eventId: e.id }, { jobId: e.id });
    }
    await until(() => store.countEvents({ streams: ['yard'] }), (n) => n === 3);
    const queue = context.queues.queue(QueueName.Consolidate);
    await until(() => queue.getJobCounts('completed'), (c) => (c.completed ?? 0) >= 4);
    // The same event under another job id (a duplicate from a restarted segmenter) is skipped.
    await inbox.put(events[0]!);
    const dup = await context.queues.add(JobName.ConsolidateEvent, { stream: 'yard', eventId: events[0]!.id }, { jobId: `${events[0]!.id}-again` });
    await until(async () => (await queue.getJob(dup.id!))?.returnvalue as unknown, (v) => v !== undefined && v !== null);
    expect((await queue.getJob(dup.id!))?.returnvalue).toBe('skipped');
    expect(await store.countEvents({ streams: ['yard'] })).toBe(3);
    expect((await store.listEvents({ streams: ['yard'] })).map((e) => e.start)).toEqual([0, 10, 20]);
    // Each stored event holds its stretch of the stream's recording for recordings.eventRetainDays.
    const holds = await RecordingRepository.local(context.redis.connection('test-holds'), context.config.redis.prefix, context.paths.recordingsDir).holds('yard', Date.now());
    expect(holds.map((h) => h.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    const days = context.config.recordings.eventRetainDays;
    for (const h of holds) expect(h.until).toBe(events.find((e) => e.id === h.eventId)!.endedAt + days * 86_400_000);

    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.name).sort()).toEqual([JobName.BuildEpisodes, JobName.MaintainMemory, JobName.OptimizeTables].sort());
  });

  it('an event missing from the inbox fails for good with a clear reason', async () => {
    const job = await context.queues.add(JobName.ConsolidateEvent, { stream: 'yard', eventId: 'yard.0000999000' }, { jobId: 'yard.0000999000' });
    const queue = context.queues.queue(QueueName.Consolidate);
    await until(async () => (await queue.getJob(job.id!))?.failedReason ?? '', (r) => r !== '');
    const failed = await queue.getJob(job.id!);
    expect(failed?.failedReason).toMatch(/closed event yard.0000999000 is not in the event inbox/);
    expect(failed?.attemptsMade).toBe(1);
  });
});
