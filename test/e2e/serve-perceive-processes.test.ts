// `engram serve` perceives in supervised `engram worker perceive` children (perceive.processes):
// the children take the perceive jobs of an ingested file, status lists them, one killed -9 is
// replaced and the file still finishes with the same events, SIGTERM to serve leaves no child
// behind, a serve killed -9 takes its children with it, and processes 0 perceives in serve itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { QueueName } from '../../pipelines/jobs.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { workerName } from '../../pipelines/repositories/queue.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { childrenOf, isRunning, waitGone } from '../helpers/children.js';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { compareEvents, FAST_RECOVERY, generateScenes, storedEvents } from '../helpers/fleet.js';

const env = useTestEnv();
let context: EngramContext;
let clip = '';
const serves: ChildProcess[] = [];

interface Serve {
  child: ChildProcess;
  pid: number;
  /** Its stderr so far (serve's log and its children's, warn and up). */
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServe(processes: string, extra: Record<string, string> = {}, managedRedis = false, roles = 'ingest,perceive,segment,consolidate'): Serve {
  const childEnv = env.childEnv({ ...FAST_RECOVERY, ENGRAM_PERCEIVE__PROCESSES: processes, ...extra });
  if (managedRedis) delete childEnv.REDIS_URL;
  const child = spawn(process.execPath, [ENGRAM_BIN, 'serve', '--roles', roles], { cwd: packageRoot(), env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  serves.push(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid!, log: () => log, exited };
}

/** The pids of the perceive workers connected now, once there are `count` of them. */
async function perceiveWorkers(count: number, timeoutMs = 60_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = (await context.queues.workers(QueueName.Perceive)).map((w) => w.pid);
    if (pids.length === count) return pids.sort();
    if (Date.now() > deadline) throw new Error(`expected ${count} perceive workers, have ${pids.length} (${pids.join(', ')})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Who ran each completed perceive job of a stream (BullMQ's processedBy: our worker name, host:pid). */
async function perceivedBy(stream: string): Promise<Map<string, number>> {
  const jobs = await context.queues.queue(QueueName.Perceive).getJobs(['completed'], 0, -1);
  const by = new Map<string, number>();
  for (const job of jobs) if ((job.data as { stream?: string }).stream === stream) by.set(job.processedBy ?? '?', (by.get(job.processedBy ?? '?') ?? 0) + 1);
  return by;
}

beforeAll(async () => {
  context = await EngramContext.open(env.loaded(), silentLogger());
  clip = await generateScenes(env.dataDir, 'scenes', { segments: 6, segment: 5 });
}, 60_000);
afterAll(async () => {
  for (const child of serves) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await context?.close();
});

describe('engram serve with perceive.processes', () => {
  it('perceives in two supervised children, replaces one killed -9 without losing work, and stops them on SIGTERM', async () => {
    const serve = startServe('2');
    const pids = await perceiveWorkers(2);
    // Both are serve's own children, and serve itself does not perceive.
    const nodeChildren = childrenOf(serve.pid).map((c) => c.pid);
    for (const pid of pids) expect(nodeChildren).toContain(pid);
    expect(pids).not.toContain(serve.pid);

    const status = await runCli(['status'], { env: env.childEnv() });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`perceive +2 \\(.*pids (${pids[0]}, ${pids[1]}|${pids[1]}, ${pids[0]})\\)`));

    const childEnv = env.childEnv(FAST_RECOVERY);
    const calm = await runCli(['ingest', clip, '--name', 'calm', '--json'], { env: childEnv, timeoutMs: 120_000 });
    expect(calm.code, calm.stderr).toBe(0);
    expect(JSON.parse(calm.stdout) as IngestReport).toMatchObject({ state: 'done', gaps: 0 });
    // Every chunk was perceived, by the two children and nobody else.
    const calmReport = JSON.parse(calm.stdout) as IngestReport;
    const by = await perceivedBy('calm');
    expect([...by.keys()].sort()).toEqual(pids.map((pid) => workerName(pid)).sort());
    expect([...by.values()].reduce((a, b) => a + b, 0)).toBe(calmReport.chunks);
    const baseline = await storedEvents(childEnv, 'calm');
    expect(baseline.length).toBeGreaterThanOrEqual(3);

    // The same file again; a child is killed -9 while it perceives.
    const streams = new StreamRepository(context.redis.connection('serve-procs-test'), context.config.redis.prefix);
    const rough = runCli(['ingest', clip, '--name', 'rough', '--json'], { env: childEnv, timeoutMs: 180_000 });
    for (;;) {
      const info = await streams.get('rough');
      if (info && (info.mediaTime >= 8 || info.state === 'done')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const victim = pids[0]!;
    process.kill(victim, 'SIGKILL');
    const result = await rough;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout) as IngestReport).toMatchObject({ state: 'done', gaps: 0 });
    const after = await perceiveWorkers(2, 30_000);
    expect(after).not.toContain(victim);
    expect(after).toContain(pids[1]);
    const replacement = after.find((pid) => pid !== pids[1])!;
    expect(childrenOf(serve.pid).map((c) => c.pid)).toContain(replacement);
    expect(serve.log()).toContain(`perceive worker process ${victim} died (killed by SIGKILL); restarting`);
    const diff = compareEvents(baseline, await storedEvents(childEnv, 'rough'));
    expect(diff).toMatchObject({ faulty: baseline.length, lostSeconds: 0, duplicated: 0, holes: [] });
    expect(diff.maxBoundaryShiftS).toBeLessThanOrEqual(1);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(await waitGone(after, 5_000)).toEqual([]);
    expect(await perceiveWorkers(0, 10_000)).toEqual([]);
  }, 300_000);

  it('takes its children with it when killed -9', async () => {
    const serve = startServe('2');
    const pids = await perceiveWorkers(2);
    serve.child.kill('SIGKILL');
    await serve.exited;
    // They notice the closed IPC channel, finish what they hold and exit.
    expect(await waitGone(pids, 20_000)).toEqual([]);
  }, 120_000);

  it('with its own managed Redis, keeps the server up under its children and stops it last', async () => {
    const dataDir = join(env.dataDir, 'managed');
    // Only perceive: serve itself then holds no connection but BullMQ's, the case that went wrong.
    const serve = startServe('2', { ENGRAM_DATA_DIR: dataDir, ENGRAM_LOG__LEVEL: 'info' }, true, 'perceive');
    const deadline = Date.now() + 60_000;
    while ((serve.log().match(/perceive worker process ready/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const pids = childrenOf(serve.pid, 'node').map((c) => c.pid);
    expect(pids).toHaveLength(2);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    // The children stopped without taking the server from under serve (no "redis-server ... exited"
    // fatal), and serve, last out, stopped it: its socket is gone.
    expect(serve.log()).not.toMatch(/"level":60/);
    expect(await waitGone(pids, 5_000)).toEqual([]);
    expect(existsSync(join(dataDir, 'redis', 'redis.sock'))).toBe(false);
  }, 120_000);

  it('perceives inside the serve process with processes 0, as before', async () => {
    const serve = startServe('0');
    const pids = await perceiveWorkers(1);
    expect(pids).toEqual([serve.pid]);
    expect(childrenOf(serve.pid, 'node')).toEqual([]);
    const r = await runCli(['ingest', clip, '--name', 'inside', '--json'], { env: env.childEnv(FAST_RECOVERY), timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect([...(await perceivedBy('inside')).keys()]).toEqual([workerName(serve.pid)]);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(serve.pid)).toBe(false);
  }, 120_000);
});
