// engram status: Redis, where long-term memory and blobs are (backend, reachable or not), queue
// counts, streams and models, as text or JSON.
import type { Command } from 'commander';
import { EngramError, isEngramError } from '../../config/errors.js';
import type { QueueCounts, QueueWorker } from '../../pipelines/repositories/queue.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import type { EngramContext } from '../runtime/context.js';
import { load, logger, printJson, withContext } from './common.js';
import { streamLine } from './streams.js';
import type { ModelStatus } from '../../models/runtime/model-repository.js';
import { modelStatus } from './models.js';
import type { LoadedConfig } from '../../config/load.js';
import { lanceBackend, probeLance } from '../../pipelines/repositories/lance-connect.js';
import { blobStore, lanceAccess, needsCommitLock, recordingRepository } from '../runtime/storage.js';

export interface StoreStatus {
  /** local, s3, gs, az... */
  backend: string;
  /** Directory, URI, or s3://bucket/prefix at endpoint. */
  location: string;
  ok: boolean;
  error?: string;
}

export interface StatusReport {
  redis: { url: string; managed: boolean; ok: boolean; error?: string };
  /** Long-term memory (LanceDB; commitLock: commits take the Redis lock) and blobs. */
  storage: { lancedb: StoreStatus & { commitLock: boolean }; blobs: StoreStatus };
  queues: Record<string, QueueCounts>;
  /** The worker processes connected to each queue now (host and pid), on every host. */
  workers: Record<string, QueueWorker[]>;
  /** Each stream with recordingBytes: its recording's bytes on disk (0 when not recorded). */
  streams: (StreamInfo & { recordingBytes: number })[];
  models: ModelStatus[];
}

async function streamsWithRecordings(context: EngramContext): Promise<StatusReport['streams']> {
  const redis = context.redis.connection('cli-status');
  const list = await new StreamRepository(redis, context.config.redis.prefix).list();
  const bytes = await recordingRepository(context.loaded, redis).bytes();
  return list.map((s) => ({ ...s, recordingBytes: bytes[s.name] ?? 0 }));
}

const PROBE_TIMEOUT_MS = 10_000;

async function probe(check: () => Promise<void>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS)))]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Which backend each store uses and whether it answers now; needs no Redis. */
export async function storageStatus(loaded: LoadedConfig): Promise<StatusReport['storage']> {
  const uri = loaded.paths.lancedbUri;
  const blobs = blobStore(loaded);
  const [lancedb, blobCheck] = await Promise.all([probe(() => probeLance(uri, lanceAccess(loaded).storageOptions ?? {})), probe(() => blobs.check())]);
  return {
    lancedb: { backend: lanceBackend(uri), location: uri, commitLock: needsCommitLock(loaded), ...lancedb },
    blobs: { backend: blobs.backend, location: blobs.location, ...blobCheck },
  };
}

/**
 * Exit status when Redis answered but LanceDB or the blob store did not: scripts and health
 * checks see the deployment is degraded, apart from 1 (status could not run: Redis is down) and
 * 2 (bad usage or configuration). The report is printed in full first.
 */
export const STORE_UNREACHABLE_EXIT = 3;

/** Throws (exit STORE_UNREACHABLE_EXIT) naming each store that did not answer. */
function failOnUnreachable(storage: StatusReport['storage']): void {
  const down = Object.entries(storage).filter(([, s]) => !s.ok).map(([name, s]) => `${name} (${s.backend} ${s.location}: ${s.error ?? 'no answer'})`);
  if (down.length > 0) throw new EngramError(`unreachable: ${down.join('; ')}`, { exitCode: STORE_UNREACHABLE_EXIT });
}

/** "2 (host-a: pids 10, 11; host-b: pid 12)", or "none". */
export function workersLine(list: QueueWorker[]): string {
  if (list.length === 0) return 'none';
  const byHost = new Map<string, number[]>();
  for (const w of list) byHost.set(w.host, [...(byHost.get(w.host) ?? []), w.pid]);
  const hosts = [...byHost].map(([host, pids]) => `${host}: ${pids.length === 1 ? 'pid' : 'pids'} ${pids.join(', ')}`);
  return `${list.length} (${hosts.join('; ')})`;
}

function storeLine(name: string, s: StoreStatus, extra = ''): string {
  return `${name}: ${s.backend} ${s.location}${extra} ${s.ok ? 'ok' : `UNREACHABLE: ${s.error ?? ''}`}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show Redis, the stores, queue counts, streams and models')
    .addHelpText('after', `\nExit status: 0 all reachable; 1 Redis unreachable (or another error); 2 bad usage or configuration;\n${STORE_UNREACHABLE_EXIT} Redis answered but LanceDB or the blob store did not (the report is printed first).`)
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = load(command);
      const log = logger(loaded, { cmd: 'status' });
      let report: StatusReport;
      const storage = await storageStatus(loaded);
      try {
        report = await withContext(loaded, log, async (context) => ({
          redis: { url: context.redis.url, managed: context.redis.managed !== undefined, ok: true },
          storage,
          queues: await context.queues.counts(),
          workers: await context.queues.allWorkers(),
          streams: await streamsWithRecordings(context),
          models: await modelStatus(loaded, log),
        }));
      } catch (error) {
        if (!isEngramError(error) || !options.json) throw error;
        report = {
          redis: { url: loaded.config.redis.url ?? 'managed', managed: !loaded.config.redis.url, ok: false, error: error.message },
          storage,
          queues: {},
          workers: {},
          streams: [],
          models: [],
        };
        printJson(report);
        throw error;
      }
      if (options.json) {
        printJson(report);
        failOnUnreachable(report.storage);
        return;
      }
      const lines = [
        `redis: ${report.redis.url} (${report.redis.managed ? 'managed by engram' : 'external'}) ok`,
        storeLine('lancedb', report.storage.lancedb, report.storage.lancedb.commitLock ? ' (commits under the Redis lock)' : ''),
        storeLine('blobs', report.storage.blobs),
        'queues:',
      ];
      for (const [name, c] of Object.entries(report.queues)) {
        lines.push(`  ${name.padEnd(12)} waiting ${c.waiting}  active ${c.active}  completed ${c.completed}  failed ${c.failed}  delayed ${c.delayed}`);
      }
      lines.push('workers:');
      for (const [name, list] of Object.entries(report.workers)) lines.push(`  ${name.padEnd(12)} ${workersLine(list)}`);
      lines.push(`streams: ${report.streams.length === 0 ? 'none' : report.streams.length}`);
      for (const stream of report.streams) lines.push(`  ${streamLine(stream)}`);
      lines.push('models:');
      for (const m of report.models) lines.push(`  ${m.name.padEnd(20)} ${m.installed ? 'installed' : 'not installed'}  checksum ${m.checksum}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      failOnUnreachable(report.storage);
    });
}
