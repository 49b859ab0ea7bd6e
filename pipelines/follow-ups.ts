// Which job follows which: the one table of the pipeline's hand-offs, and the job id or
// deduplication each follow-up is added with, so a retried or duplicated job adds nothing twice.
//
//   IngestStream      --each chunk stored-->          PerceiveChunk   (jobId RUN-SEQ)
//   PerceiveChunk     --record appended / given up--> SegmentTick     (dedup tick-STREAM)
//   SegmentTick       --event closed-->               ConsolidateEvent (jobId EVENT-GENERATION)
//   SegmentTick       --asks to be woken-->           SegmentTick     (dedup wake-STREAM, delayed)
//   (a stream added)  -->                             IngestStream    (jobId STREAM-TIME, maybe held)
//   (schedulers)      -->                             BuildEpisodes, MaintainMemory, OptimizeTables
//
// Segment ticks run in two deduplicated chains per stream, so a stream never has more than one
// pending tick of each kind:
//   - "tick-STREAM": added by perceive after each record. BullMQ's keepLastIfActive means a record
//     that arrives while a tick runs leaves exactly one follow-up tick, instead of being ignored
//     because a job with that id is still active (the race a plain jobId would have).
//   - "wake-STREAM": delayed checks the segmenter asks for itself (a missing sequence's wait
//     running out, a live stream going idle); replace makes the newest delay win (debounce).
// The per-stream lock keeps the two chains from running one stream at once.
import { JobName, type JobOf } from './jobs.js';

/** The subset of BullMQ job options follow-ups use (kept structural: only repositories import bullmq). */
export interface FollowUpOptions {
  jobId?: string;
  delay?: number;
  deduplication?: { id: string; keepLastIfActive: boolean; replace?: boolean };
}

/** A job to add: what QueueRepository.addFollowUp takes. */
export interface FollowUp<T extends JobName = JobName> {
  name: T;
  data: JobOf<T>;
  options: FollowUpOptions;
}

/** The table: each job and the jobs it adds when it succeeds (schedulers and people add the rest). */
export const FOLLOWS: Readonly<Record<JobName, readonly JobName[]>> = {
  [JobName.IngestStream]: [JobName.PerceiveChunk],
  [JobName.PerceiveChunk]: [JobName.SegmentTick],
  [JobName.SegmentTick]: [JobName.ConsolidateEvent, JobName.SegmentTick],
  [JobName.ConsolidateEvent]: [],
  [JobName.BuildEpisodes]: [],
  [JobName.MaintainMemory]: [],
  [JobName.OptimizeTables]: [],
  [JobName.AnswerQuery]: [],
};

/** Jobs nobody's success adds: a scheduler adds them every so often. */
export const SCHEDULED_JOBS = [JobName.BuildEpisodes, JobName.MaintainMemory, JobName.OptimizeTables] as const;

export function tickOptions(stream: string): FollowUpOptions & Required<Pick<FollowUpOptions, 'deduplication'>> {
  return { deduplication: { id: `tick-${stream}`, keepLastIfActive: true } };
}

export function wakeOptions(stream: string, delayMs: number): FollowUpOptions & Required<Pick<FollowUpOptions, 'deduplication'>> {
  return { delay: Math.max(0, Math.round(delayMs)), deduplication: { id: `wake-${stream}`, replace: true, keepLastIfActive: true } };
}

/**
 * Id of the unit of perceive work for one chunk: its perceive job id, which the stream's progress
 * counters track and segment looks up. BullMQ refuses ':' in custom ids; the run id is
 * `${stream}-${base36 time}` (StreamRepository.add).
 */
export function chunkUnit(run: string, seq: number): string {
  return `${run}-${seq}`;
}

/** ingest: chunk `seq` of run `run` is stored; perceive it. One job per chunk of one run. */
export function perceiveChunk(stream: string, seq: number, run: string): FollowUp<JobName.PerceiveChunk> {
  return { name: JobName.PerceiveChunk, data: { stream, seq }, options: { jobId: chunkUnit(run, seq) } };
}

/** perceive: a record was appended (or a chunk given up); the stream's segmenter has work. */
export function segmentTick(stream: string): FollowUp<JobName.SegmentTick> {
  return { name: JobName.SegmentTick, data: { stream }, options: tickOptions(stream) };
}

/** segment: the segmenter wants to look again after delayMs (a gap's wait, an idle live stream). */
export function segmentWake(stream: string, delayMs: number): FollowUp<JobName.SegmentTick> {
  return { name: JobName.SegmentTick, data: { stream }, options: wakeOptions(stream, delayMs) };
}

/**
 * segment: an event closed; consolidate it. The job id is the event id within one run of the
 * stream: a repeated hand-off is a no-op, while a later ingest of the same stream (a new
 * generation, whose events carry the same deterministic ids) is not swallowed by the completed
 * jobs BullMQ keeps for the dashboard.
 */
export function consolidateEvent(stream: string, eventId: string, generation: number): FollowUp<JobName.ConsolidateEvent> {
  return { name: JobName.ConsolidateEvent, data: { stream, eventId }, options: { jobId: `${eventId}-${generation.toString(36)}` } };
}

/** A stream was added; ingest it. holdMs delays the job while the adder runs the stream itself. */
export function ingestStream(stream: string, jobId: string, holdMs?: number): FollowUp<JobName.IngestStream> {
  return { name: JobName.IngestStream, data: { stream }, options: { jobId, ...(holdMs !== undefined ? { delay: holdMs } : {}) } };
}
