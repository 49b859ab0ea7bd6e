// Faults over a long file: separate role processes on one data directory (the managed Redis),
// a fault-free run, then the same file while N role processes are killed -9 (ingest, perceive,
// segment and consolidate in turn) at random moments of its progress, each replaced at once.
// Prints JSON: lost seconds and duplicated events against the fault-free run (goal 0 each), and
// per kill how long the work the killed process held took to get done (recovery).
// Run: npx tsx test/bench/faults.ts [--minutes 5] [--kills 8] [--seed N] [--default-locks]
// By default the queues use the fault tests' short locks (4 s lock, 2 s stalled check); with
// --default-locks, config's defaults (30 s, 15 s), where a recovery takes up to their sum.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { QueueName, Role } from '../../pipelines/jobs.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { runCli } from '../helpers/cli.js';
import { compareEvents, FAST_RECOVERY, Fleet, generateScenes, storedEvents, waitForWorkers } from '../helpers/fleet.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('minutes', 5);
const kills = arg('kills', 8);
const seed = arg('seed', Date.now() % 100_000);
const defaultLocks = process.argv.includes('--default-locks');

const dataDir = mkdtempSync(join(tmpdir(), 'engram-bf-'));
const progress = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const context = await EngramContext.open(loadConfig({ env: {}, overrides: { dataDir, log: { level: 'silent' } } }), silentLogger());
  const env: NodeJS.ProcessEnv = { ...process.env, ENGRAM_DATA_DIR: dataDir, ENGRAM_LOG__LEVEL: 'error', ENGRAM_PERCEIVE__OCR: 'false', ENGRAM_INGEST__MAX_CHUNKS_IN_FLIGHT: '8' };
  delete env.REDIS_URL;
  if (!defaultLocks) Object.assign(env, FAST_RECOVERY);
  const fleet = new Fleet(env);
  try {
    const clip = await generateScenes(dataDir, 'long', { segments: minutes * 6, segment: 10 });
    for (const role of ['ingest', 'perceive', 'perceive', 'segment', 'consolidate']) await fleet.start(role);
    await waitForWorkers(context.queues, { [QueueName.Ingest]: 1, [QueueName.Perceive]: 2, [QueueName.Segment]: 1, [QueueName.Consolidate]: 1 }, 120_000);

    progress(`fault-free run of ${minutes} min`);
    const calm = await runCli(['ingest', clip, '--name', 'calm', '--json'], { env, timeoutMs: 30 * 60_000 });
    if (calm.code !== 0) throw new Error(`fault-free ingest exited ${calm.code}: ${calm.stderr}`);
    const calmReport = JSON.parse(calm.stdout) as IngestReport;
    const baseline = await storedEvents(env, 'calm');

    let r = seed;
    const rand = () => (r = (r * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const roles = ['ingest', 'perceive', 'segment', 'consolidate'];
    const duration = calmReport.durationS;
    // Moments spread over the file (one per slice, random within it), roles in turn.
    const plan = Array.from({ length: kills }, (_, i) => ({ role: roles[i % roles.length]!, atS: duration * ((i + 0.1 + 0.7 * rand()) / (kills + 1)) }));
    const streams = new StreamRepository(context.redis.connection('bench'), context.config.redis.prefix);
    const stageOf: Record<string, string> = { perceive: Role.Perceive, segment: Role.Segment, consolidate: Role.Consolidate };
    const recoveries: { role: string; atS: number; recoveryMs: number | null; heldUnits: number }[] = [];

    progress(`faulty run: ${kills} kills, seed ${seed}`);
    const rough = runCli(['ingest', clip, '--name', 'rough', '--json'], { env, timeoutMs: 30 * 60_000 });
    const chaos = (async () => {
      for (const step of plan) {
        for (;;) {
          const info = await streams.get('rough');
          if (info && (info.mediaTime >= step.atS || info.state === 'done')) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        const info = (await streams.get('rough'))!;
        // What the pipeline owed when the process died; recovered once all of it is done.
        const stage = stageOf[step.role];
        const held = stage ? await streams.pendingUnits('rough', stage) : [];
        const killedAt = Date.now();
        await fleet.killAndReplace(step.role);
        const recovered = (async () => {
          for (;;) {
            const now = (await streams.get('rough'))!;
            if (stage) {
              const still = new Set(await streams.pendingUnits('rough', stage));
              if (held.every((u) => !still.has(u))) return Date.now() - killedAt;
            } else if (now.state === 'done' || now.mediaTime > info.mediaTime + 1) {
              return Date.now() - killedAt;
            }
            if (Date.now() - killedAt > 10 * 60_000) return null;
            await new Promise((res) => setTimeout(res, 100));
          }
        })();
        void recovered.then((ms) => recoveries.push({ role: step.role, atS: Number(info.mediaTime.toFixed(1)), recoveryMs: ms, heldUnits: held.length }));
        progress(`killed ${step.role} at ${info.mediaTime.toFixed(1)} s`);
      }
    })();
    const result = await rough;
    await chaos;
    if (result.code !== 0) throw new Error(`faulty ingest exited ${result.code}: ${result.stderr}`);
    const report = JSON.parse(result.stdout) as IngestReport;
    // Consolidation is part of what ingest waits for; give stray recoveries a moment to report.
    for (let i = 0; i < 50 && recoveries.length < plan.length; i += 1) await new Promise((res) => setTimeout(res, 100));
    const diff = compareEvents(baseline, await storedEvents(env, 'rough'));
    const ms = recoveries.flatMap((x) => (x.recoveryMs === null ? [] : [x.recoveryMs]));
    process.stdout.write(
      `${JSON.stringify(
        {
          machine: 'shared (other engineers ran builds and tests at the same time)',
          file: { minutes, durationS: duration, chunks: calmReport.chunks },
          locks: defaultLocks ? 'config defaults (lock 30 s, stalled check 15 s)' : 'fault-test settings (lock 4 s, stalled check 2 s)',
          seed,
          faultFree: { elapsedMs: calmReport.elapsedMs, events: baseline.length, gaps: calmReport.gaps },
          faulty: { elapsedMs: report.elapsedMs, events: diff.faulty, gaps: report.gaps, gapSpans: report.gapSpans },
          elapsedRatio: Number((report.elapsedMs / calmReport.elapsedMs).toFixed(2)),
          lostSeconds: diff.lostSeconds,
          duplicatedEvents: diff.duplicated,
          holes: diff.holes,
          maxBoundaryShiftS: diff.maxBoundaryShiftS,
          kills: recoveries.sort((a, b) => a.atS - b.atS),
          recoveryMs: { median: ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? null, max: ms.length ? Math.max(...ms) : null },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await fleet.stopAll();
    await context.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
