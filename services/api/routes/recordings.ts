// Recordings of live streams over HTTP: GET /api/streams/:name/recordings lists what is recorded
// (spans of time, not files), GET /api/streams/:name/export?from=&to= cuts any range (across
// segments and gaps) into one MP4, and the event clip route of a live stream answers through
// sendRecording. Both honour Range so a browser can seek; gaps travel in headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ExportOutcome } from '../../../pipelines/recordings/export-range.js';
import { HttpError, notFound, unavailable } from '../http-errors.js';
import type { ApiDeps, RecordingsPort } from '../ports.js';
import { sendRanged } from '../range.js';
import { StreamNameSchema, TimeParam } from '../validation.js';

const NameParams = z.object({ name: StreamNameSchema }).strict();
const ExportQuery = z
  .object({ from: TimeParam, to: TimeParam })
  .strict()
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['from'] });

const SpansQuery = z
  .object({ from: TimeParam.optional(), to: TimeParam.optional() })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from must be before to', path: ['from'] });

export function recordingsPort(deps: ApiDeps): RecordingsPort {
  if (!deps.recordings) throw unavailable('recordings');
  return deps.recordings;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A request's AbortSignal that fires when the client hangs up before the answer is sent. */
export function hangUpSignal(reply: FastifyReply): AbortSignal {
  const hangUp = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) hangUp.abort(new Error('client went away'));
  });
  return hangUp.signal;
}

/** Sends an export's MP4 (200/206/416) with what it covers and its gaps in headers; 410/404 otherwise. */
export function sendRecording(request: FastifyRequest, reply: FastifyReply, outcome: ExportOutcome, what: string): Promise<FastifyReply> {
  if (outcome.status === 'pruned') {
    throw new HttpError(410, 'gone', `the recording of ${what} was deleted by retention (recordings.retainDays / maxBytes; deleted up to ${iso(outcome.prunedUntil)}); the event itself is kept`);
  }
  if (outcome.status === 'none') throw notFound(`nothing was recorded for ${what}`);
  const gaps = outcome.gaps.map((g) => ({ from: iso(g.wallFrom), to: iso(g.wallTo), seconds: Number(g.seconds.toFixed(3)), atS: Number(g.atS.toFixed(3)) }));
  reply
    .header('cache-control', 'private, max-age=3600')
    .header('x-engram-duration', outcome.durationS.toFixed(3))
    .header('x-engram-covered-from', iso(outcome.coveredFrom))
    .header('x-engram-covered-to', iso(outcome.coveredTo))
    .header('x-engram-segments', String(outcome.segments))
    .header('x-engram-gaps', JSON.stringify(gaps));
  return sendRanged(request, reply, { size: outcome.size, contentType: 'video/mp4', read: (range) => outcome.read(range) });
}

export function registerRecordings(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/streams/:name/recordings',
    {
      schema: {
        summary: 'What a live stream has recorded: spans of wall-clock time (a reconnect or retention starts a new one), optionally between two times',
        tags: ['streams'],
        params: NameParams,
        querystring: SpansQuery,
      },
    },
    async (request) => {
      const { name } = request.params as z.infer<typeof NameParams>;
      const { from, to } = request.query as z.infer<typeof SpansQuery>;
      const port = recordingsPort(deps);
      const { spans, prunedUntil } = await port.spans(name, from ?? 0, to ?? Number.MAX_SAFE_INTEGER);
      if (spans.length === 0 && prunedUntil === null && deps.streams && !(await deps.streams.get(name))) throw notFound(`no stream named "${name}"`);
      return {
        stream: name,
        spans: spans.map((x) => ({ from: iso(x.wallFrom), to: iso(x.wallTo), seconds: Number(((x.wallTo - x.wallFrom) / 1000).toFixed(3)), segments: x.segments, bytes: x.bytes })),
        prunedUntil: prunedUntil === null ? null : iso(prunedUntil),
      };
    },
  );
  app.get(
    '/api/streams/:name/export',
    { schema: { summary: 'An MP4 of a stream’s recording between two times (gaps in x-engram-gaps)', tags: ['streams'], params: NameParams, querystring: ExportQuery } },
    async (request, reply) => {
      const { name } = request.params as z.infer<typeof NameParams>;
      const { from, to } = request.query as z.infer<typeof ExportQuery>;
      const port = recordingsPort(deps);
      if ((to - from) / 1000 > port.exportMaxSeconds) {
        throw new HttpError(400, 'bad_request', `the range is ${((to - from) / 1000).toFixed(0)} s; at most recordings.exportMaxSeconds (${port.exportMaxSeconds} s) per export`);
      }
      const outcome = await port.export(name, from, to, hangUpSignal(reply));
      const file = `${name}-${iso(from).replace(/[:.]/g, '-')}.mp4`;
      reply.header('content-disposition', `attachment; filename="${file}"`);
      return sendRecording(request, reply, outcome, `stream "${name}" between ${iso(from)} and ${iso(to)}`);
    },
  );
}
