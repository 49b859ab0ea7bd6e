// The process's Prometheus registry: stages and runtimes push what only they see (job duration
// as workers finish jobs, inference time and batch size as models run); the api role adds what
// it reads on each scrape (queue counts, stream lag, table rows) and serves the lot at /metrics.
// One registry per process: with `engram serve` every role shares it; a process that runs only
// `engram worker perceive` keeps its own numbers (scrape it separately, or run the api role with it).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();

// Process memory, CPU, event-loop lag and heap, under the standard process_* / nodejs_* names.
collectDefaultMetrics({ register: metricsRegistry });

const jobDuration = new Histogram({
  name: 'engram_job_duration_seconds',
  help: 'Time a job ran in a worker of this process, from processing start to finish, per queue',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [metricsRegistry],
});

const inferenceSeconds = new Histogram({
  name: 'engram_inference_seconds',
  help: 'Wall time of one model run (one batch), per model',
  labelNames: ['model'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

const inferenceBatch = new Histogram({
  name: 'engram_inference_batch_size',
  help: 'Inputs per model run, per model',
  labelNames: ['model'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  registers: [metricsRegistry],
});

const gatedKeyframes = new Counter({
  name: 'engram_perceive_gate_total',
  help: 'Keyframes a change-gated model ran on or carried its last result to, per gate (detect, ocr, image, faces) and outcome (ran, carried; region: of ran, looked only where the picture changed)',
  labelNames: ['gate', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Called by perceive for each keyframe a gated model applied to: whether it ran or carried its last result ('region': a run, counted in 'ran' too, that looked only where the picture changed). */
export function observeGate(gate: string, outcome: 'ran' | 'carried' | 'region', count = 1): void {
  if (count > 0) gatedKeyframes.inc({ gate, outcome }, count);
}

/** Called by the worker wiring when a job finishes (processedOn/finishedOn are BullMQ's ms stamps). */
export function observeJob(queue: string, outcome: 'completed' | 'failed', processedOn: number | undefined, finishedOn: number | undefined): void {
  if (processedOn === undefined || finishedOn === undefined || finishedOn < processedOn) return;
  jobDuration.observe({ queue, outcome }, (finishedOn - processedOn) / 1000);
}

/** Called by the model runtime after each run: how long it took and how many inputs it carried. */
export function observeInference(model: string, seconds: number, batchSize: number): void {
  inferenceSeconds.observe({ model }, seconds);
  inferenceBatch.observe({ model }, batchSize);
}
