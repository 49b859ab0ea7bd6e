// The engram command. Expected failures (EngramError) print one line and exit non-zero; anything
// else is a bug and prints its stack.
import { Command, CommanderError } from 'commander';
import { isEngramError } from '../../config/errors.js';
import { registerApi } from './api.js';
import { registerConfig } from './config.js';
import { registerDemo } from './demo.js';
import { registerQuery } from './query.js';
import { registerIngest } from './ingest.js';
import { registerStreams } from './streams.js';
import { registerModels } from './models.js';
import { registerEvents } from './events.js';
import { registerPeople } from './people.js';
import { registerExport } from './export.js';
import { registerServe } from './serve.js';
import { registerStatus } from './status.js';

export function buildProgram(): Command {
  const program = new Command('engram')
    .description('streaming perception memory: remembers what cameras and microphones saw and heard, and answers questions about it')
    .option('-c, --config <file>', 'YAML file overriding config/default.yaml')
    .showHelpAfterError()
    .exitOverride();
  registerStatus(program);
  registerServe(program);
  registerConfig(program);
  registerDemo(program);
  registerQuery(program);
  registerIngest(program);
  registerStreams(program);
  registerModels(program);
  registerEvents(program);
  registerPeople(program);
  registerExport(program);
  registerApi(program);
  return program;
}

/** Errors ioredis and BullMQ raise when the connection drops or the server refuses a command. */
function isRedisFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError' || error.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|Missing key for job|LOADING Redis/i.test(error.message);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isEngramError(error)) {
      process.stderr.write(`engram: ${error.message}\n`);
      return error.exitCode;
    }
    if (isRedisFailure(error)) {
      // Redis went away (or came back empty) under a command: a fact about the deployment, not a bug.
      process.stderr.write(`engram: Redis failed under this command (${(error as Error).message}); check that Redis is running and try again\n`);
      return 1;
    }
    process.stderr.write(`engram: unexpected error\n${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
