// GET /metrics: Prometheus text. Counters pushed by this process's workers and models live in
// pipelines/metrics.ts; queue counts, stream lag and drops and table rows are read at scrape time.
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { metricsRegistry } from '../../../pipelines/metrics.js';
import type { ApiDeps, StreamView } from '../ports.js';

function scrapeRegistry(deps: ApiDeps, app: FastifyInstance): Registry {
  const registry = new Registry();
  // A scrape must not fail because one source is down: its series are left out and the log says why.
  const log = (what: string, error: unknown) => app.log.warn({ err: error }, `metrics: cannot read ${what}`);
  new Gauge({
    name: 'engram_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed, completed kept)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const [queue, counts] of Object.entries(await deps.queues.counts())) {
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
        }
      } catch (error) {
        log('queues', error);
      }
    },
  });
  new Gauge({
    name: 'engram_queue_recent_job_duration_seconds',
    help: 'Mean run time of the most recent completed jobs per queue, from BullMQ timestamps (all processes)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const [queue, seconds] of Object.entries(await deps.queues.recentDurations())) if (seconds !== null) this.set({ queue }, seconds);
      } catch (error) {
        log('durations', error);
      }
    },
  });
  new Gauge({
    name: 'engram_queue_workers',
    help: 'Worker processes connected to each queue, on every host (perceive: one per process engram serve supervises)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const [queue, list] of Object.entries(await deps.queues.workers())) this.set({ queue }, list.length);
      } catch (error) {
        log('workers', error);
      }
    },
  });
  const streamGauge = (name: string, help: string, pick: (s: StreamView) => number | null | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['stream'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        if (!deps.streams) return;
        try {
          for (const s of await deps.streams.list()) {
            const value = pick(s);
            if (typeof value === 'number' && Number.isFinite(value)) this.set({ stream: s.name }, value);
          }
        } catch (error) {
          log('streams', error);
        }
      },
    });
  streamGauge('engram_stream_lag_seconds', 'How far behind real time ingest is, per stream', (s) => s.lagS);
  streamGauge('engram_stream_dropped_frames', 'Frames dropped so far because perception fell behind, per stream', (s) => s.droppedFrames);
  streamGauge('engram_recording_bytes', 'Bytes of the stream’s recording segments on disk (live streams)', (s) => s.recordingBytes);
  streamGauge('engram_stream_gaps', 'Gaps (disconnections) recorded so far, per stream', (s) => s.gaps.length);
  new Gauge({
    name: 'engram_table_rows',
    help: 'Rows per LanceDB table',
    labelNames: ['table'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!deps.events) return;
      try {
        for (const [table, rows] of Object.entries(await deps.events.tableRows())) this.set({ table }, rows);
      } catch (error) {
        log('tables', error);
      }
    },
  });
  new Gauge({
    name: 'engram_model_installed',
    help: 'Models the catalog knows: 1 when installed, with the execution provider once it ran',
    labelNames: ['model', 'task', 'provider'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!deps.models) return;
      try {
        for (const m of await deps.models.status()) this.set({ model: m.name, task: m.task, provider: m.provider ?? 'none' }, m.installed ? 1 : 0);
      } catch (error) {
        log('models', error);
      }
    },
  });
  return Registry.merge([metricsRegistry, registry]);
}

export function registerMetrics(app: FastifyInstance, deps: ApiDeps): void {
  const registry = scrapeRegistry(deps, app);
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['metrics'] } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
