// BullMQ queues and workers for engram's roles. Queue options come from config; job names from
// pipelines/jobs.ts. Everything else talks to queues through this repository.
import { hostname } from 'node:os';
import { Queue, QueueEvents, UnrecoverableError, WaitingError, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import { PermanentError } from '../../config/errors.js';
import type { Config, QueueOptions } from '../../config/schema.js';
import type { FollowUp } from '../follow-ups.js';
import { JOB_QUEUE, QueueName, type JobName, type JobOf } from '../jobs.js';
import type { RedisRepository } from './redis.js';

export interface QueueCounts {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
}

export type { Job };

/** One worker connected to a queue, in any process on any host. */
export interface QueueWorker {
  host: string;
  pid: number;
  /** Seconds since it connected. */
  ageSeconds: number;
}

/**
 * The name each worker of this process gives BullMQ: it shows in Redis's client list (so status
 * can say which processes serve a queue) and as a job's `processedBy`.
 */
export function workerName(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

/** token: the lock the worker holds on the job (BullMQ passes it to every processor call). */
export type JobProcessor = (job: Job, token?: string) => Promise<unknown>;

/**
 * The one place engram's errors become BullMQ's: a PermanentError fails the job without its
 * remaining attempts; anything else is a fault worth a retry and passes through as it is.
 */
export function toQueueError(error: unknown): unknown {
  return error instanceof PermanentError ? new UnrecoverableError(error.message) : error;
}

/** True when this failure is the job's last: it can never succeed, or its attempts are used up. */
export function isLastAttempt(job: Job, error: unknown): boolean {
  return error instanceof PermanentError || error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * Gives a running job back to its queue's waiting list without spending one of its attempts,
 * for a worker that shuts down in the middle of a long job (it did nothing wrong). Throws the
 * error BullMQ's worker expects after such a move; the caller lets it propagate.
 */
export async function handBack(job: Job, token: string | undefined): Promise<never> {
  if (token === undefined) throw new Error(`cannot hand job ${job.id} back: no lock token`);
  await job.moveToWait(token);
  throw new WaitingError();
}

export class QueueRepository {
  readonly #redis: RedisRepository;
  readonly #config: Config;
  readonly #queues = new Map<QueueName, Queue>();
  readonly #workers: Worker[] = [];
  #closed = false;

  constructor(redis: RedisRepository, config: Config) {
    this.#redis = redis;
    this.#config = config;
  }

  get prefix(): string {
    return this.#config.redis.prefix;
  }

  options(queue: QueueName): QueueOptions {
    return this.#config.queues[queue];
  }

  queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      const options = this.options(name);
      const defaultJobOptions: JobsOptions = {
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        removeOnComplete: options.removeOnComplete,
        removeOnFail: options.removeOnFail,
      };
      queue = new Queue(name, { connection: this.#redis.connection(`queue-${name}`), prefix: this.prefix, defaultJobOptions });
      queue.on('error', () => undefined);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  allQueues(): Queue[] {
    return Object.values(QueueName).map((name) => this.queue(name));
  }

  /** Adds the job the follow-ups table says comes next (pipelines/follow-ups.ts). */
  async addFollowUp<T extends JobName>(followUp: FollowUp<T>): Promise<Job> {
    return this.add(followUp.name, followUp.data, followUp.options);
  }

  /**
   * Adds several follow-ups of one kind in one round trip (BullMQ addBulk), each idempotent by
   * its job id as with addFollowUp.
   */
  async addFollowUps<T extends JobName>(followUps: FollowUp<T>[]): Promise<void> {
    const first = followUps[0];
    if (!first) return;
    await this.queue(JOB_QUEUE[first.name]).addBulk(followUps.map((f) => ({ name: f.name, data: f.data, opts: f.options ?? {} })));
  }

  /** Adds a job to the queue that carries it. A jobId makes the add idempotent. */
  async add<T extends JobName>(name: T, data: JobOf<T>, options: JobsOptions = {}): Promise<Job> {
    return this.queue(JOB_QUEUE[name]).add(name, data, options);
  }

  /**
   * Pushes a delayed job's start to delayMs from now: a lease that whoever holds the job renews
   * while it works on it itself; if it stops renewing, a worker gets the job. False when the job
   * is gone or no longer delayed.
   */
  async postpone(name: JobName, jobId: string, delayMs: number): Promise<boolean> {
    const job = await this.queue(JOB_QUEUE[name]).getJob(jobId);
    if (!job) return false;
    try {
      await job.changeDelay(delayMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Where a job is in its queue ('waiting', 'active', 'delayed', 'completed', 'failed', ...), or 'unknown' when it is gone. */
  async jobState(name: JobName, jobId: string): Promise<string> {
    return String(await this.queue(JOB_QUEUE[name]).getJobState(jobId));
  }

  /** Removes a job that is not running (waiting or delayed); false when it is gone or locked. */
  async remove(name: JobName, jobId: string): Promise<boolean> {
    return (await this.queue(JOB_QUEUE[name]).remove(jobId)) === 1;
  }

  /**
   * A BullMQ job scheduler that adds `name` every `everyMs`; upserting with the same id replaces
   * the schedule instead of adding a second one, so every process can call it at startup.
   */
  async schedule<T extends JobName>(name: T, data: JobOf<T>, everyMs: number): Promise<void> {
    await this.queue(JOB_QUEUE[name]).upsertJobScheduler(`every-${name}`, { every: everyMs }, { name, data });
  }

  async counts(): Promise<Record<QueueName, QueueCounts>> {
    const entries = await Promise.all(
      Object.values(QueueName).map(async (name) => {
        const c = await this.queue(name).getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
        const counts: QueueCounts = {
          waiting: c.waiting ?? 0,
          active: c.active ?? 0,
          completed: c.completed ?? 0,
          failed: c.failed ?? 0,
          delayed: c.delayed ?? 0,
        };
        return [name, counts] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<QueueName, QueueCounts>;
  }

  /** Starts a worker on one queue with the concurrency from config; errors go through toQueueError. */
  startWorker(name: QueueName, processor: JobProcessor, extra: Partial<WorkerOptions> = {}): Worker {
    const run: JobProcessor = async (job, token) => {
      try {
        return await processor(job, token);
      } catch (error) {
        throw toQueueError(error);
      }
    };
    const worker = new Worker(name, run, {
      connection: this.#redis.connection(`worker-${name}`),
      prefix: this.prefix,
      concurrency: this.options(name).concurrency,
      lockDuration: this.options(name).lockDurationMs,
      stalledInterval: this.options(name).stalledIntervalMs,
      maxStalledCount: this.options(name).maxStalledCount,
      name: workerName(),
      ...extra,
    });
    worker.on('error', () => undefined);
    this.#workers.push(worker);
    return worker;
  }

  /** The workers connected to a queue right now, by host and pid (oldest first). */
  async workers(name: QueueName): Promise<QueueWorker[]> {
    const out: QueueWorker[] = [];
    for (const client of await this.queue(name).getWorkers()) {
      const raw = client.rawname ?? '';
      // BullMQ names a named worker's connection "<prefix>:<queue>:w:<name>"; ours is host:pid.
      const own = raw.slice(raw.indexOf(':w:') + 3);
      const colon = own.lastIndexOf(':');
      const pid = Number(own.slice(colon + 1));
      if (raw.includes(':w:') && colon > 0 && Number.isInteger(pid)) out.push({ host: own.slice(0, colon), pid, ageSeconds: Number(client.age ?? 0) });
    }
    return out.sort((a, b) => b.ageSeconds - a.ageSeconds || a.pid - b.pid);
  }

  /** The workers of every queue, by queue name. */
  async allWorkers(): Promise<Record<string, QueueWorker[]>> {
    return Object.fromEntries(await Promise.all(Object.values(QueueName).map(async (name) => [name, await this.workers(name)] as const)));
  }

  /** Workers connected to a queue right now, in any process (BullMQ's worker registry). */
  async workerCount(name: QueueName): Promise<number> {
    return (await this.queue(name).getWorkers()).length;
  }

  /**
   * Adds a job and waits for its return value, for request/response jobs (AnswerQuery). A failed
   * job rejects with its failure reason; no answer within timeoutMs rejects too.
   */
  async addAndWait<T extends JobName>(name: T, data: JobOf<T>, timeoutMs: number, options: JobsOptions = {}): Promise<unknown> {
    const queueName = JOB_QUEUE[name];
    const events = new QueueEvents(queueName, { connection: this.#redis.connection(`events-${queueName}`), prefix: this.prefix });
    events.on('error', () => undefined);
    try {
      await events.waitUntilReady();
      const job = await this.add(name, data, options);
      return await job.waitUntilFinished(events, timeoutMs);
    } finally {
      await events.close();
    }
  }

  /** Lets running jobs finish (unless `force`), then closes workers and queues. Idempotent. */
  async close(options: { force?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#workers.map((worker) => worker.close(options.force === true)));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
  }
}
