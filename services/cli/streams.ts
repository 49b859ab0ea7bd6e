// engram streams list | stop NAME: what is being ingested, and stopping it.
import type { Command } from 'commander';
import { StreamRepository, type StreamInfo } from '../../pipelines/repositories/streams.js';
import { load, logger, printJson, withContext } from './common.js';

/** Bytes for people: 1.2 GB, 350 MB, 12 kB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function streamLine(s: StreamInfo & { recordingBytes?: number }): string {
  const parts = [
    s.name.padEnd(20),
    s.state.padEnd(12),
    `${s.mediaTime.toFixed(1)} s`.padStart(10),
    s.live ? `lag ${s.lagS.toFixed(1)} s` : 'file',
    `chunks ${s.chunks}`,
    `dropped ${s.droppedFrames}`,
    `gaps ${s.gaps.length}`,
    ...(s.recordingBytes ? [`recorded ${formatBytes(s.recordingBytes)}`] : []),
    s.source,
  ];
  if (s.error) parts.push(`error: ${s.error}`);
  return parts.join('  ');
}

export function registerStreams(program: Command): void {
  const streams = program.command('streams').description('list or stop streams');
  streams
    .command('list')
    .description('list streams with state, media time, lag, drops and gaps')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = load(command);
      const list = await withContext(loaded, logger(loaded, { cmd: 'streams' }), async (context) =>
        new StreamRepository(context.redis.connection('cli-streams'), context.config.redis.prefix).list(),
      );
      if (options.json) printJson(list);
      else process.stdout.write(list.length === 0 ? 'no streams\n' : `${list.map(streamLine).join('\n')}\n`);
    });
  streams
    .command('stop')
    .description('stop a stream')
    .argument('<name>', 'stream name')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const loaded = load(command);
      const info = await withContext(loaded, logger(loaded, { cmd: 'streams' }), async (context) => {
        const repo = new StreamRepository(context.redis.connection('cli-streams'), context.config.redis.prefix, context.queues);
        await repo.stop(name);
        // Give a running job a moment to notice, so the answer shows the real state.
        const deadline = Date.now() + 5_000;
        for (;;) {
          const current = (await repo.get(name))!;
          if (['stopped', 'done', 'failed'].includes(current.state) || Date.now() > deadline) return current;
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      if (options.json) printJson(info);
      else process.stdout.write(`${info.name}: ${info.state}\n`);
    });
}
