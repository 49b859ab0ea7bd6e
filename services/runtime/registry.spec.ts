import { describe, expect, it } from 'vitest';
import { EngramError } from '../../config/errors.js';
import { JobName, QueueName } from '../../pipelines/jobs.js';
import { silentLogger } from '../logger.js';
import { JobRegistry } from './registry.js';

const ok = async () => 'done' as const;

describe('job registry', () => {
  it('accepts a queue whose every job has exactly one handler', () => {
    const registry = new JobRegistry().register(JobName.IngestStream, ok);
    expect(registry.problems([QueueName.Ingest])).toEqual([]);
    expect(() => registry.assertComplete([QueueName.Ingest])).not.toThrow();
  });

  it('refuses to start when a job on a started queue has no handler', () => {
    const registry = new JobRegistry().register(JobName.ConsolidateEvent, ok);
    expect(() => registry.assertComplete([QueueName.Consolidate])).toThrow(EngramError);
    const problems = registry.problems([QueueName.Consolidate]);
    expect(problems).toContain('job "build-episodes" on queue "consolidate" has no handler');
    expect(problems).toContain('job "maintain-memory" on queue "consolidate" has no handler');
    expect(problems).toContain('job "optimize-tables" on queue "consolidate" has no handler');
  });

  it('refuses two handlers for one job', () => {
    const registry = new JobRegistry().register(JobName.SegmentTick, ok).register(JobName.SegmentTick, ok);
    expect(registry.problems([QueueName.Segment])).toEqual(['job "segment-tick" on queue "segment" has 2 handlers']);
  });

  it('flags a handler whose queue this process does not consume', () => {
    const registry = new JobRegistry().register(JobName.AnswerQuery, ok);
    expect(registry.problems([])).toEqual(['job "answer-query" has a handler but its queue "reason" is not started here']);
  });

  it('hands a handler result to BullMQ as the job return value, and a bare status as itself', async () => {
    const registry = new JobRegistry()
      .register(JobName.AnswerQuery, async (data) => ({ status: 'done' as const, result: { answer: `re: ${data.question}` } }))
      .register(JobName.SegmentTick, async () => 'skipped' as const);
    const run = registry.processor(silentLogger(), new AbortController().signal);
    const job = (name: string, data: unknown) => ({ name, data, id: '1' }) as unknown as Parameters<typeof run>[0];
    await expect(run(job(JobName.AnswerQuery, { question: 'who?' }))).resolves.toEqual({ answer: 're: who?' });
    await expect(run(job(JobName.SegmentTick, { stream: 'a' }))).resolves.toBe('skipped');
  });
});
