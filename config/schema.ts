// The one schema for engram's configuration. Every option states its default here (and the
// same value appears in config/default.yaml, which a test keeps in step with this file).
import { z } from 'zod';
import { allowedHostProblem } from './allowed-hosts.js';

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
    /**
     * When the managed redis-server dies, engram stops (restarting it in a loop would hide the
     * cause); this is how long the process lets its work wind down before it exits anyway, with
     * a non-zero code and one line saying why. An external Redis is waited for instead: its
     * connections reconnect and the loss and return are logged. @defaultValue 5000
     */
    stopDeadlineMs: z.number().int().positive().default(5_000),
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
      /**
       * BullMQ lock of a running job, renewed by its worker at half this; a killed worker's jobs
       * are found by the next stalled check after it lapses and run again. (The ingest queue's
       * long stream jobs use ingest.lockDurationMs instead.) @defaultValue 30000
       */
      lockDurationMs: z.number().int().positive().default(30_000),
      /** How often workers look for jobs whose worker died or froze. @defaultValue 15000 */
      stalledIntervalMs: z.number().int().positive().default(15_000),
      /**
       * Times a job may be found stalled (its worker killed, or frozen past its lock) and run
       * again before BullMQ fails it. Jobs are idempotent, so a few re-runs cost nothing; a chunk
       * whose job fails this way becomes a gap in its stream. @defaultValue 5
       */
      maxStalledCount: z.number().int().nonnegative().default(5),
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
    /**
     * Jobs held at once per process; they are written in batches (memory.consolidateBatchEvents),
     * so this is twice a batch: one batch fills while the previous one is written.
     * @defaultValue concurrency 64, attempts 5
     */
    consolidate: queueOptions({ concurrency: 64, attempts: 5 }),
    /** Question answering. @defaultValue concurrency 4, attempts 1 */
    reason: queueOptions({ concurrency: 4, attempts: 1 }),
  })
  .strict()
  .prefault({});

export const S3Schema = z
  .object({
    /**
     * Endpoint URL of an S3-compatible service (MinIO, Ceph, a local test server); empty for AWS
     * S3 itself. An http:// endpoint also allows plain HTTP for LanceDB. @defaultValue ''
     */
    endpoint: z.string().regex(/^$|^https?:\/\/[^\s/]+(\/.*)?$/, 'an http:// or https:// URL ("http://minio:9000"), or empty for AWS S3').default(''),
    /** Region; S3-compatible services usually accept any. @defaultValue 'us-east-1' */
    region: z.string().min(1).default('us-east-1'),
    /** Bucket of the blob backend (storage.blobs s3); it must exist. @defaultValue '' */
    bucket: z.string().regex(/^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens').default(''),
    /** Key prefix of every blob in the bucket ("engram/"), so one bucket can hold several installations. @defaultValue '' */
    prefix: z.string().regex(/^$|^[^/].*\/$/, 'empty, or a key prefix ending in "/" and not starting with one').default(''),
    /** Access key id; empty uses the AWS SDK's default chain (environment, profile, instance role). @defaultValue '' */
    accessKeyId: z.string().default(''),
    /** Secret access key (hidden by `engram config print`). @defaultValue '' */
    secretAccessKey: z.string().default(''),
    /** Session token of temporary credentials. @defaultValue '' */
    sessionToken: z.string().default(''),
    /**
     * Address buckets as endpoint/bucket/key rather than bucket.endpoint/key: what most
     * S3-compatible services need. @defaultValue true
     */
    forcePathStyle: z.boolean().default(true),
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
    /**
     * Where thumbnails, face crops and evidence clips' sources go: `local` (the data directory's
     * blobs/ folder, seen by this host only) or `s3` (storage.s3's bucket, shared by every host).
     * @defaultValue 'local'
     */
    blobs: z.enum(['local', 's3']).default('local'),
    /**
     * S3-compatible object storage: the blob backend's bucket when storage.blobs is s3, and the
     * endpoint, region and credentials of an s3:// lancedbUri. Credentials may also come from
     * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and
     * AWS_ENDPOINT_URL (ENGRAM_STORAGE__S3__* wins over them).
     */
    s3: S3Schema,
    /**
     * Further LanceDB storage options for an object-store lancedbUri (LanceDB's names, e.g.
     * `timeout: 60s`); they win over those derived from storage.s3. @defaultValue {}
     */
    lancedbOptions: z.record(z.string(), z.string()).default({}),
    /**
     * How LanceDB commits from many processes stay safe: `auto` takes a Redis lock around every
     * commit when lancedbUri is on object storage (stores that ignore S3's If-None-Match would
     * otherwise let two commits of one version overwrite each other) and none on a local
     * directory (an atomic rename decides there); `redis` always; `off` never, leaving it to the
     * store's conditional writes. @defaultValue 'auto'
     */
    commitLock: z.enum(['auto', 'redis', 'off']).default('auto'),
    /**
     * Bytes of object-storage blobs kept in the local spool (data directory's spool/) for ffmpeg,
     * which cuts clips from local files; the least recently used go first. @defaultValue 2 GiB
     */
    spoolMaxBytes: z.number().int().min(0).default(2 * 1024 ** 3),
  })
  .strict()
  .superRefine((storage, ctx) => {
    if (storage.blobs === 's3' && storage.s3.bucket === '') {
      ctx.addIssue({ code: 'custom', path: ['s3', 'bucket'], message: 'required when storage.blobs is s3 (the bucket thumbnails and clips go to)' });
    }
  })
  .prefault({});

export const ApiSchema = z
  .object({
    /**
     * Address the HTTP API and web UI listen on. Anything but loopback (127.0.0.1, ::1,
     * localhost) requires api.apiKeys. @defaultValue '127.0.0.1'
     */
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * Further names the API answers to while it needs no key (a Host header check against DNS
     * rebinding; loopback names and api.host are always accepted), e.g. the name a local reverse
     * proxy forwards. @defaultValue []
     */
    hostNames: z.array(z.string().min(1).max(253)).default([]),
    /** TCP port; 0 picks a free one. @defaultValue 7077 */
    port: z.number().int().min(0).max(65_535).default(7077),
    /**
     * SHA-256 hashes (hex) of the accepted API keys; the keys themselves are never stored.
     * Make one with `engram api hash-key` (or `printf %s "$KEY" | sha256sum`). @defaultValue []
     */
    apiKeys: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash: 64 lower-case hex digits (engram api hash-key)')).default([]),
    /**
     * On loopback, whether a key is required once api.apiKeys is non-empty. Off: loopback
     * callers may omit the key (a wrong key is still refused). @defaultValue true
     */
    requireKeyOnLoopback: z.boolean().default(true),
    /** Largest request body accepted, in bytes (query by example images count). @defaultValue 1048576 */
    bodyLimitBytes: z.number().int().positive().default(1_048_576),
    /** Origins allowed by CORS; empty turns CORS off (same-origin only). @defaultValue [] */
    corsOrigins: z.array(z.string().min(1)).default([]),
    /** How long POST /api/query may take before it answers 504. @defaultValue 30000 */
    queryTimeoutMs: z.number().int().positive().default(30_000),
    /** Questions one client (key or address) may ask per window on POST /api/query. @defaultValue 30 */
    queryRateMax: z.number().int().positive().default(30),
    /** The rate limit's window. @defaultValue 60000 */
    queryRateWindowMs: z.number().int().positive().default(60_000),
    /** Longest clip GET /api/events/:id/clip cuts, in seconds; longer events are cut to this. @defaultValue 120 */
    clipMaxSeconds: z.number().positive().default(120),
  })
  .strict()
  .prefault({});

export const IngestSchema = z
  .object({
    /** Length of one chunk in stream seconds. @defaultValue 1 */
    chunkSeconds: z.number().positive().max(60).default(1),
    /** Regular keyframes per stream second (extra ones come at scene cuts). @defaultValue 1 */
    keyframesPerSecond: z.number().positive().max(30).default(1),
    /** ffmpeg scene score (0..1) above which a frame is kept as an extra keyframe. @defaultValue 0.3 */
    sceneThreshold: z.number().min(0).max(1).default(0.3),
    /** Longest side of a keyframe handed to the models, in pixels (dimensions are kept even). @defaultValue 640 */
    frameMaxSide: z.number().int().min(16).max(4096).default(640),
    /** Width of the JPEG thumbnail stored with each keyframe. @defaultValue 320 */
    thumbnailWidth: z.number().int().min(16).max(1920).default(320),
    /**
     * Decoder threads of each live stream's ffmpeg; 0 lets ffmpeg decide (one per core, plus one).
     * One thread decodes a live stream with about a fifth less CPU than ffmpeg's default frame
     * threading and without its frames of delay; many live streams already keep every core busy.
     * Files keep ffmpeg's default: one file decodes faster on all cores. @defaultValue 1
     */
    liveDecoderThreads: z.number().int().min(0).max(64).default(1),
    /** How long chunk bytes stay in Redis when nobody consumes them. @defaultValue 3600 */
    chunkTtlSeconds: z.number().int().positive().default(3_600),
    /**
     * Chunks of one stream put but not yet consumed by the next stage. Above it a file source waits
     * and a live source drops keyframes (never audio). @defaultValue 32
     */
    maxChunksInFlight: z.number().int().positive().default(32),
    /** First reconnect delay of a live source; doubles each failure. @defaultValue 500 */
    reconnectMinMs: z.number().int().positive().default(500),
    /** Cap of the reconnect delay. @defaultValue 30000 */
    reconnectMaxMs: z.number().int().positive().default(30_000),
    /** Connection attempts before a live source that never answered fails for good. @defaultValue 3 */
    connectAttempts: z.number().int().positive().default(3),
    /** How long ffprobe may wait for a source to answer. @defaultValue 10000 */
    probeTimeoutMs: z.number().int().positive().default(10_000),
    /**
     * Bytes of stdin (`engram ingest -`) buffered for ffprobe to find the streams in; ffmpeg then
     * reads them again followed by the rest of the pipe. @defaultValue 4194304
     */
    stdinHeadBytes: z.number().int().min(65_536).max(268_435_456).default(4_194_304),
    /** No media for this long restarts ffmpeg (live) or fails the stream (file). @defaultValue 10000 */
    stallTimeoutMs: z.number().int().positive().default(10_000),
    /**
     * Protocols ffmpeg may open; a source using another is refused. Each source gets only the
     * part its own protocol needs as `-protocol_whitelist` (a network source never gets file,
     * pipe or fd; only udp/rtp sources get udp). @defaultValue file,pipe,fd,http,https,tls,tcp,udp,rtp,rtsp,rtsps,hls,crypto,data
     */
    allowedProtocols: z
      .array(z.string().regex(/^[a-z0-9]+$/))
      .default(['file', 'pipe', 'fd', 'http', 'https', 'tls', 'tcp', 'udp', 'rtp', 'rtsp', 'rtsps', 'hls', 'crypto', 'data']),
    /**
     * Directories file sources must lie under (after resolving symlinks). Relative entries are
     * resolved against the working directory; an empty list allows the working directory and the
     * data directory. @defaultValue []
     */
    fileRoots: z.array(z.string().min(1)).default([]),
    /**
     * Hosts and networks network sources may connect to: host names, `*.domain`, IP addresses and
     * CIDR networks (`192.168.1.0/24`, `fd00::/8`). Empty allows any host, since local restreamers
     * (rtsp://127.0.0.1:8554) and LAN cameras are normal; a deployment whose API clients are not
     * fully trusted lists its cameras here. engram's own API and Redis are refused either way.
     * @defaultValue []
     */
    allowedHosts: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const problem = allowedHostProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .default([]),
    /** Widest video accepted; larger is refused as an absurd resolution. @defaultValue 7680 */
    maxWidth: z.number().int().positive().default(7_680),
    /** Tallest video accepted. @defaultValue 4320 */
    maxHeight: z.number().int().positive().default(4_320),
    /** BullMQ lock of a running ingest job; a dead worker's stream is taken over after it lapses. @defaultValue 30000 */
    lockDurationMs: z.number().int().positive().default(30_000),
    /** How often ingest workers look for streams whose worker died. @defaultValue 30000 */
    stalledIntervalMs: z.number().int().positive().default(30_000),
    /** Times a stream may be taken over after its worker died before it fails. @defaultValue 10 */
    maxStalledCount: z.number().int().nonnegative().default(10),
  })
  .strict()
  .prefault({});

export const RecordingsSchema = z
  .object({
    /**
     * Live streams write their original video and audio (no re-encoding) into segment files while
     * they are decoded, so every event has a playable clip. Files are not recorded: they are
     * their own recording. @defaultValue true
     */
    enabled: z.boolean().default(true),
    /**
     * Where ffmpeg writes segments; relative paths are under the data directory. With
     * storage.blobs s3 each closed segment moves to the bucket (recordings/ under storage.s3.prefix)
     * and this folder holds only the segments being written. @defaultValue 'recordings'
     */
    dir: z.string().min(1).default('recordings'),
    /**
     * Target length of one segment file in seconds; a segment starts on a keyframe, so it is
     * longer when the camera's keyframes are further apart. @defaultValue 10
     */
    segmentSeconds: z.number().min(1).max(600).default(10),
    /** Segments older than this many days are deleted (unless an event holds them longer). @defaultValue 7 */
    retainDays: z.number().positive().default(7),
    /**
     * Cap over all streams' stored segments, in bytes (on disk, or in the bucket with
     * storage.blobs s3); over it the oldest segments go first, events' or not (a full disk stops
     * recording altogether). 0: no cap, only the days.
     * @defaultValue 0
     */
    maxBytes: z.number().int().nonnegative().default(0),
    /** Days to keep segments that overlap an event (longer than retainDays to be useful). @defaultValue 30 */
    eventRetainDays: z.number().positive().default(30),
    /**
     * Days per event label (a detector's label or an event tag such as "speech"), overriding
     * eventRetainDays for events that carry it; the longest of an event's labels wins. @defaultValue {}
     */
    labelRetainDays: z.record(z.string().min(1), z.number().positive()).default({}),
    /** Seconds before and after an event that its hold keeps as well. @defaultValue 5 */
    eventPaddingSeconds: z.number().nonnegative().max(600).default(5),
    /** How long a cut clip or export stays on disk for range requests (a browser seeking). @defaultValue 3600 */
    clipCacheSeconds: z.number().int().positive().default(3_600),
    /** Longest range `engram export` and GET /api/streams/:name/export cut, in seconds. @defaultValue 86400 */
    exportMaxSeconds: z.number().positive().default(86_400),
  })
  .strict()
  .prefault({});

export const ModelsSchema = z
  .object({
    /**
     * Execution provider: 'cuda' tries the CUDA provider (needs `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`)
     * and falls back to 'cpu' with a log line when it cannot start. @defaultValue 'cpu'
     */
    provider: z.enum(['cpu', 'cuda']).default('cpu'),
    /**
     * Threads inside one operator; 0 lets onnxruntime choose (one per core). One thread by default:
     * onnxruntime-node runs each call on the process's JavaScript thread, so a daemon perceiving
     * many streams gets its parallelism from one perceive process per core (perceive.processes), and on CPU a
     * call split over two threads cost 1.5-2x the CPU seconds of the same call on one (thread
     * hand-offs and spin-waiting; detector 0.12 vs 0.08, OCR text detection 0.20 vs 0.11,
     * blazeface 0.026 vs 0.012 on a quiet 2-core machine). Raise it for the lowest latency of a
     * single stream on an idle many-core machine. @defaultValue 1
     */
    intraOpThreads: z.number().int().nonnegative().default(1),
    /** Threads across independent operators; 0 lets onnxruntime choose. @defaultValue 0 */
    interOpThreads: z.number().int().nonnegative().default(0),
    /**
     * The object detector perceive runs on whole keyframes, by model name, when more than one is
     * installed: 'centernet-coco' (float) or 'centernet-coco-int8' (the same weights quantized by
     * `engram models convert`; models/runtime/DETECT-NOTES.md "int8" has what it gains and loses).
     * When the named one is not installed, another installed detector is used and a warning says so.
     * @defaultValue 'centernet-coco'
     */
    detector: z.string().min(1).default('centernet-coco'),
    /** onnxruntime graph optimisation level. @defaultValue 'all' */
    graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
    /**
     * Where fetched and converted models live, one folder per model. Relative paths are under the
     * data directory. @defaultValue 'models'
     */
    dir: z.string().min(1).default('models'),
    /**
     * Load the tiny models engram's test suite generates (manifest source 'generated'). They have
     * real models' signatures but produce nonsense on real footage, so a user's engram leaves them
     * out and warns about any it finds; only the test helpers turn this on. @defaultValue false
     */
    allowTestModels: z.boolean().default(false),
    batch: z
      .object({
        /** Most items one session call takes. @defaultValue 32 */
        maxSize: z.number().int().positive().default(32),
        /** Longest a request waits for others to join its batch. @defaultValue 5 */
        maxWaitMs: z.number().nonnegative().default(5),
      })
      .strict()
      .prefault({}),
    audio: z
      .object({
        /** Windows quieter than this (RMS, dBFS) count as silent. @defaultValue -40 */
        silenceDb: z.number().default(-40),
        /** Length of one audio-level window. @defaultValue 500 */
        windowMs: z.number().int().positive().default(500),
      })
      .strict()
      .prefault({}),
    vad: z
      .object({
        /** Speech probability at which a span opens. @defaultValue 0.5 */
        threshold: z.number().min(0).max(1).default(0.5),
        /** Silence that must pass before a span closes. @defaultValue 300 */
        minSilenceMs: z.number().int().nonnegative().default(300),
        /** Spans shorter than this are dropped. @defaultValue 250 */
        minSpeechMs: z.number().int().nonnegative().default(250),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const LlmSchema = z
  .object({
    /**
     * Base URL of an OpenAI-compatible API (the part before /chat/completions, e.g.
     * http://127.0.0.1:11434/v1). Unset: no LLM; summaries are extractive. @defaultValue undefined
     */
    baseUrl: z.string().url().optional(),
    /** Model name sent with every request. @defaultValue 'gpt-4o-mini' */
    model: z.string().min(1).default('gpt-4o-mini'),
    /** Bearer token for the endpoint; empty for none. Also ENGRAM_LLM__API_KEY. @defaultValue '' */
    apiKey: z.string().default(''),
    /** Time one request may take before it is abandoned. @defaultValue 30000 */
    timeoutMs: z.number().int().positive().default(30_000),
    /** Extra tries after a failed request (network error, 429, 5xx), with doubling backoff. @defaultValue 2 */
    retries: z.number().int().nonnegative().max(10).default(2),
    /** Whether the model accepts images: keyframes are sent as data URLs. @defaultValue false */
    vision: z.boolean().default(false),
    /**
     * After a failed summary, consolidation uses extractive summaries without asking the endpoint
     * for this long (MaintainMemory upgrades them later). @defaultValue 60000
     */
    failureCooldownMs: z.number().int().nonnegative().default(60_000),
    /** Most images sent with one summary request. @defaultValue 4 */
    maxImages: z.number().int().nonnegative().default(4),
  })
  .strict()
  .prefault({});

export const MemorySchema = z
  .object({
    /** Pattern completion: merge an event into the previous one above this cosine similarity. @defaultValue 0.92 */
    mergeSimilarity: z.number().min(0).max(1).default(0.92),
    /** Pattern completion: and only when the gap between them is at most this many seconds. @defaultValue 2 */
    mergeMaxGapSeconds: z.number().nonnegative().default(2),
    /** Pattern completion: never grow a merged event beyond this many seconds. @defaultValue 600 */
    mergeMaxSeconds: z.number().positive().default(600),
    /** Pattern separation: drop a moment whose vector is above this cosine to the last kept one. @defaultValue 0.98 */
    separationSimilarity: z.number().min(0).max(1).default(0.98),
    /**
     * Consolidation writes closed events in batches of at most this many (one merge-insert per
     * table per batch), from every stream this process holds jobs for. @defaultValue 32
     */
    consolidateBatchEvents: z.number().int().positive().default(32),
    /**
     * How long the first closed event of a batch waits for more before the batch is written; an
     * event reaches memory at most this much later than one at a time would. @defaultValue 200
     */
    consolidateBatchMs: z.number().int().nonnegative().default(200),
    /** Strength (days) of an event of zero salience; salience adds up to this again. @defaultValue 1 */
    baseStrengthDays: z.number().positive().default(1),
    /**
     * How stale a LanceDB read may be (seconds) relative to writes by other processes; 0 checks on
     * every read (cheap on a local directory, a request per read on object stores). @defaultValue 0
     */
    readConsistencySeconds: z.number().nonnegative().default(0),
    /** Strength (days) added each time a query recalls an event. @defaultValue 1 */
    reinforceDays: z.number().positive().default(1),
    /** Moments (perceptual detail) older than this are pruned; events stay. @defaultValue 30 */
    momentMaxAgeDays: z.number().positive().default(30),
    /** Moments of events whose retention exp(-elapsed/strength) fell below this are pruned. @defaultValue 0.05 */
    pruneRetentionBelow: z.number().min(0).max(1).default(0.05),
    /** Build a vector index on a table once it has this many rows. @defaultValue 10000 */
    vectorIndexMinRows: z.number().int().positive().default(10_000),
    /** Build the full-text index once the events table has this many rows. @defaultValue 256 */
    ftsIndexMinRows: z.number().int().positive().default(256),
    /** Rebuild an index when the table has grown by this factor since it was built. @defaultValue 2 */
    reindexGrowth: z.number().min(1.1).default(2),
    /** How far back BuildEpisodes (re)builds hour and day episodes. @defaultValue 48 */
    episodeLookbackHours: z.number().int().positive().default(48),
    /** Every: BuildEpisodes. @defaultValue 600000 */
    episodesEveryMs: z.number().int().positive().default(600_000),
    /** Every: MaintainMemory (decay, pruning, summary upgrades). @defaultValue 3600000 */
    maintainEveryMs: z.number().int().positive().default(3_600_000),
    /** Every: OptimizeTables (compaction, indexes). @defaultValue 3600000 */
    optimizeEveryMs: z.number().int().positive().default(3_600_000),
    /** Most extractive summaries MaintainMemory upgrades through the LLM per run. @defaultValue 50 */
    summaryUpgradesPerRun: z.number().int().nonnegative().default(50),
  })
  .strict()
  .prefault({});

/** One gated model: whether it is gated at all, and how long a carried result may stand. */
function modelGate(refreshSeconds: number) {
  return z
    .object({
      /** Gate this model; false runs it on every keyframe it applies to. @defaultValue true */
      enabled: z.boolean().default(true),
      /**
       * Longest stream time, seconds, a result is carried without running the model again, even on
       * an unchanged picture, so what stands still is re-confirmed. 0 runs it on every keyframe.
       */
      refreshSeconds: z.number().nonnegative().default(refreshSeconds),
    })
    .strict()
    .prefault({});
}

/**
 * Change gating (pipelines/perceive/gating.ts): a small grey copy of every keyframe is compared
 * with the picture each expensive model last ran on; where less than `minArea` of it changed and
 * the model's refresh interval has not passed, the keyframe carries that run's result (marked
 * `carried` in the perception record) instead of running the model. The per-stream state lives in
 * Redis, so any perceive worker on any host may take a stream's next chunk.
 */
export const GatingSchema = z
  .object({
    /** Width of the grey copy, pixels (height follows the frame's aspect). @defaultValue 64 */
    width: z.number().int().min(8).max(320).default(64),
    /**
     * Grey levels (0-255) a pixel of the grey copy must move, after the picture's median shift (up
     * to twice this: auto exposure, a passing cloud) is taken out, to count as changed. Re-encoding noise on the
     * sample footage stays under 6. @defaultValue 12
     */
    pixelThreshold: z.number().min(0).max(255).default(12),
    /**
     * Fraction of the grey copy that must have changed since a model's last run for it to run
     * again: 0.004 is 9 pixels of a 64x36 copy, a person far off in a 720p camera. @defaultValue 0.004
     */
    minArea: z.number().min(0).max(1).default(0.004),
    /** Weight of each keyframe in the running background behind the recorded change signal. @defaultValue 0.1 */
    backgroundAlpha: z.number().min(0).max(1).default(0.1),
    /**
     * The object detector (centernet-coco). With `crops` (and the centernet-coco-320 crop graph
     * installed), a run after a change small enough looks only at a window around the changed
     * pixels, at 320x320, and keeps the earlier detections clear of it (pipelines/perceive/
     * detect-window.ts); first runs, refreshes and large changes see the whole frame at 512x512.
     * @defaultValue { enabled: true, refreshSeconds: 10, crops: false }
     */
    detect: modelGate(10)
      .unwrap()
      .extend({
        /**
         * Detect on a window of the change with the crop graph where it fits (0.39x the CPU of a
         * whole-frame call). Off by default: detections near the score floor (top-down vehicles at
         * 0.12-0.15) come out differently on a window, and on car-detection.mp4 that lost the lane's
         * only car event (models/runtime/DETECT-NOTES.md). @defaultValue false
         */
        crops: z.boolean().default(false),
      })
      .prefault({}),
    /** Image embeddings (CLIP-family spaces; the visual signature always runs). @defaultValue { enabled: true, refreshSeconds: 10 } */
    image: modelGate(10),
    /**
     * OCR on keyframes due by ocrIntervalSeconds; when it runs, lines whose box and pixels did not
     * change keep their earlier reading instead of going through the recogniser again.
     * @defaultValue { enabled: true, refreshSeconds: 30 }
     */
    ocr: modelGate(30),
    /**
     * The face stage (blazeface, then faceres on the faces found). Where the object detector runs,
     * faces are looked for only on keyframes where its result (fresh or carried) has a person, and
     * of those only where the picture changed since the face stage last ran or refreshSeconds
     * passed; the rest carry that run's faces. Off: every keyframe, detector or not.
     * @defaultValue { enabled: true, refreshSeconds: 10 }
     */
    faces: modelGate(10),
    vad: z
      .object({
        /** Skip voice activity on chunks whose audio is below quietDbfs throughout. @defaultValue true */
        enabled: z.boolean().default(true),
        /**
         * Loudest level window (dBFS, the audio level windows) below which a chunk is taken as
         * holding no speech; below segment.silenceDbfs (-40) so quiet speech still reaches VAD. @defaultValue -50
         */
        quietDbfs: z.number().max(0).default(-50),
      })
      .strict()
      .prefault({}),
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
    /** Change-gated models: run the expensive models only where the picture changed (see GatingSchema). */
    gating: GatingSchema,
    /**
     * How many `engram worker perceive` processes `engram serve` starts and supervises when it runs
     * the perceive role: onnxruntime-node runs each model call synchronously on a process's
     * JavaScript thread, so one process uses one core (at `models.intraOpThreads` 1) and a plain
     * serve would leave the other cores idle. `auto`: one per core divided by
     * `models.intraOpThreads` (os.availableParallelism(); a single one when intraOpThreads is 0,
     * since onnxruntime then spreads each call over every core). 0: perceive inside the serve
     * process, as `engram worker perceive`, `engram ingest` and `engram demo` always do. The serve
     * process itself does not perceive when this is above 0: it runs ingest, segment, consolidate
     * and the API on its JavaScript thread, which a 0.1-0.6 s model call would stall.
     * @defaultValue 'auto'
     */
    processes: z.union([z.literal('auto'), z.number().int().nonnegative()]).default('auto'),
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
    /**
     * Distances seen before surprise may fire at all (per space). Small, so a cut a few seconds
     * into a stream is found; minDistance guards the first seconds against noise. @defaultValue 2
     */
    warmup: z.number().int().min(1).default(2),
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
    /**
     * How long a missing sequence number is waited for after nothing owes it any more (its
     * perceive job finished, failed for good or is gone) before it is a gap, ms. While its job is
     * waiting, running or due for a retry (a worker killed or frozen: up to the perceive queue's
     * lockDurationMs + stalledIntervalMs until it runs again) it is waited for however long that
     * takes, so this only covers a record appended just before its job settled. @defaultValue 5000
     */
    missingWaitMs: z.number().int().nonnegative().default(5_000),
    /** Short-term memory keeps about this many seconds (wall clock) of records per stream. @defaultValue 600 */
    shortTermSeconds: z.number().positive().default(600),
    /** Records one tick advances at most before saving state and yielding. @defaultValue 200 */
    maxRecordsPerTick: z.number().int().positive().default(200),
    /** Per-stream lock lifetime; a crashed worker's lock expires after this, ms. @defaultValue 30000 */
    lockTtlMs: z.number().int().positive().default(30_000),
    /**
     * Presence of a detector label, with hysteresis (see pipelines/segment/NOTES.md): a label enters
     * when detected on `hits` of the last `window` keyframes and leaves after `leaveSeconds` unseen;
     * either closes the open event and opens the next.
     */
    presence: z
      .object({
        /** Detections among the last `window` keyframes that make a label present. @defaultValue 2 */
        hits: z.number().int().positive().default(2),
        /** Keyframes the hits are counted over. @defaultValue 3 */
        window: z.number().int().positive().default(3),
        /** Seconds without a detection after which a present label has left. @defaultValue 3 */
        leaveSeconds: z.number().positive().default(3),
      })
      .strict()
      .refine((p) => p.hits <= p.window, { message: 'hits must not exceed window', path: ['hits'] })
      .prefault({}),
    /** The per-stream tracker that gives detections track ids (distinct counts, entries and exits). */
    tracks: z
      .object({
        /** Smallest overlap (IoU) of a detection with a track's last box that continues the track. @defaultValue 0.2 */
        iou: z.number().min(0).max(1).default(0.2),
        /**
         * Without overlap, largest distance between centres, in lengths of the larger box's
         * diagonal, that continues a track: at one keyframe a second a crossing car moves one to
         * two of its own lengths between keyframes. @defaultValue 2
         */
        centre: z.number().nonnegative().default(2),
        /** Seconds a track survives without a detection (a missed frame, a short occlusion). @defaultValue 3 */
        memorySeconds: z.number().nonnegative().default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const DetectSchema = z
  .object({
    /**
     * Run the object detector on keyframes when its model (centernet-coco, converted by setup) is
     * installed; false turns it off even then. @defaultValue true
     */
    enabled: z.boolean().default(true),
    /**
     * Labels kept, by COCO name ("person", "car", "traffic light"); empty keeps all 80. A label the
     * model does not know is reported at startup. @defaultValue []
     */
    labels: z.array(z.string().regex(/^[a-z][a-z ]{0,39}$/, 'a lower-case COCO label')).default([]),
    /**
     * Score a detection needs when its label has no threshold of its own. Background furniture
     * and gadgets the model half-sees score up to about 0.36 on the office footage. @defaultValue 0.4
     */
    minScore: z.number().min(0).max(1).default(0.4),
    /**
     * Per-label score thresholds, measured on real footage (models/runtime/DETECT-NOTES.md): people
     * in view score 0.55-0.84 and a hand alone 0.28; real bottles 0.26-0.59; vehicles seen from above
     * only 0.12-0.35 and nothing on an empty lane. @defaultValue { person: 0.35, bottle: 0.25, car: 0.12, truck: 0.12, bus: 0.12 }
     */
    thresholds: z.record(z.string().regex(/^[a-z][a-z ]{0,39}$/), z.number().min(0).max(1)).default({ person: 0.35, bottle: 0.25, car: 0.12, truck: 0.12, bus: 0.12 }),
    /** Overlap (IoU) above which the weaker of two boxes of the same label is dropped (non-maximum suppression). @defaultValue 0.5 */
    nmsIou: z.number().min(0).max(1).default(0.5),
    /**
     * Boxes of different labels overlapping more than this are one object: only the best label
     * stays (CenterNet scores each label on its own, and names one thing several ways). @defaultValue 0.7
     */
    sameObjectIou: z.number().min(0).max(1).default(0.7),
    /** Most detections kept per keyframe, best first. @defaultValue 50 */
    maxPerFrame: z.number().int().positive().max(100).default(50),
  })
  .strict()
  .prefault({});

export const FacesSchema = z
  .object({
    /**
     * Faces and identities: detect faces (blazeface), describe them (faceres) and cluster them into
     * people. All of it stays local (LanceDB tables `faces` and `people`, crops in the blob store);
     * false turns the whole feature off. @defaultValue true
     */
    enabled: z.boolean().default(true),
    /** BlazeFace score a face needs; frontal faces on the people clips score 0.85-0.95. @defaultValue 0.6 */
    minScore: z.number().min(0).max(1).default(0.6),
    /** Overlap (IoU) above which the weaker of two face boxes is dropped. @defaultValue 0.3 */
    nmsIou: z.number().min(0).max(1).default(0.3),
    /** Most faces kept per keyframe, best first. @defaultValue 10 */
    maxPerFrame: z.number().int().positive().max(100).default(10),
    /** Quality gate: smallest face box side, frame pixels; smaller faces describe poorly. @defaultValue 32 */
    minSize: z.number().nonnegative().default(32),
    /**
     * Quality gate: least sharpness (std of the grey Laplacian of the 224x224 aligned crop, grey
     * levels); sharp faces on the people clips measure 2.2-3.3 (the crop is upscaled). @defaultValue 1
     */
    minSharpness: z.number().nonnegative().default(1),
    /** Side of the aligned crop as a multiple of the face box's larger side. @defaultValue 1.2 */
    cropScale: z.number().min(0.8).max(3).default(1.2),
    /**
     * A sighting joins the identity whose centroid is nearer than this cosine distance, else it
     * starts a new identity. Measured on ../shared/media/people (README "Faces"). @defaultValue 0.3
     */
    assignDistance: z.number().min(0).max(2).default(0.3),
    /**
     * Inside one event, faces nearer than this to a group's mean are taken for one person before
     * the group is recognised by its mean (two faces on one keyframe are always two people). Looser
     * than assignDistance: single frames of one person lie up to 0.43 apart on the people clips,
     * and within an event the same place and minute make a second person the rarer case. @defaultValue 0.45
     */
    eventGroupDistance: z.number().min(0).max(2).default(0.45),
    /** The re-clustering pass merges identities whose centroids are nearer than this. @defaultValue 0.25 */
    mergeDistance: z.number().min(0).max(2).default(0.25),
    /** Faces of one identity on one stream further apart than this are separate sightings, seconds. @defaultValue 10 */
    sightingGapSeconds: z.number().positive().default(10),
    /** Also estimate age and gender with faceres's heads (stored nowhere but the face row). @defaultValue false */
    attributes: z.boolean().default(false),
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
    /**
     * How long a question's reinforcement waits for the memory write lock (consolidation batches and
     * maintenance hold it) before it is given up with a warning; the answer never waits for it, but
     * a one-shot `engram query` does before it exits. @defaultValue 30000
     */
    reinforceLockWaitMs: z.number().int().positive().default(30_000),
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
    ingest: IngestSchema,
    recordings: RecordingsSchema,
    models: ModelsSchema,
    llm: LlmSchema,
    memory: MemorySchema,
    perceive: PerceiveSchema,
    segment: SegmentSchema,
    detect: DetectSchema,
    faces: FacesSchema,
    api: ApiSchema,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type QueueOptions = Config['queues']['ingest'];
export type ApiConfig = Config['api'];
export type StorageConfig = Config['storage'];
export type IngestConfig = Config['ingest'];
export type RecordingsConfig = Config['recordings'];
export type ModelsConfig = Config['models'];
export type PerceiveOptions = Config['perceive'];
export type GatingOptions = Config['perceive']['gating'];
export type SegmentOptions = Config['segment'];
export type DetectOptions = Config['detect'];
export type FacesOptions = Config['faces'];
