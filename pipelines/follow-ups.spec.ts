import { describe, expect, it } from 'vitest';
import { consolidateEvent, FOLLOWS, ingestStream, perceiveChunk, SCHEDULED_JOBS, segmentTick, segmentWake } from './follow-ups.js';
import { JobName } from './jobs.js';

describe('the follow-ups table', () => {
  it('lets every job be reached: from another job, a scheduler, or a person (a stream added, a question asked)', () => {
    const added = new Set([...Object.values(FOLLOWS).flat(), ...SCHEDULED_JOBS, JobName.IngestStream, JobName.AnswerQuery]);
    expect([...added].sort()).toEqual(Object.values(JobName).sort());
  });

  it('adds each hand-off with the job the table names', () => {
    const pairs: [JobName, JobName][] = [
      [JobName.IngestStream, perceiveChunk('cam', 0, 'cam-1').name],
      [JobName.PerceiveChunk, segmentTick('cam').name],
      [JobName.SegmentTick, consolidateEvent('cam', 'cam.0000001000', 5).name],
      [JobName.SegmentTick, segmentWake('cam', 10).name],
    ];
    for (const [from, to] of pairs) expect(FOLLOWS[from]).toContain(to);
  });

  it('gives a repeated hand-off the same id, a new run or generation another, and never a ":" (BullMQ refuses it)', () => {
    expect(perceiveChunk('cam', 3, 'cam-abc').options).toEqual(perceiveChunk('cam', 3, 'cam-abc').options);
    expect(perceiveChunk('cam', 3, 'cam-abc').options.jobId).not.toBe(perceiveChunk('cam', 3, 'cam-abd').options.jobId);
    expect(consolidateEvent('cam', 'cam.0000001000', 1_700_000_000_000).options.jobId).not.toBe(consolidateEvent('cam', 'cam.0000001000', 1_700_000_100_000).options.jobId);
    const ids = [perceiveChunk('cam', 3, 'cam-abc'), consolidateEvent('cam', 'cam.0000001000', 1_700_000_000_000), ingestStream('cam', 'cam-x')].map((f) => f.options.jobId ?? '');
    for (const id of ids) expect(id).not.toMatch(/:|^$/);
    // One pending tick and one pending wake per stream, the newest wake winning.
    expect(segmentTick('cam').options.deduplication).toEqual({ id: 'tick-cam', keepLastIfActive: true });
    expect(segmentWake('cam', 1234.4).options).toEqual({ delay: 1234, deduplication: { id: 'wake-cam', replace: true, keepLastIfActive: true } });
    expect(ingestStream('cam', 'cam-x', 500).options).toEqual({ jobId: 'cam-x', delay: 500 });
  });
});
