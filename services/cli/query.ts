// engram query "QUESTION": asks memory a question. When a reason worker is running (engram serve or
// engram worker reason) the question goes through its queue; otherwise this process answers it
// itself, with the same code, and exits.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { JobName, QueueName, type JobOf } from '../../pipelines/jobs.js';
import type { QueryAnswer } from '../../pipelines/reason/answer-types.js';
import { formatClock, formatDate, formatStreamTime, systemTimeZone } from '../../pipelines/reason/clock.js';
import { MAX_EXAMPLE_BYTES } from '../../pipelines/repositories/example-media.js';
import { openReason } from '../reason/open.js';
import { requestFromJob } from '../reason/main.js';
import { load, logger, printJson, withContext } from './common.js';
import { lanceAccess } from '../runtime/storage.js';

export interface QueryOptions {
  stream?: string;
  since?: string;
  until?: string;
  image?: string;
  audio?: string;
  face?: string;
  json?: boolean;
}

async function readExample(flag: string, path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new EngramError(`${flag} ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { exitCode: 2 });
  }
  if (bytes.length === 0) throw new EngramError(`${flag} ${path}: the file is empty`, { exitCode: 2 });
  if (bytes.length > MAX_EXAMPLE_BYTES) throw new EngramError(`${flag} ${path}: larger than ${MAX_EXAMPLE_BYTES / 1048576} MiB; use a picture or a short clip`, { exitCode: 2 });
  return bytes.toString('base64');
}

/** The answer for people: the sentence, then each piece of evidence with its times and quote. */
export function formatAnswer(answer: QueryAnswer, timeZone: string): string {
  const lines = [answer.answer];
  if (answer.evidence.length > 0) {
    lines.push('', 'Evidence:');
    answer.evidence.forEach((e, i) => {
      const at = Date.parse(e.startedAt);
      lines.push(`  ${i + 1}. ${e.stream}  ${formatStreamTime(e.start)}–${formatStreamTime(e.end)}  ${formatDate(at, timeZone)} ${formatClock(at, timeZone, true)}  score ${e.score.toFixed(4)}  [${e.eventId}]`);
      if (e.quote) lines.push(`     "${e.quote}"`);
      else if (e.summary) lines.push(`     ${e.summary}`);
      if (e.thumbnail) lines.push(`     thumbnail: ${e.thumbnail}`);
    });
  }
  lines.push('', `(${Math.round(answer.timings.totalMs)} ms)`);
  return lines.join('\n');
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('ask what was seen or heard; answers cite the events (stream, times, quote)')
    .argument('[question]', 'the question in plain words (may be omitted with --image or --audio)')
    .option('--stream <name>', 'only this stream')
    .option('--since <time>', 'only after: ISO date/time, HH:MM, 2pm, yesterday, or a duration back (10m, 2h, 3d)')
    .option('--until <time>', 'only before (same forms as --since)')
    .option('--image <file>', 'query by example: find scenes that look like this picture')
    .option('--audio <file>', 'query by example: find moments that sound like this clip')
    .option('--face <file>', 'a photo of a face: "when was this person here?" answers from the person it is recognised as')
    .option('--json', 'print the answer as JSON')
    .action(async (question: string | undefined, options: QueryOptions, command: Command) => {
      const loaded = load(command);
      const log = logger(loaded, { cmd: 'query' });
      const timeZone = loaded.config.reason.timeZone ?? systemTimeZone();
      const data: JobOf<JobName.AnswerQuery> = { question: (question ?? '').trim() };
      if (options.stream !== undefined) data.stream = options.stream;
      if (options.since !== undefined) data.since = options.since;
      if (options.until !== undefined) data.until = options.until;
      const image = await readExample('--image', options.image);
      const audio = await readExample('--audio', options.audio);
      if (image !== undefined) data.image = image;
      if (audio !== undefined) data.audio = audio;
      const face = await readExample('--face', options.face);
      if (face !== undefined) data.face = face;
      if (!data.question && image === undefined && audio === undefined && face === undefined) throw new EngramError('ask a question, or give --image, --audio or --face to search by example', { exitCode: 2 });
      // Parse the bounds here too, so a typo fails before anything starts.
      const now = Date.now();
      const request = requestFromJob(data, now, timeZone);
      // Relative bounds ("10m") are fixed now, not when a worker picks the job up.
      if (request.since !== undefined) data.since = new Date(request.since).toISOString();
      if (request.until !== undefined) data.until = new Date(request.until).toISOString();

      const abort = new AbortController();
      const onSignal = () => abort.abort(new EngramError('interrupted', { exitCode: 130 }));
      process.once('SIGINT', onSignal);
      let answer: QueryAnswer;
      try {
        answer = await withContext(loaded, log, async (context) => {
          if ((await context.queues.workerCount(QueueName.Reason)) > 0) {
            log.debug({}, 'a reason worker is running; asking it');
            try {
              return (await context.queues.addAndWait(JobName.AnswerQuery, data, loaded.config.reason.waitTimeoutMs)) as QueryAnswer;
            } catch (error) {
              throw new EngramError(`the reason worker could not answer: ${(error as Error).message}`);
            }
          }
          const runtime = await openReason(loaded, log, context.redis, lanceAccess(loaded, context.redis));
          try {
            return await runtime.ask(request, abort.signal);
          } finally {
            await runtime.close();
          }
        });
      } finally {
        process.off('SIGINT', onSignal);
      }
      if (options.json) printJson(answer);
      else process.stdout.write(`${formatAnswer(answer, timeZone)}\n`);
    });
}
