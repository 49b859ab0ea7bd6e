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

export const PerceiveSchema = z
  .object({
    /**
     * Seconds between OCR reads of one stream's keyframes. Text on camera footage changes slowly
     * and OCR is the most expensive shipped model, so it runs on a sample. @defaultValue 2
     */
    ocrIntervalSeconds: z.number().nonnegative().default(2),
    /**
     * Skip OCR on a keyframe whose visual signature moved less than this (cosine distance, after
     * centring) from the last keyframe read: the same picture has the same text. @defaultValue 0.02
     */
    ocrMinChange: z.number().min(0).max(2).default(0.02),
    /** Read on-screen text at all. @defaultValue true */
    ocr: z.boolean().default(true),
    /**
     * Also read keyframes ingest marked as scene cuts, whatever the interval. Off by default: an
     * animated scene yields a cut every few frames and OCR then dominates perception's cost, while
     * the cut itself is already a visual boundary. @defaultValue false
     */
    ocrOnSceneCut: z.boolean().default(false),
    /** Transcribe speech spans when a speech model is installed. @defaultValue true */
    transcribe: z.boolean().default(true),
  })
  .strict()
  .prefault({});

export const SegmentSchema = z
  .object({
    /**
     * EM-LLM's gamma: a keyframe is surprising when its distance from the running event exceeds
     * the recent distances' median + gamma * robust spread (MAD x 1.4826, the std for normal
     * data). See pipelines/segment/NOTES.md. @defaultValue 2
     */
    gamma: z.number().positive().default(2),
    /** Recent distances the adaptive threshold is computed over (per space). @defaultValue 30 */
    historySize: z.number().int().min(3).default(30),
    /** Distances seen before surprise may fire at all (per space). @defaultValue 4 */
    warmup: z.number().int().min(1).default(4),
    /**
     * Absolute floor under the adaptive threshold (centred cosine distance): on a static camera
     * the recent spread is near zero and sensor noise would otherwise count as surprise. Heavy sensor noise on a flat picture measures about 0.01 in the visual signature; a car or person entering the view 0.1-1. @defaultValue 0.05
     */
    minDistance: z.number().min(0).max(2).default(0.05),
    /** Floor under the spread in the adaptive threshold, so a perfectly still history is not infinitely sensitive. @defaultValue 0.01 */
    minSpread: z.number().min(0).default(0.01),
    /** Shortest event, seconds: a person walking past a door or a car passing takes about 2 s. @defaultValue 2 */
    minEventSeconds: z.number().nonnegative().default(2),
    /** Longest event, seconds: a still scene is cut into pieces this long. @defaultValue 60 */
    maxEventSeconds: z.number().positive().default(60),
    /** Boundary candidates closer than this are one boundary; the strongest wins. @defaultValue 1.5 */
    mergeSeconds: z.number().nonnegative().default(1.5),
    /**
     * Speech after at least this long without speech starts a new event (a conversation starts).
     * Pauses inside a conversation are mostly under a couple of seconds. @defaultValue 5
     */
    silenceSeconds: z.number().positive().default(5),
    /**
     * Speech followed by at least this long without speech ends its event at the last word (the
     * conversation is over and the place stayed quiet). Shorter quiet stays in the conversation's
     * event until something else happens. @defaultValue 30
     */
    speechEndSeconds: z.number().positive().default(30),
    /** Level below which a window counts as silent, dBFS (HippoMM: -40). @defaultValue -40 */
    silenceDbfs: z.number().max(0).default(-40),
    /** On-screen words are a new text when their Jaccard similarity to the last read falls below this. @defaultValue 0.5 */
    textChangeJaccard: z.number().min(0).max(1).default(0.5),
    /** OCR lines below this confidence are ignored (for text changes and in the event's text). @defaultValue 0.6 */
    textMinConfidence: z.number().min(0).max(1).default(0.6),
    /** Pattern separation: a keyframe this similar (cosine) to one already kept is dropped (HippoMM: 0.9). @defaultValue 0.9 */
    duplicateCosine: z.number().min(-1).max(1).default(0.9),
    /**
     * Move visual boundaries to the best graph cut (modularity or conductance) of the stretch they
     * divide. Off by default: at one keyframe a second it moved boundaries on real footage away
     * from where the change happened (see pipelines/segment/NOTES.md). @defaultValue 'none'
     */
    refine: z.enum(['none', 'modularity', 'conductance']).default('none'),
    /** How far, seconds, refinement may move a boundary. @defaultValue 2 */
    refineSeconds: z.number().nonnegative().default(2),
    /**
     * Motion level: an event whose mean keyframe-to-keyframe change (centred cosine distance of
     * visual signatures) is below this is motion-low; a still camera measures about 0.001. @defaultValue 0.02
     */
    motionLow: z.number().nonnegative().default(0.02),
    /** Motion level: at or above this is motion-high (between is motion-medium); a car crossing the view measures 0.3-1. @defaultValue 0.2 */
    motionHigh: z.number().nonnegative().default(0.2),
    /** A live stream's open event closes after this long without a new record, seconds. @defaultValue 30 */
    idleCloseSeconds: z.number().positive().default(30),
    /** How long to wait for a missing sequence number before treating it as a gap, ms. @defaultValue 5000 */
    missingWaitMs: z.number().int().nonnegative().default(5_000),
    /** Short-term memory keeps about this many seconds (wall clock) of records per stream. @defaultValue 600 */
    shortTermSeconds: z.number().positive().default(600),
    /** Records one tick advances at most before saving state and yielding. @defaultValue 200 */
    maxRecordsPerTick: z.number().int().positive().default(200),
    /** Per-stream lock lifetime; a crashed worker's lock expires after this, ms. @defaultValue 30000 */
    lockTtlMs: z.number().int().positive().default(30_000),
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
    perceive: PerceiveSchema,
    segment: SegmentSchema,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type QueueOptions = Config['queues']['ingest'];
export type PerceiveOptions = Config['perceive'];
export type SegmentOptions = Config['segment'];
