// Role processes as a deployment runs them: `engram worker ROLE` children sharing one Redis and
// one data directory, which a fault test kills (-9), freezes (SIGSTOP) and restarts, plus the
// media such a test feeds them. Used by test/faults/*.test.ts and test/bench/faults.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import type { QueueName } from '../../pipelines/jobs.js';
import type { QueueRepository } from '../../pipelines/repositories/queue.js';
import { ENGRAM_BIN, runCli } from './cli.js';
import { ffmpegRun } from './media.js';

export interface RoleProcess {
  role: string;
  /** The environment it runs with: a "host" of its own (data directory, storage) or the fleet's. */
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  /** stderr so far (the log, warn level and up). */
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Settings that make a killed or frozen worker's jobs come back in seconds instead of the
 * defaults' tens of seconds, with the same relations as the defaults: a job's lock lapses
 * (lockDurationMs) and the next stalled check (stalledIntervalMs) runs it again elsewhere.
 */
export const FAST_RECOVERY: Record<string, string> = {
  ENGRAM_INGEST__LOCK_DURATION_MS: '4000',
  ENGRAM_INGEST__STALLED_INTERVAL_MS: '2000',
  ENGRAM_SEGMENT__LOCK_TTL_MS: '4000',
  ENGRAM_PERCEIVE__OCR: 'false',
  ...Object.fromEntries(
    ['PERCEIVE', 'SEGMENT', 'CONSOLIDATE'].flatMap((q) => [
      [`ENGRAM_QUEUES__${q}__LOCK_DURATION_MS`, '4000'],
      [`ENGRAM_QUEUES__${q}__STALLED_INTERVAL_MS`, '2000'],
      [`ENGRAM_QUEUES__${q}__MAX_STALLED_COUNT`, '20'],
    ]),
  ),
};

export class Fleet {
  readonly env: NodeJS.ProcessEnv;
  readonly processes: RoleProcess[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    this.env = env;
  }

  /**
   * Starts `engram worker ROLE` (ROLE may list several: "perceive,segment"), with the fleet's
   * environment or a host's own; see waitForWorkers for when it is connected.
   */
  async start(role: string, env: NodeJS.ProcessEnv = this.env): Promise<RoleProcess> {
    const child = spawn(process.execPath, [ENGRAM_BIN, 'worker', role], { cwd: packageRoot(), env, stdio: ['ignore', 'ignore', 'pipe'] });
    const proc: RoleProcess = {
      role,
      env,
      child,
      log: '',
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }))),
    };
    child.stderr!.on('data', (d: Buffer) => (proc.log += d.toString()));
    this.processes.push(proc);
    return proc;
  }

  /** The running processes of a role. */
  running(role: string): RoleProcess[] {
    return this.processes.filter((p) => p.role === role && p.child.exitCode === null && p.child.signalCode === null);
  }

  /** kill -9 one running process of the role, then starts a replacement; returns when the old one is gone. */
  async killAndReplace(role: string): Promise<void> {
    const victim = this.running(role)[0];
    if (!victim) throw new Error(`no running ${role} worker to kill`);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await this.start(role, victim.env);
  }

  /** SIGSTOP one running process of the role for ms, then SIGCONT. */
  async freeze(role: string, ms: number): Promise<void> {
    const victim = this.running(role)[0];
    if (!victim) throw new Error(`no running ${role} worker to freeze`);
    victim.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, ms));
    victim.child.kill('SIGCONT');
  }

  /** Stops everything still running (SIGKILL: the test is over) and waits for it. */
  async stopAll(): Promise<void> {
    for (const p of this.processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
      }
    }
    await Promise.all(this.processes.map((p) => p.exited));
  }
}

/** Waits until at least `counts[queue]` workers are connected to each queue, in any process. */
export async function waitForWorkers(queues: QueueRepository, counts: Partial<Record<QueueName, number>>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = await Promise.all(Object.entries(counts).map(async ([q, n]) => (await queues.workerCount(q as QueueName)) >= (n ?? 0)));
    if (have.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`workers did not connect within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A clip of `segments` scenes of `segment` seconds (solid colours of different brightness, each
 * with its own tone), so a fault-free run closes the same events every time.
 */
export async function generateScenes(dir: string, name: string, options: { segments: number; segment: number }): Promise<string> {
  const colours = ['red', 'white', 'blue', 'yellow', 'black', 'gray', 'green', 'orange', 'purple', 'cyan'];
  const args: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < options.segments; i += 1) {
    args.push('-f', 'lavfi', '-i', `color=c=${colours[i % colours.length]}:size=160x120:rate=10:duration=${options.segment}`);
    args.push('-f', 'lavfi', '-i', `sine=frequency=${220 + 110 * (i % 7)}:sample_rate=16000:duration=${options.segment}`);
    labels.push(`[${2 * i}:v][${2 * i + 1}:a]`);
  }
  const out = join(dir, `${name}.mp4`);
  await ffmpegRun([
    ...args,
    '-filter_complex', `${labels.join('')}concat=n=${options.segments}:v=1:a=1[v][a]`,
    '-map', '[v]', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    out,
  ]);
  return out;
}

export interface StoredEvent {
  id: string;
  start: number;
  end: number;
}

/** The stream's events in long-term memory, in time order. */
export async function storedEvents(env: NodeJS.ProcessEnv, stream: string): Promise<StoredEvent[]> {
  const r = await runCli(['events', '--stream', stream, '--limit', '10000', '--json'], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`engram events exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as StoredEvent[]).sort((a, b) => a.start - b.start);
}

/** How a faulty run's events differ from a fault-free run's. */
export interface EventComparison {
  baseline: number;
  faulty: number;
  /** Stream seconds covered by the baseline but by no faulty event. */
  lostSeconds: number;
  /** Faulty events overlapping another faulty event (the same time stored twice). */
  duplicated: number;
  /** Largest distance of a faulty boundary from the matching baseline boundary, seconds. */
  maxBoundaryShiftS: number;
  /** Holes between consecutive faulty events. */
  holes: { from: number; to: number }[];
}

export function compareEvents(baseline: StoredEvent[], faulty: StoredEvent[]): EventComparison {
  const holes: { from: number; to: number }[] = [];
  let duplicated = 0;
  for (let i = 1; i < faulty.length; i += 1) {
    const prev = faulty[i - 1]!;
    const cur = faulty[i]!;
    if (cur.start > prev.end + 1e-3) holes.push({ from: prev.end, to: cur.start });
    if (cur.start < prev.end - 1e-3) duplicated += 1;
  }
  let lostSeconds = 0;
  for (const b of baseline) {
    let covered = 0;
    for (const f of faulty) covered += Math.max(0, Math.min(b.end, f.end) - Math.max(b.start, f.start));
    lostSeconds += Math.max(0, b.end - b.start - covered);
  }
  let maxBoundaryShiftS = 0;
  const boundaries = (events: StoredEvent[]) => [...new Set(events.flatMap((e) => [e.start, e.end]))].sort((a, b) => a - b);
  const fb = boundaries(faulty);
  for (const t of boundaries(baseline)) {
    const nearest = fb.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best), Infinity);
    maxBoundaryShiftS = Math.max(maxBoundaryShiftS, Math.abs(nearest - t));
  }
  return { baseline: baseline.length, faulty: faulty.length, lostSeconds: Number(lostSeconds.toFixed(3)), duplicated, maxBoundaryShiftS: Number(maxBoundaryShiftS.toFixed(3)), holes };
}
