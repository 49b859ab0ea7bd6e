// engram serve and engram worker: run roles in this process until SIGINT/SIGTERM, then let
// running jobs finish and close Redis and LanceDB. serve perceives in supervised child processes
// (perceive.processes, one per core by default); worker always runs its role here.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { Role } from '../../pipelines/jobs.js';
import { EngramContext } from '../runtime/context.js';
import { parentLink } from '../runtime/parent-link.js';
import { perceiveProcessCount, startPerceiveProcesses, type ChildCommand } from '../runtime/perceive-processes.js';
import { parseRoles, startRoles } from '../runtime/roles.js';
import { exitWhenRedisLost, globals, load, logger, untilStopped } from './common.js';

/** How this process was started, so its perceive children run the same engram with the same config file and environment. */
function sameCommand(command: Command): ChildCommand {
  const { config } = globals(command);
  return {
    // Not the debugger flags: a second process cannot listen on the parent's inspector port.
    entry: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), process.argv[1] as string],
    globalArgs: config ? ['--config', resolve(config)] : [],
    env: process.env,
    cwd: process.cwd(),
  };
}

async function run(command: Command, rolesList: string | undefined, mode: 'serve' | 'worker'): Promise<void> {
  const loaded = load(command);
  const roles = parseRoles(rolesList);
  const children = mode === 'serve' && roles.includes(Role.Perceive) ? perceiveProcessCount(loaded.config) : 0;
  const here = children > 0 ? roles.filter((role) => role !== Role.Perceive) : roles;
  const log = logger(loaded, { roles: roles.join(',') });
  const parent = parentLink();
  const context = await EngramContext.open(loaded, log);
  exitWhenRedisLost(context);
  let died: Error | undefined;
  try {
    // Started before the roles so they close after them (the context closes in reverse order).
    if (children > 0) startPerceiveProcesses(context, children, sameCommand(command));
    const running = await startRoles(context, here);
    // The signal handlers go in before the parent hears "ready": it may answer with SIGTERM at
    // once, and a SIGTERM with no handler yet would kill this process instead of stopping it.
    const stopped = untilStopped(context.signal, parent?.gone);
    parent?.ready();
    log.info({ redis: context.redis.url, roles: here, perceiveProcesses: children }, 'engram running');
    // stdout carries only what a person or a script wants: where to point the browser.
    for (const url of running.urls) process.stdout.write(`engram: web UI and API at ${url}\n`);
    const reason = await stopped;
    if (reason === 'abort') died = context.signal.reason instanceof Error ? context.signal.reason : new Error(String(context.signal.reason));
    log.info({ reason }, 'stopping: letting running jobs finish');
  } finally {
    await context.close();
  }
  if (died) throw died instanceof EngramError ? died : new EngramError(`stopped: ${died.message}`);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run every built role (or --roles a,b); perceive in perceive.processes supervised worker processes (default: one per core)')
    .option('--roles <list>', 'comma-separated roles: ingest, perceive, segment, consolidate, reason, api')
    .action(async (options: { roles?: string }, command: Command) => run(command, options.roles, 'serve'));

  program
    .command('worker')
    .description('run one role in this process')
    .argument('<role>', 'ingest, perceive, segment, consolidate, reason or api')
    .action(async (role: string, _options: unknown, command: Command) => run(command, role, 'worker'));
}
