// engram serve and engram worker: run roles in this process until SIGINT/SIGTERM, then let
// running jobs finish and close Redis and LanceDB.
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { EngramContext } from '../runtime/context.js';
import { parseRoles, startRoles } from '../runtime/roles.js';
import { exitWhenRedisLost, load, logger, untilStopped } from './common.js';

async function run(command: Command, rolesList: string | undefined): Promise<void> {
  const loaded = load(command);
  const roles = parseRoles(rolesList);
  const log = logger(loaded, { roles: roles.join(',') });
  const context = await EngramContext.open(loaded, log);
  exitWhenRedisLost(context);
  let died: Error | undefined;
  try {
    const running = await startRoles(context, roles);
    log.info({ redis: context.redis.url, roles }, 'engram running');
    // stdout carries only what a person or a script wants: where to point the browser.
    for (const url of running.urls) process.stdout.write(`engram: web UI and API at ${url}\n`);
    const reason = await untilStopped(context.signal);
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
    .description('run every built role (or --roles a,b) in this process')
    .option('--roles <list>', 'comma-separated roles: ingest, perceive, segment, consolidate, reason, api')
    .action(async (options: { roles?: string }, command: Command) => run(command, options.roles));

  program
    .command('worker')
    .description('run one role in this process')
    .argument('<role>', 'ingest, perceive, segment, consolidate, reason or api')
    .action(async (role: string, _options: unknown, command: Command) => run(command, role));
}
