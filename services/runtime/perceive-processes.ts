// `engram serve` perceives in child processes, one per core by default (perceive.processes): each
// onnxruntime-node call runs synchronously on its process's JavaScript thread, so one process can
// only use one core for models. This resolves how many, starts them and logs what happens to them.
import { availableParallelism } from 'node:os';
import type { Config } from '../../config/schema.js';
import { Role } from '../../pipelines/jobs.js';
import { RoleProcesses, type RoleProcessEvent } from '../../pipelines/repositories/role-processes.js';
import type { Logger } from '../logger.js';
import type { EngramContext } from './context.js';

/** Deaths in a row (none of them after a stable run) from which a worker counts as failing. */
export const FAILING_AFTER = 3;

/** How many perceive processes serve starts: `auto` is one per core divided by the threads each model call uses. */
export function perceiveProcessCount(config: Config, cores = availableParallelism()): number {
  const setting = config.perceive.processes;
  if (setting !== 'auto') return setting;
  // intraOpThreads 0: onnxruntime spreads each call over every core already.
  const threads = config.models.intraOpThreads === 0 ? cores : config.models.intraOpThreads;
  return Math.max(1, Math.floor(cores / threads));
}

export interface ChildCommand {
  /** Node arguments that run the engram command (execArgv and the entry script). */
  entry: string[];
  /** Global arguments (`-c FILE`, absolute). */
  globalArgs: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function logEvent(log: Logger, event: RoleProcessEvent): void {
  switch (event.type) {
    case 'started':
      log.info({ slot: event.slot, workerPid: event.pid }, 'perceive worker process started');
      return;
    case 'ready':
      log.info({ slot: event.slot, workerPid: event.pid, ms: event.ms }, 'perceive worker process ready');
      return;
    case 'died': {
      const how = event.signal ? `killed by ${event.signal}` : `exit code ${event.code}`;
      const fields = { slot: event.slot, workerPid: event.pid, code: event.code, signal: event.signal, ranMs: event.ranMs, failures: event.failures, restartInMs: event.restartInMs };
      if (event.failures >= FAILING_AFTER) {
        log.error(fields, `perceive worker process keeps dying (${event.failures} times in a row, last ${how} after ${(event.ranMs / 1000).toFixed(1)} s; its own log lines above say why); restarting in ${(event.restartInMs / 1000).toFixed(0)} s`);
      } else {
        log.warn(fields, `perceive worker process ${event.pid} died (${how}); restarting in ${(event.restartInMs / 1000).toFixed(1)} s`);
      }
      return;
    }
    case 'spawn-failed':
      log.error({ slot: event.slot, err: event.error, failures: event.failures, restartInMs: event.restartInMs }, `cannot start a perceive worker process (${event.error.message}); retrying in ${(event.restartInMs / 1000).toFixed(1)} s`);
      return;
    case 'stopped':
      if (event.killed) log.warn({ slot: event.slot, workerPid: event.pid }, 'perceive worker process did not stop in time; killed (its running jobs return to the queue)');
      else log.info({ slot: event.slot, workerPid: event.pid, code: event.code, signal: event.signal }, 'perceive worker process stopped');
  }
}

/**
 * Starts `count` supervised `engram worker perceive` processes; they are stopped (running jobs
 * finished) when the context closes, before Redis.
 */
export function startPerceiveProcesses(context: EngramContext, count: number, command: ChildCommand): RoleProcesses {
  const log = context.log.child({ supervisor: Role.Perceive });
  // A managed redis-server is stopped by the last engram process out that holds engram-named
  // connections, and BullMQ renames its own: a child could take itself for the last and stop it
  // under serve. Told its address, a child uses it as an external server and leaves it to serve.
  const env = context.redis.managed ? { ...command.env, REDIS_URL: context.redis.url } : command.env;
  const processes = new RoleProcesses(
    {
      role: Role.Perceive,
      count,
      ...command,
      env,
      restartMinMs: 1_000,
      restartMaxMs: 60_000,
      stableMs: 60_000,
      // A perceive job is one chunk: seconds at most, even behind a queue of its own process's chunks.
      stopTimeoutMs: context.config.queues.perceive.lockDurationMs,
    },
    (event) => logEvent(log, event),
  ).start();
  context.onClose('perceive processes', processes);
  return processes;
}
