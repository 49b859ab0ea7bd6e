// Which roles exist, how each is loaded, and how a process runs a set of them. A role that is
// not built yet is refused by name instead of pretending to run.
import { EngramError } from '../../config/errors.js';
import { ROLE_QUEUE, ROLES, Role, type QueueName } from '../../pipelines/jobs.js';
import { observeJob } from '../../pipelines/metrics.js';
import type { Closeable, EngramContext } from './context.js';
import { JobRegistry } from './registry.js';
import type { RoleModule, StartedRole } from './role-module.js';

/** Loaders of the roles that are built; each issue that builds a role adds its line here. */
const ROLE_LOADERS: Partial<Record<Role, () => Promise<RoleModule>>> = {
  [Role.Ingest]: () => import('../ingest/main.js'),
  [Role.Perceive]: () => import('../perceive/main.js'),
  [Role.Segment]: () => import('../segment/main.js'),
  [Role.Consolidate]: () => import('../consolidate/main.js'),
  [Role.Api]: () => import('../api/main.js'),
  [Role.Reason]: () => import('../reason/main.js'),
};

export function builtRoles(): Role[] {
  return ROLES.filter((role) => ROLE_LOADERS[role] !== undefined);
}

/** Parses a list like "ingest,perceive" and refuses unknown or unbuilt roles, all at once. */
export function parseRoles(list: string | undefined): Role[] {
  if (list === undefined || list.trim() === '' || list.trim() === 'all') {
    const built = builtRoles();
    if (built.length === 0) throw new EngramError('no engram role is built yet in this version; nothing to serve');
    return built;
  }
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const problems: string[] = [];
  for (const name of names) {
    if (!ROLES.includes(name as Role)) problems.push(`unknown role "${name}" (roles: ${ROLES.join(', ')})`);
    else if (!ROLE_LOADERS[name as Role]) problems.push(`role "${name}" is not built yet in this version of engram`);
  }
  if (problems.length > 0) throw new EngramError(problems.join('; '), { exitCode: 2 });
  return [...new Set(names as Role[])];
}

/** Starts the roles in this process: checks handlers, starts queue workers, then role extras. */
export interface RunningRoles extends Closeable {
  /** Addresses people can open (the api role's web UI). */
  urls: string[];
}

export async function startRoles(context: EngramContext, roles: readonly Role[]): Promise<RunningRoles> {
  const registry = new JobRegistry();
  const extras: ((ctx: EngramContext) => Promise<StartedRole>)[] = [];
  const queues: QueueName[] = [];
  const workerOptions = new Map<QueueName, ReturnType<NonNullable<RoleModule['workerOptions']>>>();
  for (const role of roles) {
    const load = ROLE_LOADERS[role];
    if (!load) throw new EngramError(`role "${role}" is not built yet in this version of engram`, { exitCode: 2 });
    const module = await load();
    const queue = ROLE_QUEUE[role];
    if (queue) queues.push(queue);
    if (queue && module.workerOptions) workerOptions.set(queue, module.workerOptions(context));
    if (module.handlers) registry.registerAll(await module.handlers(context));
    if (module.start) extras.push(module.start.bind(module));
  }
  registry.assertComplete(queues);
  for (const queue of queues) {
    const worker = context.queues.startWorker(queue, registry.processor(context.log.child({ queue }), context.signal), workerOptions.get(queue) ?? {});
    worker.on('completed', (job) => observeJob(queue, 'completed', job.processedOn, job.finishedOn));
    worker.on('failed', (job) => observeJob(queue, 'failed', job?.processedOn, job?.finishedOn));
  }
  const started: StartedRole[] = [];
  for (const start of extras) started.push(await start(context));
  const stopper: RunningRoles = {
    urls: started.flatMap((s) => (s.url ? [s.url] : [])),
    async close() {
      for (const resource of started.reverse()) await resource.close();
    },
  };
  context.onClose('roles', stopper);
  return stopper;
}

/** Test seam: registers a role loader (used by tests of the runner with real queues). */
export function defineRoleForTest(role: Role, loader: () => Promise<RoleModule>): () => void {
  const previous = ROLE_LOADERS[role];
  ROLE_LOADERS[role] = loader;
  return () => {
    if (previous) ROLE_LOADERS[role] = previous;
    else delete ROLE_LOADERS[role];
  };
}
