// The side of a worker process that `engram serve` started (pipelines/repositories/role-processes.ts):
// it has an IPC channel to the parent, says when its roles run, and stops when the channel closes,
// which happens however the parent ends (kill -9 included), so no worker outlives its supervisor.
import { READY_MESSAGE } from '../../pipelines/repositories/role-processes.js';

export interface ParentLink {
  /** Tells the parent this process's roles run (its models are loaded). */
  ready(): void;
  /** Resolves when the parent is gone. */
  gone: Promise<void>;
}

/** The link to a supervising parent, or undefined for a process started any other way. */
export function parentLink(): ParentLink | undefined {
  const channel = process.channel;
  if (!process.send || !channel) return undefined;
  // The channel alone must not keep the process running; its workers do that.
  channel.unref();
  const gone = new Promise<void>((resolve) => process.once('disconnect', () => resolve()));
  return {
    ready() {
      if (process.connected) process.send?.(READY_MESSAGE);
    },
    gone,
  };
}
