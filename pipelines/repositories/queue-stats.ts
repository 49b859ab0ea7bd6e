// Numbers about the queues that BullMQ only gives per job: how long recent jobs took. Read from
// the jobs' own timestamps, so they cover workers in every process, not only this one.
import { QueueName } from '../jobs.js';
import type { QueueRepository } from './queue.js';

/** Mean run time (finishedOn - processedOn) of up to `sample` most recent completed jobs, per queue. */
export async function recentJobDurations(queues: QueueRepository, sample = 50): Promise<Record<QueueName, number | null>> {
  const entries = await Promise.all(
    Object.values(QueueName).map(async (name) => {
      const jobs = await queues.queue(name).getJobs(['completed'], 0, sample - 1, false);
      let total = 0;
      let n = 0;
      for (const job of jobs) {
        if (job?.processedOn && job.finishedOn && job.finishedOn >= job.processedOn) {
          total += job.finishedOn - job.processedOn;
          n += 1;
        }
      }
      return [name, n === 0 ? null : total / n / 1000] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, number | null>;
}
