// pino logging: JSON lines to stderr (stdout stays clean for --json output), pretty on a TTY.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

export type { Logger };

export function createLogger(config: Config, isTty: boolean, bindings: Record<string, unknown> = {}): Logger {
  const pretty = isTty && config.log.prettyOnTty;
  const transport = pretty
    ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level: config.log.level, base: { pid: process.pid, ...bindings } }, transport);
}

/** A logger that writes nothing, for tests and one-shot commands that want quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
