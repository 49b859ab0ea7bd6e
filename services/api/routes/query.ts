// POST /api/query: the same answer JSON as `engram query --json`, within api.queryTimeoutMs
// (504 after), rate limited per key or address, and cancelled when the caller hangs up.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiConfig } from '../../../config/schema.js';
import { HttpError, unavailable } from '../http-errors.js';
import type { ApiDeps } from '../ports.js';
import { RequestValidationError, StreamNameSchema } from '../validation.js';

const TimeBound = z.union([
  z.number().int().min(0).max(1e15),
  z
    .string()
    .min(1)
    .max(64)
    .refine((s) => !/[\0\r\n]/.test(s), 'no control characters'),
]);

export const QueryBody = z
  .object({
    question: z
      .string()
      .max(2000)
      .transform((s) => s.trim())
      .refine((s) => s.length > 0, 'ask a question: text is empty'),
    stream: StreamNameSchema.optional(),
    /** Wall-clock bounds: epoch ms, or text as `engram query --since` takes it (ISO, HH:MM, 2pm, yesterday, 10m). */
    since: TimeBound.optional(),
    until: TimeBound.optional(),
  })
  .strict();

export function registerQuery(app: FastifyInstance, deps: ApiDeps, config: ApiConfig): void {
  app.post(
    '/api/query',
    {
      config: { rateLimit: { max: config.queryRateMax, timeWindow: config.queryRateWindowMs } },
      schema: { summary: 'Ask a question about the past; the answer cites its evidence', tags: ['query'], body: QueryBody },
    },
    async (request) => {
      if (!deps.query) throw unavailable('question answering (the reason role)');
      const body = request.body as z.infer<typeof QueryBody>;
      const query = deps.query;
      const now = Date.now();
      const bound = (field: 'since' | 'until') => {
        const value = body[field];
        if (value === undefined || typeof value === 'number') return value;
        const ms = query.parseTime(value, now);
        if (ms === undefined) throw new RequestValidationError([{ field: `body.${field}`, message: `"${value}" is not a time (ISO date or date-time, HH:MM, 2pm, yesterday, or a duration back like 10m, 2h, 3d)` }]);
        return ms;
      };
      const since = bound('since');
      const until = bound('until');
      const hangUp = new AbortController();
      const onClose = () => {
        if (!request.raw.complete || !request.raw.socket?.writable) hangUp.abort(new Error('client went away'));
      };
      request.raw.socket?.once('close', onClose);
      const timeout = AbortSignal.timeout(config.queryTimeoutMs);
      const signal = AbortSignal.any([timeout, hangUp.signal]);
      try {
        const input = { question: body.question, now, ...(body.stream ? { stream: body.stream } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
        // Race the signal too: an answer function that ignores it still cannot hold the request.
        return await new Promise<unknown>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          query.answer(input, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
        });
      } catch (error) {
        if (timeout.aborted) throw new HttpError(504, 'timeout', `no answer within ${config.queryTimeoutMs} ms (api.queryTimeoutMs)`);
        throw error;
      } finally {
        request.raw.socket?.removeListener('close', onClose);
      }
    },
  );
}
