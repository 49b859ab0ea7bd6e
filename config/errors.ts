// Errors a person can act on. The CLI prints these as one line without a stack trace and exits
// with their code; anything else is a bug and keeps its stack.

export class EngramError extends Error {
  override readonly name: string = 'EngramError';
  /** Process exit code the CLI uses for this failure. */
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * Input that can never succeed, however often it is retried: a corrupt file, an unsupported codec,
 * an event that cannot be stored. A job that throws it fails at once, without its remaining
 * attempts (the queue repository turns it into BullMQ's UnrecoverableError), with this message.
 */
export class PermanentError extends EngramError {
  override readonly name: string = 'PermanentError';
}

export class ConfigError extends EngramError {
  override readonly name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { exitCode: 2 });
    this.problems = problems;
  }
}

/**
 * A query-by-example file that cannot be used (empty, too large, not decodable, no model for it).
 * `example` says which one, so the HTTP API can name the field at fault.
 */
export class ExampleError extends EngramError {
  override readonly name = 'ExampleError';
  readonly example: 'image' | 'audio' | 'face';
  constructor(example: 'image' | 'audio' | 'face', message: string) {
    super(message, { exitCode: 2 });
    this.example = example;
  }
}

/** Redis went away for good (the managed redis-server died): the process stops. */
export class RedisLostError extends EngramError {
  override readonly name = 'RedisLostError';
}

export function isEngramError(error: unknown): error is EngramError {
  return error instanceof EngramError;
}
