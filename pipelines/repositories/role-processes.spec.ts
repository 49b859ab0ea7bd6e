// RoleProcesses with real child processes (node -e scripts standing in for `engram worker ROLE`):
// a child that keeps dying is restarted with doubling delays and counted; a ready child is
// reported, asked to stop with SIGTERM, and killed when it does not stop in time.
import { describe, expect, it } from 'vitest';
import { READY_MESSAGE, RoleProcesses, type RoleProcessEvent, type RoleProcessesOptions } from './role-processes.js';
import { isRunning } from '../../test/helpers/children.js';

function supervise(script: string, extra: Partial<RoleProcessesOptions> = {}) {
  const events: RoleProcessEvent[] = [];
  const processes = new RoleProcesses(
    { role: 'perceive', count: 1, entry: ['-e', script], globalArgs: [], env: process.env, cwd: process.cwd(), restartMinMs: 50, restartMaxMs: 200, stableMs: 60_000, stopTimeoutMs: 2_000, ...extra },
    (event) => events.push(event),
  ).start();
  return { processes, events };
}

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RoleProcesses', () => {
  it('restarts a child that keeps dying with doubling delays up to the cap, and stops restarting on stop()', async () => {
    const { processes, events } = supervise('process.exit(3)');
    const died = () => events.filter((e): e is Extract<RoleProcessEvent, { type: 'died' }> => e.type === 'died');
    await until(() => died().length >= 4);
    await processes.stop();
    expect(died().slice(0, 4).map((e) => [e.code, e.failures, e.restartInMs])).toEqual([
      [3, 1, 50],
      [3, 2, 100],
      [3, 3, 200],
      [3, 4, 200],
    ]);
    const count = events.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(events.length).toBe(count);
    expect(processes.list()[0]).toMatchObject({ ready: false, failures: died().length });
  }, 30_000);

  it('reports a ready child and stops it with SIGTERM', async () => {
    // The handler goes in before "ready", as engram's workers do: the parent may send SIGTERM as soon as it hears it.
    const script = `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 100)); process.send(${JSON.stringify(READY_MESSAGE)}); setInterval(() => {}, 1000);`;
    const { processes, events } = supervise(script);
    expect(await processes.whenReady(15_000)).toBe(true);
    const pid = processes.list()[0]!.pid!;
    expect(events.map((e) => e.type)).toEqual(['started', 'ready']);
    await processes.stop();
    expect(events.at(-1)).toMatchObject({ type: 'stopped', pid, code: 0, killed: false });
    expect(isRunning(pid)).toBe(false);
  }, 30_000);

  it('kills a child that does not stop within stopTimeoutMs', async () => {
    const script = `process.on('SIGTERM', () => {}); process.send(${JSON.stringify(READY_MESSAGE)}); setInterval(() => {}, 1000);`;
    const { processes, events } = supervise(script, { stopTimeoutMs: 300 });
    expect(await processes.whenReady(15_000)).toBe(true);
    await processes.stop();
    expect(events.at(-1)).toMatchObject({ type: 'stopped', signal: 'SIGKILL', killed: true });
  }, 30_000);
});
