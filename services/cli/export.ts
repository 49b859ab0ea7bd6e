// engram export STREAM --from T --to T -o FILE.mp4: a range of a live stream's recording as one
// MP4, across segment boundaries and gaps; the gaps are listed in the JSON it prints.
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { STREAM_NAME } from '../../pipelines/records/event.js';
import { exportRange } from '../../pipelines/recordings/export-range.js';
import { RecordingCutter } from '../../pipelines/repositories/recording-cuts.js';
import { recordingRepository } from '../runtime/storage.js';
import { load, logger, printJson, withContext } from './common.js';
import { parseTimeArg } from './events.js';
import { formatBytes } from './streams.js';

export interface ExportReport {
  stream: string;
  /** ISO times as asked. */
  from: string;
  to: string;
  file: string;
  bytes: number;
  /** Seconds of media in the file (gaps are skipped, not filled). */
  durationS: number;
  coveredFrom: string;
  coveredTo: string;
  segments: number;
  /** Parts of the range without recording; atS is where in the file the missing time would be. */
  gaps: { from: string; to: string; seconds: number; atS: number }[];
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a range of a live stream's recording to an MP4 file (gaps are listed)")
    .argument('<stream>', 'stream name')
    .requiredOption('--from <time>', 'start: ISO time or a span back from now (10m, 2h)')
    .requiredOption('--to <time>', 'end: ISO time or a span back from now (0s is now)')
    .requiredOption('-o, --output <file>', 'the MP4 file to write (replaced when it exists)')
    .option('--json', 'print JSON')
    .action(async (stream: string, options: { from: string; to: string; output: string; json?: boolean }, command: Command) => {
      if (!STREAM_NAME.test(stream)) throw new EngramError(`stream name "${stream}" must be 1-64 lower-case letters, digits, "-" or "_"`, { exitCode: 2 });
      const now = Date.now();
      const from = parseTimeArg(options.from, now, '--from');
      const to = parseTimeArg(options.to, now, '--to');
      if (!(from < to)) throw new EngramError(`--from (${new Date(from).toISOString()}) must be before --to (${new Date(to).toISOString()})`, { exitCode: 2 });
      const loaded = load(command);
      const max = loaded.config.recordings.exportMaxSeconds;
      if ((to - from) / 1000 > max) throw new EngramError(`the range is ${((to - from) / 1000).toFixed(0)} s; at most recordings.exportMaxSeconds (${max} s) per export`, { exitCode: 2 });
      const log = logger(loaded, { cmd: 'export' });
      const report = await withContext(loaded, log, async (context) => {
        const recordings = recordingRepository(context.loaded, context.redis.connection('cli-export'));
        const cutter = new RecordingCutter(recordings);
        const outcome = await exportRange(cutter.ports(), stream, from, to);
        const range = `stream "${stream}" between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`;
        if (outcome.status === 'pruned') throw new EngramError(`the recording of ${range} was deleted by retention (recordings.retainDays / maxBytes; up to ${new Date(outcome.prunedUntil).toISOString()})`);
        if (outcome.status === 'none') throw new EngramError(`nothing was recorded for ${range} (only live streams are recorded; engram streams list shows what exists)`);
        await cutter.saveAs(outcome, options.output);
        const iso = (ms: number) => new Date(ms).toISOString();
        return {
          stream,
          from: iso(from),
          to: iso(to),
          file: options.output,
          bytes: outcome.size,
          durationS: Number(outcome.durationS.toFixed(3)),
          coveredFrom: iso(outcome.coveredFrom),
          coveredTo: iso(outcome.coveredTo),
          segments: outcome.segments,
          gaps: outcome.gaps.map((g) => ({ from: iso(g.wallFrom), to: iso(g.wallTo), seconds: Number(g.seconds.toFixed(3)), atS: Number(g.atS.toFixed(3)) })),
        } satisfies ExportReport;
      });
      if (options.json) {
        printJson(report);
        return;
      }
      const gaps = report.gaps.length === 0 ? 'no gaps' : `${report.gaps.length} gap(s): ${report.gaps.map((g) => `${g.seconds.toFixed(1)} s at ${g.atS.toFixed(1)} s`).join(', ')}`;
      process.stdout.write(`${report.file}: ${report.durationS.toFixed(1)} s from ${report.segments} segment(s), ${formatBytes(report.bytes)}, ${gaps}\n`);
    });
}
