// Supervises the `engram worker ROLE` child processes a serving process starts so that a role's
// CPU-bound work uses every core (perceive: onnxruntime-node runs each model call synchronously
// on a process's JavaScript thread, so one process uses one core). Each child is restarted with
// backoff when it dies; stop() lets them finish their running jobs. Children run in their own
// process group, so a terminal's Ctrl-C reaches only the parent, which then stops each of them
// once (a second signal would make a worker exit at once, dropping its jobs' locks); and each
// holds an IPC channel to the parent and stops when it closes, so a parent killed with -9 leaves
// no worker behind (services/runtime/parent-link.ts is the child's side).
import { spawn, type ChildProcess } from 'node:child_process';
import { adoptChild } from './children.js';

export interface RoleProcessesOptions {
  /** The role each child runs (`engram worker ROLE`). */
  role: string;
  count: number;
  /** Node arguments that run the engram command: the parent's execArgv and its entry script. */
  entry: string[];
  /** engram's global arguments before the subcommand (`-c FILE`), as the parent got them. */
  globalArgs: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** First restart delay; doubled for each death in a row, up to restartMaxMs. */
  restartMinMs: number;
  restartMaxMs: number;
  /** A child that ran this long after it became ready starts the death count afresh. */
  stableMs: number;
  /** How long stop() waits for a child to finish its running jobs before it kills it. */
  stopTimeoutMs: number;
}

/** What happened to a child; the caller logs these. `failures`: deaths in a row without a stable run. */
export type RoleProcessEvent =
  | { type: 'started'; slot: number; pid: number }
  | { type: 'ready'; slot: number; pid: number; ms: number }
  | { type: 'died'; slot: number; pid: number; code: number | null; signal: NodeJS.Signals | null; ranMs: number; failures: number; restartInMs: number }
  | { type: 'spawn-failed'; slot: number; error: Error; failures: number; restartInMs: number }
  | { type: 'stopped'; slot: number; pid: number; code: number | null; signal: NodeJS.Signals | null; killed: boolean };

/** One supervised worker as status shows it. */
export interface RoleProcessInfo {
  slot: number;
  /** Absent while it waits to be restarted. */
  pid?: number;
  /** It said its role's workers run (after its models loaded). */
  ready: boolean;
  restarts: number;
  /** Deaths in a row; 0 once it ran stably. */
  failures: number;
}

/** The message a worker sends its parent once its roles run. */
export const READY_MESSAGE = 'engram-worker-ready';

interface Slot {
  index: number;
  child?: ChildProcess;
  startedAt: number;
  readyAt?: number;
  restarts: number;
  failures: number;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

export class RoleProcesses {
  readonly #options: RoleProcessesOptions;
  readonly #onEvent: (event: RoleProcessEvent) => void;
  readonly #slots: Slot[];
  #stopping: Promise<void> | undefined;

  constructor(options: RoleProcessesOptions, onEvent: (event: RoleProcessEvent) => void) {
    this.#options = options;
    this.#onEvent = onEvent;
    this.#slots = Array.from({ length: options.count }, (_, index) => ({ index, startedAt: 0, restarts: 0, failures: 0 }));
  }

  /** Spawns every child; returns at once (see whenReady). */
  start(): this {
    for (const slot of this.#slots) this.#spawn(slot);
    return this;
  }

  list(): RoleProcessInfo[] {
    return this.#slots.map((s) => ({
      slot: s.index,
      ...(s.child?.pid !== undefined && s.child.exitCode === null && s.child.signalCode === null ? { pid: s.child.pid } : {}),
      ready: s.readyAt !== undefined && s.child?.exitCode === null && s.child.signalCode === null,
      restarts: s.restarts,
      failures: s.failures,
    }));
  }

  /** Resolves once every child is ready, false when timeoutMs passes first. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.list().every((p) => p.ready)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  #spawn(slot: Slot): void {
    slot.timer = undefined;
    if (this.#stopping) return;
    const { entry, globalArgs, role, env, cwd } = this.#options;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...entry, ...globalArgs, 'worker', role], { cwd, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true });
    } catch (error) {
      this.#spawnFailed(slot, error as Error);
      return;
    }
    slot.child = child;
    slot.startedAt = Date.now();
    slot.readyAt = undefined;
    slot.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (done) return;
        done = true;
        resolve();
        this.#exited(slot, child, code, signal, error);
      };
      child.once('exit', (code, signal) => finish(code, signal));
      // Without a pid the process never started and no 'exit' follows.
      child.once('error', (error) => {
        if (child.pid === undefined) finish(null, null, error);
      });
    });
    if (child.pid === undefined) return;
    // The last line: if this process exits without stopping them (a fatal error), they go too.
    adoptChild(child);
    child.on('message', (message: unknown) => {
      if (message !== READY_MESSAGE || slot.child !== child || slot.readyAt !== undefined) return;
      slot.readyAt = Date.now();
      this.#onEvent({ type: 'ready', slot: slot.index, pid: child.pid as number, ms: slot.readyAt - slot.startedAt });
    });
    this.#onEvent({ type: 'started', slot: slot.index, pid: child.pid });
  }

  #exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    if (error) {
      this.#spawnFailed(slot, error);
      return;
    }
    if (this.#stopping) return;
    const now = Date.now();
    const stable = slot.readyAt !== undefined && now - slot.readyAt >= this.#options.stableMs;
    slot.failures = stable ? 1 : slot.failures + 1;
    const restartInMs = this.#delay(slot.failures);
    this.#onEvent({ type: 'died', slot: slot.index, pid: child.pid as number, code, signal, ranMs: now - slot.startedAt, failures: slot.failures, restartInMs });
    this.#restartLater(slot, restartInMs);
  }

  #spawnFailed(slot: Slot, error: Error): void {
    if (this.#stopping) return;
    slot.failures += 1;
    const restartInMs = this.#delay(slot.failures);
    this.#onEvent({ type: 'spawn-failed', slot: slot.index, error, failures: slot.failures, restartInMs });
    this.#restartLater(slot, restartInMs);
  }

  #delay(failures: number): number {
    return Math.min(this.#options.restartMaxMs, this.#options.restartMinMs * 2 ** Math.max(0, failures - 1));
  }

  #restartLater(slot: Slot, delayMs: number): void {
    slot.restarts += 1;
    slot.timer = setTimeout(() => this.#spawn(slot), delayMs);
  }

  /** Stops restarting, asks each child to finish its running jobs (SIGTERM), kills any still running after stopTimeoutMs. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.#slots.map((slot) => this.#stopOne(slot))).then(() => undefined);
    return this.#stopping;
  }

  async close(): Promise<void> {
    await this.stop();
  }

  async #stopOne(slot: Slot): Promise<void> {
    if (slot.timer) clearTimeout(slot.timer);
    const child = slot.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      slot.exited?.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#options.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (late) {
      // Its unfinished jobs go back to the queue when their locks lapse (the stalled check).
      child.kill('SIGKILL');
      await slot.exited;
    }
    this.#onEvent({ type: 'stopped', slot: slot.index, pid: child.pid, code: child.exitCode, signal: child.signalCode, killed: late === true });
  }
}
