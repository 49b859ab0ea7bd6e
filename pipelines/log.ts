// The log that stages and model runtimes accept: a structured message with fields. pino's Logger
// fits it, so services hand theirs in, and no stage or model imports services/logger.ts.

export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A log that writes nothing, for callers that do not want to hear from a stage. */
export const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
