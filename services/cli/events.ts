// engram events: lists the events in long-term memory (LanceDB), oldest first, as text or JSON.
// Reads LanceDB only; it needs no Redis and starts nothing else.
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { LABEL_NAME, MemoryStore, PERSON_ID, streamSinceUntil } from '../../pipelines/repositories/memory-store.js';
import { STREAM_NAME } from '../../pipelines/records/event.js';
import { load, printJson } from './common.js';
import { lanceAccess } from '../runtime/storage.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO time, or a span back from now like "90s", "10m", "2h", "3d", "1w". Epoch ms. */
export function parseTimeArg(value: string, now: number, flag: string): number {
  const text = value.trim();
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text);
  if (relative) return now - Number(relative[1]) * (UNITS[(relative[2] as string).toLowerCase()] as number);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new EngramError(`${flag} ${JSON.stringify(value)}: expected an ISO time (2026-01-31T08:00:00Z) or a span back from now (10m, 2h, 3d)`, { exitCode: 2 });
}

export interface EventLine {
  id: string;
  stream: string;
  /** Stream seconds. */
  start: number;
  end: number;
  /** ISO wall-clock times. */
  startedAt: string;
  endedAt: string;
  summary: string;
  transcript: string;
  ocr: string;
  tags: string[];
  thumbnail: string | null;
  /** Detector labels seen, with distinct and most-at-once counts, and tracks (enter/leave in stream seconds). */
  labels: string[];
  counts: Record<string, { distinct: number; max: number }>;
  tracks: { id: number; label: string; enter: number; leave: number; entered: boolean; left: boolean }[];
  /** Face identities seen (engram people list ids). */
  people: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('list the events in long-term memory, oldest first')
    .option('--stream <name>', 'only this stream')
    .option('--since <time>', 'events ending after this: ISO time or span back from now (10m, 2h, 3d)')
    .option('--until <time>', 'events starting before this: ISO time or span back from now')
    .option('--label <label>', 'only events where the detector saw this label (person, car, "traffic light"); repeat for any of several', collect)
    .option('--person <id>', 'only events where this face identity was seen (an id from engram people list); repeat for any of several', collect)
    .option('--limit <n>', 'most events to print', '1000')
    .option('--json', 'print JSON')
    .action(async (options: { stream?: string; since?: string; until?: string; label?: string[]; person?: string[]; limit: string; json?: boolean }, command: Command) => {
      const loaded = load(command);
      const now = Date.now();
      const problems: string[] = [];
      if (options.stream !== undefined && !STREAM_NAME.test(options.stream)) problems.push(`--stream ${JSON.stringify(options.stream)}: not a stream name (lower-case letters, digits, - and _)`);
      const labels = options.label?.map((l) => l.trim().toLowerCase());
      for (const [i, label] of (labels ?? []).entries()) {
        if (!LABEL_NAME.test(label)) problems.push(`--label ${JSON.stringify(options.label?.[i])}: not a detector label (words such as person, car, "traffic light")`);
      }
      for (const id of options.person ?? []) if (!PERSON_ID.test(id)) problems.push(`--person ${JSON.stringify(id)}: not a person id (engram people list shows them)`);
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit <= 0) problems.push(`--limit ${JSON.stringify(options.limit)}: expected a positive whole number`);
      if (problems.length > 0) throw new EngramError(problems.join('; '), { exitCode: 2 });
      const since = options.since === undefined ? undefined : parseTimeArg(options.since, now, '--since');
      const until = options.until === undefined ? undefined : parseTimeArg(options.until, now, '--until');
      const store = await MemoryStore.open(loaded.paths.lancedbUri, lanceAccess(loaded));
      let events;
      try {
        events = await store.listEvents({ ...streamSinceUntil({ stream: options.stream, since, until }), limit, ...(labels ? { labels } : {}), ...(options.person ? { people: options.person } : {}) });
      } finally {
        await store.close();
      }
      const lines: EventLine[] = events.map((e) => ({
        id: e.id,
        stream: e.stream,
        start: e.start,
        end: e.end,
        startedAt: new Date(e.startedAt).toISOString(),
        endedAt: new Date(e.endedAt).toISOString(),
        summary: e.summary,
        transcript: e.transcript,
        ocr: e.ocr,
        tags: e.tags,
        thumbnail: e.thumbnail,
        labels: e.labels,
        counts: e.counts,
        tracks: e.tracks.map((t) => ({ id: t.id, label: t.label, enter: t.enter, leave: t.leave, entered: t.entered, left: t.left })),
        people: e.people,
      }));
      if (options.json) {
        printJson(lines);
        return;
      }
      if (lines.length === 0) {
        process.stdout.write('no events\n');
        return;
      }
      const out = lines.map((e) => `${e.startedAt}  ${e.stream}  ${e.start.toFixed(1)}-${e.end.toFixed(1)}s  ${e.summary}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
