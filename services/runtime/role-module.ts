// What each services/<role>/main.ts exports for the role runner: its own file, so the role files
// and roles.ts (which loads them) do not import each other.
import type { Closeable, EngramContext } from './context.js';
import type { HandlerMap } from './registry.js';

/** What a role's start() leaves running; `url` when it serves people (printed by `engram serve`). */
export interface StartedRole extends Closeable {
  url?: string;
}

export interface RoleModule {
  /** Handlers for the jobs on the role's input queue. */
  handlers?(context: EngramContext): Promise<HandlerMap>;
  /** Anything else the role runs beside its queue worker (an HTTP server, schedulers). */
  start?(context: EngramContext): Promise<StartedRole>;
  /** Worker settings the role needs beyond config.queues (long jobs want their own lock timing). */
  workerOptions?(context: EngramContext): { lockDuration?: number; stalledInterval?: number; maxStalledCount?: number };
}
