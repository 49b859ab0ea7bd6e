// Names are data: every queue and job name, and the payload each job carries, in one place.
// Stages and services refer to these enums; the registry checks every job has exactly one handler.

export enum QueueName {
  Ingest = 'ingest',
  Perceive = 'perceive',
  Segment = 'segment',
  Consolidate = 'consolidate',
  Reason = 'reason',
}

export enum JobName {
  /** One long-running job per stream: decode and chunk it. */
  IngestStream = 'ingest-stream',
  /** Run the models on one chunk. */
  PerceiveChunk = 'perceive-chunk',
  /** Advance a stream's segmenter over the records that have arrived. */
  SegmentTick = 'segment-tick',
  /** Store one closed event in long-term memory. */
  ConsolidateEvent = 'consolidate-event',
  /** Scheduled: build hour and day episodes. */
  BuildEpisodes = 'build-episodes',
  /** Scheduled: decay memory strength and prune perceptual detail past retention. */
  MaintainMemory = 'maintain-memory',
  /** Scheduled: compact tables and (re)build indexes. */
  OptimizeTables = 'optimize-tables',
  /** Answer one question. */
  AnswerQuery = 'answer-query',
}

/** Which queue carries each job. */
export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JobName.IngestStream]: QueueName.Ingest,
  [JobName.PerceiveChunk]: QueueName.Perceive,
  [JobName.SegmentTick]: QueueName.Segment,
  [JobName.ConsolidateEvent]: QueueName.Consolidate,
  [JobName.BuildEpisodes]: QueueName.Consolidate,
  [JobName.MaintainMemory]: QueueName.Consolidate,
  [JobName.OptimizeTables]: QueueName.Consolidate,
  [JobName.AnswerQuery]: QueueName.Reason,
};

export interface IngestStreamJob {
  name: JobName.IngestStream;
  data: { stream: string };
}
export interface PerceiveChunkJob {
  name: JobName.PerceiveChunk;
  data: { stream: string; seq: number };
}
export interface SegmentTickJob {
  name: JobName.SegmentTick;
  data: { stream: string };
}
export interface ConsolidateEventJob {
  name: JobName.ConsolidateEvent;
  data: { stream: string; eventId: string };
}
export interface BuildEpisodesJob {
  name: JobName.BuildEpisodes;
  data: { stream?: string };
}
export interface MaintainMemoryJob {
  name: JobName.MaintainMemory;
  data: Record<string, never>;
}
export interface OptimizeTablesJob {
  name: JobName.OptimizeTables;
  data: Record<string, never>;
}
export interface AnswerQueryJob {
  name: JobName.AnswerQuery;
  data: {
    question: string;
    stream?: string;
    since?: string;
    until?: string;
    /** Base64 of an image or audio file for query by example. */
    image?: string;
    audio?: string;
    /** Base64 of a photo of a face: "when was this person here?". */
    face?: string;
  };
}

export type JobItem =
  | IngestStreamJob
  | PerceiveChunkJob
  | SegmentTickJob
  | ConsolidateEventJob
  | BuildEpisodesJob
  | MaintainMemoryJob
  | OptimizeTablesJob
  | AnswerQueryJob;

/** The payload type of one job name: JobOf<JobName.PerceiveChunk> is { stream, seq }. */
export type JobOf<T extends JobName> = Extract<JobItem, { name: T }>['data'];

/** The roles a process can run; each consumes its own queue, except api which consumes none. */
export enum Role {
  Ingest = 'ingest',
  Perceive = 'perceive',
  Segment = 'segment',
  Consolidate = 'consolidate',
  Reason = 'reason',
  Api = 'api',
}

export const ROLES: readonly Role[] = Object.values(Role);

export const ROLE_QUEUE: Partial<Record<Role, QueueName>> = {
  [Role.Ingest]: QueueName.Ingest,
  [Role.Perceive]: QueueName.Perceive,
  [Role.Segment]: QueueName.Segment,
  [Role.Consolidate]: QueueName.Consolidate,
  [Role.Reason]: QueueName.Reason,
};

/** Outcome of a handler for an expected result; faults worth a retry are thrown instead. */
export type JobStatus = 'done' | 'skipped';

/**
 * A status with a value for whoever waits on the job (BullMQ's return value): AnswerQuery returns
 * the answer this way. Handlers with nothing to hand back return the bare status.
 */
export interface JobOutcome<R = unknown> {
  status: JobStatus;
  result: R;
}

export type HandlerResult = JobStatus | JobOutcome;
