// The one schema for engram's configuration. Every option states its default here (and the
// same value appears in config/default.yaml, which a test keeps in step with this file).
import { z } from 'zod';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const LogSchema = z
  .object({
    /** Minimum level written. @defaultValue 'info' */
    level: logLevel.default('info'),
    /** Pretty, coloured lines instead of JSON; only honoured on a TTY. @defaultValue true */
    prettyOnTty: z.boolean().default(true),
  })
  .strict()
  .prefault({});

export const ManagedRedisSchema = z
  .object({
    /** redis-server binary used when engram manages its own Redis. @defaultValue 'redis-server' */
    binary: z.string().min(1).default('redis-server'),
    /** How long to wait for a managed redis-server to accept connections. @defaultValue 10000 */
    startTimeoutMs: z.number().int().positive().default(10_000),
    /** Memory cap for the managed server (redis `maxmemory`), 0 for none. @defaultValue '0' */
    maxMemory: z.string().default('0'),
  })
  .strict()
  .prefault({});

export const RedisSchema = z
  .object({
    /**
     * Redis to use: redis://, rediss://, unix:///path/to.sock or a socket path. When unset, engram
     * starts and owns a redis-server under the data directory. Also read from REDIS_URL.
     * @defaultValue undefined
     */
    url: z.string().min(1).optional(),
    /** Prefix of every BullMQ key, so several engram installs can share one Redis. @defaultValue 'engram' */
    prefix: z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only').default('engram'),
    /** How long a connection attempt may take before engram reports Redis unreachable. @defaultValue 5000 */
    connectTimeoutMs: z.number().int().positive().default(5_000),
    managed: ManagedRedisSchema,
  })
  .strict()
  .prefault({});

/** Options for one BullMQ queue and its workers. */
function queueOptions(defaults: { concurrency: number; attempts: number }) {
  return z
    .object({
      /** Jobs one worker process runs at once. */
      concurrency: z.number().int().positive().default(defaults.concurrency),
      /** Tries before a job fails for good. */
      attempts: z.number().int().positive().default(defaults.attempts),
      /** First retry delay; doubles each try (exponential backoff). @defaultValue 1000 */
      backoffMs: z.number().int().nonnegative().default(1_000),
      /** Completed jobs kept for the dashboard. @defaultValue 1000 */
      removeOnComplete: z.number().int().nonnegative().default(1_000),
      /** Failed jobs kept for the dashboard. @defaultValue 5000 */
      removeOnFail: z.number().int().nonnegative().default(5_000),
    })
    .strict()
    .prefault({});
}

export const QueuesSchema = z
  .object({
    /** One long-running job per stream. @defaultValue concurrency 16, attempts 5 */
    ingest: queueOptions({ concurrency: 16, attempts: 5 }),
    /** Model inference; batched across streams. @defaultValue concurrency 8, attempts 3 */
    perceive: queueOptions({ concurrency: 8, attempts: 3 }),
    /** Ordered per stream (a tick per stream at a time). @defaultValue concurrency 8, attempts 5 */
    segment: queueOptions({ concurrency: 8, attempts: 5 }),
    /** Single writer per table. @defaultValue concurrency 1, attempts 5 */
    consolidate: queueOptions({ concurrency: 1, attempts: 5 }),
    /** Question answering. @defaultValue concurrency 4, attempts 1 */
    reason: queueOptions({ concurrency: 4, attempts: 1 }),
  })
  .strict()
  .prefault({});

export const StorageSchema = z
  .object({
    /**
     * LanceDB URI: a directory, or an object-store URI (s3://, gs://, az://) for scale-out.
     * Relative paths are under the data directory. @defaultValue 'lancedb'
     */
    lancedbUri: z.string().min(1).default('lancedb'),
  })
  .strict()
  .prefault({});

/** Per-source weights of reciprocal-rank fusion (pipelines/reason/fusion.ts says why each). */
export const ReasonWeightsSchema = z
  .object({
    /** Full-text over summary, transcript and on-screen text. @defaultValue 1.0 */
    fullText: z.number().nonnegative().default(1.0),
    /** Question through an image-aligned text encoder (CLIP family). @defaultValue 0.7 */
    imageText: z.number().nonnegative().default(0.7),
    /** Question through an audio-aligned text encoder (CLAP family). @defaultValue 0.5 */
    audioText: z.number().nonnegative().default(0.5),
    /** Question through a sentence encoder, against summaries. @defaultValue 0.8 */
    sentence: z.number().nonnegative().default(0.8),
    /** An example image or audio clip against its own space. @defaultValue 1.0 */
    example: z.number().nonnegative().default(1.0),
    /** Multiplier for episode hits (doubled for summary questions). @defaultValue 0.5 */
    episodes: z.number().nonnegative().default(0.5),
    /** Multiplier for moment hits (single keyframes or audio windows). @defaultValue 0.8 */
    moments: z.number().nonnegative().default(0.8),
  })
  .strict()
  .prefault({});

export const ReasonSchema = z
  .object({
    /**
     * IANA time zone that words like "yesterday evening" and "at 3 pm" refer to, and answers are
     * written in. Unset: the system's zone. @defaultValue undefined
     */
    timeZone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'not a time zone Intl knows (use an IANA name such as "Europe/Berlin" or "UTC")')
      .optional(),
    /** k of reciprocal-rank fusion: larger flattens the gap between rank 1 and rank 2. @defaultValue 60 */
    rrfK: z.number().positive().default(60),
    /** Candidates taken from each search before fusion. @defaultValue 50 */
    candidates: z.number().int().positive().default(50),
    /** Evidence items an answer cites at most. @defaultValue 5 */
    maxEvidence: z.number().int().positive().default(5),
    /** Temporal contiguity: neighbouring events on each side of the best hit that join the evidence. @defaultValue 1 */
    neighbours: z.number().int().nonnegative().default(1),
    /** Answer from events and summaries at or above this confidence. @defaultValue 0.7 */
    confidentAt: z.number().min(0).max(1).default(0.7),
    /** Below this confidence, search moments across the whole range (in between: only inside the top events). @defaultValue 0.5 */
    escalateBelow: z.number().min(0).max(1).default(0.5),
    /**
     * A text question's vector hit is evidence only when the event is this much more similar to the
     * question than to a neutral question ("something happened"), in cosine: encoders give every
     * text some similarity to everything, and only the part the question's words add counts.
     * @defaultValue 0.05
     */
    minSimilarity: z.number().min(-1).max(1).default(0.05),
    /** That contrast at which a text hit counts as a sure match (confidence 1). @defaultValue 0.2 */
    strongSimilarity: z.number().min(-1).max(1).default(0.2),
    /** Query by example: cosine below which a hit is not evidence. @defaultValue 0.5 */
    exampleMinSimilarity: z.number().min(-1).max(1).default(0.5),
    /** Query by example: cosine of a sure match. @defaultValue 0.9 */
    exampleStrongSimilarity: z.number().min(-1).max(1).default(0.9),
    /** Per-space overrides of the text thresholds: { spaceId: { min, strong } }. @defaultValue {} */
    spaceSimilarity: z.record(z.string(), z.object({ min: z.number(), strong: z.number() }).strict()).default({}),
    weights: ReasonWeightsSchema,
    /** Cross-modal completion: seconds either side of a visual hit. @defaultValue 1 */
    visualWindowS: z.number().nonnegative().default(1),
    /** Cross-modal completion: seconds either side of an audio hit. @defaultValue 2 */
    audioWindowS: z.number().nonnegative().default(2),
    /** Completion windows of one stream closer than this merge. @defaultValue 2 */
    mergeGapS: z.number().nonnegative().default(2),
    /** Answer through the chat endpoint (llm section) when one is configured. @defaultValue true */
    useLlm: z.boolean().default(true),
    /** Strengthen the events an answer used (MemoryBank reinforcement). @defaultValue true */
    reinforce: z.boolean().default(true),
    /** How long `engram query` waits for a running reason worker before giving up. @defaultValue 60000 */
    waitTimeoutMs: z.number().int().positive().default(60_000),
  })
  .strict()
  .prefault({});

export const ConfigSchema = z
  .object({
    /** Where engram keeps Redis files, LanceDB tables, thumbnails and models. Also ENGRAM_DATA_DIR. @defaultValue './data' */
    dataDir: z.string().min(1).default('./data'),
    log: LogSchema,
    redis: RedisSchema,
    queues: QueuesSchema,
    storage: StorageSchema,
    reason: ReasonSchema,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type QueueOptions = Config['queues']['ingest'];
