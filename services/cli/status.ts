// engram status: Redis, queue counts, streams and models, as text or JSON.
import type { Command } from 'commander';
import { isEngramError } from '../../config/errors.js';
import type { QueueCounts } from '../../pipelines/repositories/queue.js';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { RecordingRepository } from '../../pipelines/repositories/recordings.js';
import type { EngramContext } from '../runtime/context.js';
import { load, logger, printJson, withContext } from './common.js';
import { streamLine } from './streams.js';
import type { ModelStatus } from '../../models/runtime/model-repository.js';
import { modelStatus } from './models.js';

export interface StatusReport {
  redis: { url: string; managed: boolean; ok: boolean; error?: string };
  queues: Record<string, QueueCounts>;
  /** Each stream with recordingBytes: its recording's bytes on disk (0 when not recorded). */
  streams: (StreamInfo & { recordingBytes: number })[];
  models: ModelStatus[];
}

async function streamsWithRecordings(context: EngramContext): Promise<StatusReport['streams']> {
  const redis = context.redis.connection('cli-status');
  const list = await new StreamRepository(redis, context.config.redis.prefix).list();
  const bytes = await RecordingRepository.local(redis, context.config.redis.prefix, context.paths.recordingsDir).bytes();
  return list.map((s) => ({ ...s, recordingBytes: bytes[s.name] ?? 0 }));
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show Redis, queue counts, streams and models')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = load(command);
      const log = logger(loaded, { cmd: 'status' });
      let report: StatusReport;
      try {
        report = await withContext(loaded, log, async (context) => ({
          redis: { url: context.redis.url, managed: context.redis.managed !== undefined, ok: true },
          queues: await context.queues.counts(),
          streams: await streamsWithRecordings(context),
          models: await modelStatus(loaded, log),
        }));
      } catch (error) {
        if (!isEngramError(error) || !options.json) throw error;
        report = {
          redis: { url: loaded.config.redis.url ?? 'managed', managed: !loaded.config.redis.url, ok: false, error: error.message },
          queues: {},
          streams: [],
          models: [],
        };
        printJson(report);
        throw error;
      }
      if (options.json) {
        printJson(report);
        return;
      }
      const lines = [`redis: ${report.redis.url} (${report.redis.managed ? 'managed by engram' : 'external'}) ok`, 'queues:'];
      for (const [name, c] of Object.entries(report.queues)) {
        lines.push(`  ${name.padEnd(12)} waiting ${c.waiting}  active ${c.active}  completed ${c.completed}  failed ${c.failed}  delayed ${c.delayed}`);
      }
      lines.push(`streams: ${report.streams.length === 0 ? 'none' : report.streams.length}`);
      for (const stream of report.streams) lines.push(`  ${streamLine(stream)}`);
      lines.push('models:');
      for (const m of report.models) lines.push(`  ${m.name.padEnd(20)} ${m.installed ? 'installed' : 'not installed'}  checksum ${m.checksum}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
