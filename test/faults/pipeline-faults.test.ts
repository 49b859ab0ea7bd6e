// Faults in a deployment of separate role processes on one data directory and one Redis: every
// role is killed (-9) at a random moment of a one-minute file, and a perceive worker is frozen
// for 8 s. What a user sees must not change: `engram ingest` returns, reports no gap, and long-term
// memory holds the same events as a fault-free run (same count, boundaries within 1 s, no holes,
// nothing twice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '../../pipelines/jobs.js';
import { StreamRepository } from '../../pipelines/repositories/streams.js';
import { silentLogger } from '../../services/logger.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import { EngramContext } from '../../services/runtime/context.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { compareEvents, FAST_RECOVERY, Fleet, generateScenes, storedEvents, waitForWorkers } from '../helpers/fleet.js';

const env = useTestEnv();
let context: EngramContext;
let fleet: Fleet | undefined;
let clip = '';

beforeAll(async () => {
  context = await EngramContext.open(env.loaded(), silentLogger());
  clip = await generateScenes(env.dataDir, 'scenes', { segments: 12, segment: 5 });
}, 60_000);
afterAll(async () => {
  await fleet?.stopAll();
  await context?.close();
});

describe('faults in separate role processes', () => {
  it('loses and duplicates nothing when every role is killed once and a perceive worker freezes for 8 s', async () => {
    // Ingest stays a few chunks ahead of perception, so every role is busy at the moments chosen.
    const childEnv = env.childEnv({ ...FAST_RECOVERY, ENGRAM_INGEST__MAX_CHUNKS_IN_FLIGHT: '6' });
    fleet = new Fleet(childEnv);
    for (const role of ['ingest', 'perceive', 'perceive', 'segment', 'consolidate']) await fleet.start(role);
    await waitForWorkers(context.queues, { [QueueName.Ingest]: 1, [QueueName.Perceive]: 2, [QueueName.Segment]: 1, [QueueName.Consolidate]: 1 });

    const calm = await runCli(['ingest', clip, '--name', 'calm', '--json'], { env: childEnv, timeoutMs: 120_000 });
    expect(calm.code, calm.stderr).toBe(0);
    const calmReport = JSON.parse(calm.stdout) as IngestReport;
    if (process.env.FAULT_VERBOSE) process.stderr.write(`fault-free: ${JSON.stringify(calmReport)}\n`);
    expect(calmReport).toMatchObject({ state: 'done', gaps: 0 });
    const baseline = await storedEvents(childEnv, 'calm');
    expect(baseline.length).toBeGreaterThanOrEqual(6);

    // The same file again, with faults at random moments of its progress (seeded, and printed so
    // a failure can be replayed).
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);
    let r = seed;
    const rand = () => ((r = (r * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const at = (lo: number, hi: number) => lo + (hi - lo) * rand();
    const plan = [
      { action: 'kill ingest', atS: at(5, 40) },
      { action: 'kill perceive', atS: at(5, 50) },
      { action: 'freeze perceive', atS: at(10, 40) },
      { action: 'kill segment', atS: at(10, 50) },
      { action: 'kill consolidate', atS: at(15, 55) },
    ].sort((a, b) => a.atS - b.atS);
    const streams = new StreamRepository(context.redis.connection('fault-test'), context.config.redis.prefix);
    const rough = runCli(['ingest', clip, '--name', 'rough', '--json'], { env: childEnv, timeoutMs: 180_000 });
    const done: string[] = [];
    // Each fault waits for its own moment: a freeze does not hold the others back.
    const chaos = Promise.all(
      plan.map(async (step) => {
        // A moment of the file's progress: when ingest has stored this many seconds of it.
        for (;;) {
          const info = await streams.get('rough');
          if (info && (info.mediaTime >= step.atS || info.state === 'done')) break;
          await new Promise((res) => setTimeout(res, 50));
        }
        const [verb, role] = step.action.split(' ') as [string, string];
        done.push(`${step.action} at ${(await streams.get('rough'))?.mediaTime ?? 0} s`);
        if (verb === 'kill') await fleet!.killAndReplace(role);
        else await fleet!.freeze(role, 8_000);
      }),
    );
    const result = await rough;
    await chaos;
    const context_ = `seed ${seed}: ${done.join(', ')}; fault-free run ${calmReport.elapsedMs} ms`;
    expect(result.code, `${context_}\n${result.stderr}`).toBe(0);
    const report = JSON.parse(result.stdout) as IngestReport;
    if (process.env.FAULT_VERBOSE) process.stderr.write(`${context_}\n${JSON.stringify(report)}\n`);
    expect(report, context_).toMatchObject({ state: 'done', gaps: 0 });
    // The measure is "within 1 s of each boundary"; the chunk count is held to the same.
    expect(Math.abs(report.chunks - calmReport.chunks), context_).toBeLessThanOrEqual(1);

    const faulty = await storedEvents(childEnv, 'rough');
    const diff = compareEvents(baseline, faulty);
    expect(diff, `${context_}\nbaseline ${JSON.stringify(baseline.map((e) => [e.start, e.end]))}\nfaulty ${JSON.stringify(faulty.map((e) => [e.start, e.end]))}`).toMatchObject({
      faulty: baseline.length,
      lostSeconds: 0,
      duplicated: 0,
      holes: [],
    });
    expect(diff.maxBoundaryShiftS, context_).toBeLessThanOrEqual(1);
    expect(faulty[0]!.start).toBe(0);
    expect(Math.abs(faulty[faulty.length - 1]!.end - baseline[baseline.length - 1]!.end), context_).toBeLessThanOrEqual(1);
    // Each killed role was replaced and its replacement is still running.
    for (const role of ['ingest', 'perceive', 'segment', 'consolidate']) expect(fleet.running(role).length).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
