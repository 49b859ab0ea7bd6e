// Maps each job name to exactly one handler, and refuses to start a queue's worker when a job
// on it has none or two: a job nobody handles would otherwise sit in Redis forever.
import { EngramError, PermanentError } from '../../config/errors.js';
import { JOB_QUEUE, type HandlerResult, type JobName, type JobOf, type QueueName } from '../../pipelines/jobs.js';
import type { Job } from '../../pipelines/repositories/queue.js';
import type { Logger } from '../logger.js';

export interface HandlerContext {
  /** Aborted when the process shuts down; long work (ffmpeg, model runs) should stop on it. */
  signal: AbortSignal;
  log: Logger;
  job: Job;
  /** The worker's lock on the job, for handing it back (queue.ts handBack). */
  token?: string;
}

export type Handler<T extends JobName> = (data: JobOf<T>, context: HandlerContext) => Promise<HandlerResult>;

export type HandlerMap = { [K in JobName]?: Handler<K> };

export class JobRegistry {
  readonly #handlers = new Map<JobName, Handler<JobName>[]>();

  register<T extends JobName>(name: T, handler: Handler<T>): this {
    const list = this.#handlers.get(name) ?? [];
    list.push(handler as unknown as Handler<JobName>);
    this.#handlers.set(name, list);
    return this;
  }

  registerAll(map: HandlerMap): this {
    for (const [name, handler] of Object.entries(map) as [JobName, Handler<JobName>][]) this.register(name, handler);
    return this;
  }

  /** Every problem with the handlers for these queues, empty when each job has exactly one. */
  problems(queues: readonly QueueName[]): string[] {
    const problems: string[] = [];
    for (const [name, queue] of Object.entries(JOB_QUEUE) as [JobName, QueueName][]) {
      const count = this.#handlers.get(name)?.length ?? 0;
      if (queues.includes(queue)) {
        if (count === 0) problems.push(`job "${name}" on queue "${queue}" has no handler`);
        if (count > 1) problems.push(`job "${name}" on queue "${queue}" has ${count} handlers`);
      } else if (count > 0) {
        problems.push(`job "${name}" has a handler but its queue "${queue}" is not started here`);
      }
    }
    return problems;
  }

  assertComplete(queues: readonly QueueName[]): void {
    const problems = this.problems(queues);
    if (problems.length > 0) throw new EngramError(`refusing to start workers:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  /**
   * The BullMQ processor for one queue: dispatches on job name. The job's return value is the
   * handler's status, or its result when it returned `{ status, result }`. A handler throws
   * PermanentError for input that can never succeed; the queue repository maps it to BullMQ's.
   */
  processor(log: Logger, signal: AbortSignal): (job: Job, token?: string) => Promise<unknown> {
    return async (job, token) => {
      const handler = this.#handlers.get(job.name as JobName)?.[0];
      if (!handler) throw new PermanentError(`no handler for job "${job.name}"`);
      const outcome = await handler(job.data as never, { signal, log: log.child({ job: job.name, jobId: job.id }), job, ...(token !== undefined ? { token } : {}) });
      return typeof outcome === 'string' ? outcome : outcome.result;
    };
  }
}
