// What every subcommand shares: loading config from the global flags, a logger, and opening
// and always closing the process's repositories.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { createLogger, type Logger } from '../logger.js';
import { EngramContext } from '../runtime/context.js';

export interface GlobalOptions {
  config?: string;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function load(command: Command): LoadedConfig {
  const { config } = globals(command);
  return loadConfig(config ? { configFile: config } : {});
}

export function logger(loaded: LoadedConfig, bindings: Record<string, unknown> = {}): Logger {
  return createLogger(loaded.config, loaded.env.isTty, bindings);
}

/**
 * When the managed Redis dies, the process stops: the normal path winds down and reports it, and
 * this deadline makes sure it exits (code 1, one line) even where something still waits on Redis.
 */
export function exitWhenRedisLost(context: EngramContext): void {
  context.signal.addEventListener(
    'abort',
    () => {
      if (!context.redisLost) return;
      const timer = setTimeout(() => {
        const reason = context.signal.reason as Error;
        process.stderr.write(`engram: ${reason.message}\n`);
        process.exit(1);
      }, context.config.redis.stopDeadlineMs);
      // Only a backstop: a process that finishes winding down earlier exits by itself.
      timer.unref();
    },
    { once: true },
  );
}

/** Opens the context, runs fn, and closes the context whatever happens. */
export async function withContext<T>(loaded: LoadedConfig, log: Logger, fn: (context: EngramContext) => Promise<T>): Promise<T> {
  const context = await EngramContext.open(loaded, log);
  exitWhenRedisLost(context);
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Resolves when SIGINT or SIGTERM arrives (or the signal aborts, or `parentGone` resolves: the
 * serve process that started this worker is gone); a second signal exits at once.
 */
export function untilStopped(signal?: AbortSignal, parentGone?: Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (name: string) => {
      if (stopping) {
        // Closing the context aborts its signal too, and a parent may go while this one stops;
        // only a second SIGINT/SIGTERM means "now".
        if (name === 'SIGINT' || name === 'SIGTERM') process.exit(130);
        return;
      }
      stopping = true;
      resolve(name);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    signal?.addEventListener('abort', () => onSignal('abort'), { once: true });
    void parentGone?.then(() => onSignal('parent gone'));
  });
}
