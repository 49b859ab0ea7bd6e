// Losing Redis. The managed redis-server dying is final: every engram process using it (serve
// with the API, workers, an ingest in progress) exits within 10 s, non-zero, with one line saying
// why. An external Redis that restarts is waited for: the processes log the loss and the
// reconnection, and an ingest in progress completes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, packageRoot } from '../../config/load.js';
import { QueueName } from '../../pipelines/jobs.js';
import { isAlive } from '../../pipelines/repositories/lock-file.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/env.js';
import { FAST_RECOVERY, generateScenes, waitForWorkers } from '../helpers/fleet.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** This test's own environment for child engram processes: no inherited ENGRAM_* or REDIS_URL. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.REDIS_URL;
  Object.assign(env, { ENGRAM_LOG__LEVEL: 'warn', ...FAST_RECOVERY, ...extra });
  for (const key of Object.keys(env)) if (key.startsWith('ENGRAM_') && !(key in extra) && !(key in FAST_RECOVERY) && key !== 'ENGRAM_LOG__LEVEL') delete env[key];
  return env;
}

interface Proc {
  name: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; at: number }>;
}

function engram(name: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [ENGRAM_BIN, ...args], { cwd: packageRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const proc: Proc = { name, child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() }))) };
  child.stdout!.on('data', (d: Buffer) => (proc.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (proc.stderr += d.toString()));
  return proc;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('losing Redis', () => {
  it('stops every process within 10 s, with one line saying why, when the managed redis-server dies', async () => {
    const dataDir = makeTempDir('engram-rl-');
    dirs.push(dataDir);
    const clip = await generateScenes(dataDir, 'long', { segments: 12, segment: 10 });
    const env = childEnv({ ENGRAM_DATA_DIR: dataDir, ENGRAM_API__PORT: String(20_000 + Math.floor(Math.random() * 20_000)) });
    const serve = engram('serve', ['serve', '--roles', 'ingest,segment,consolidate,api'], env);
    await until('engram serve to listen', () => serve.stdout.includes('web UI and API at'));
    const perceive = engram('perceive', ['worker', 'perceive'], env);
    const ingest = engram('ingest', ['ingest', clip, '--name', 'long', '--json'], env);
    // Work in progress: the status shows chunks stored for the stream.
    await until('the ingest to be under way', async () => {
      const r = await runCli(['streams', 'list', '--json'], { env, timeoutMs: 20_000 });
      return r.code === 0 && (JSON.parse(r.stdout) as { chunks: number }[]).some((s) => s.chunks >= 5);
    });
    const pid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    for (const proc of [serve, perceive, ingest]) {
      const { code, at } = await Promise.race([proc.exited, sleep(15_000).then(() => ({ code: -1, at: Infinity }))]);
      expect(at - killedAt, `${proc.name} still running 15 s after redis-server died:\n${proc.stderr}`).toBeLessThan(10_000);
      expect(code, `${proc.name}:\n${proc.stderr}`).not.toBe(0);
      // The last line is the one a person reads: it names the cause, and is not a stack trace.
      const last = proc.stderr.trim().split('\n').pop() ?? '';
      expect(last, proc.name).toMatch(/^engram: the managed Redis died \(redis-server \(pid \d+\) (exited with SIGKILL|is no longer running)\); stopping/);
      expect(proc.stderr, proc.name).not.toMatch(/unexpected error|\n\s+at /);
    }
  }, 180_000);

  it('waits for an external Redis that restarts: the loss and the reconnection are logged, and the ingest completes', async () => {
    const dir = makeTempDir('engram-rx-');
    dirs.push(dir);
    const socket = join(dir, 'r.sock');
    // Append-only, like any Redis BullMQ runs on: a restart keeps the queues.
    const startRedis = () => {
      const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
      children.push(child);
      return child;
    };
    let redis = startRedis();
    const env = childEnv({ ENGRAM_DATA_DIR: dir, REDIS_URL: `unix://${socket}` });
    await until('redis to answer', async () => (await runCli(['status', '--json'], { env, timeoutMs: 20_000 })).code === 0, 20_000);
    const clip = await generateScenes(dir, 'restart', { segments: 6, segment: 5 });
    const workers = ['ingest', 'perceive', 'segment', 'consolidate'].map((role) => engram(role, ['worker', role], env));
    // Every worker connected before the ingest starts, so the command hands the stream to them.
    const watcher = await EngramContext.open(loadConfig({ env: { REDIS_URL: `unix://${socket}` }, overrides: { dataDir: dir, log: { level: 'silent' } } }), silentLogger());
    try {
      await waitForWorkers(watcher.queues, { [QueueName.Ingest]: 1, [QueueName.Perceive]: 1, [QueueName.Segment]: 1, [QueueName.Consolidate]: 1 });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${workers.map((w) => `${w.name} (exit ${w.child.exitCode}): ${w.stderr}`).join('\n')}`);
    } finally {
      await watcher.close();
    }
    const ingest = engram('ingest', ['ingest', clip, '--name', 'restart', '--json'], env);
    await until('the ingest to be under way', async () => {
      const r = await runCli(['streams', 'list', '--json'], { env, timeoutMs: 20_000 });
      return r.code === 0 && (JSON.parse(r.stdout) as { chunks: number }[]).some((s) => s.chunks >= 3);
    });
    // A clean restart: SHUTDOWN writes the append-only file, then the server is away for 5 s.
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
    await sleep(5_000);
    redis = startRedis();

    const { code } = await Promise.race([ingest.exited, sleep(120_000).then(() => ({ code: -1 }))]);
    expect(code, ingest.stderr).toBe(0);
    const report = JSON.parse(ingest.stdout) as IngestReport;
    expect(report).toMatchObject({ state: 'done', gaps: 0 });
    expect(report.events).toBeGreaterThanOrEqual(3);
    // A worker with nothing left to do reconnects on its own retry schedule, which may end after
    // the ingest did: give every worker time to say so before reading their logs.
    await until('every worker to log its reconnection', () => workers.every((w) => /reconnected to Redis after/.test(w.stderr)), 30_000).catch(() => undefined);
    if (process.env.FAULT_VERBOSE) for (const worker of workers) process.stderr.write(`--- ${worker.name}\n${worker.stderr}\n`);
    for (const worker of workers) {
      expect(worker.child.exitCode, `${worker.name}:\n${worker.stderr}`).toBeNull();
      expect(worker.stderr, worker.name).toMatch(/lost the connection to Redis/);
      expect(worker.stderr, worker.name).toMatch(/reconnected to Redis after \d+\.\d s/);
    }
  }, 240_000);
});
