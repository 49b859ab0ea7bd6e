// POST /api/query: the same answer JSON as `engram query --json`, within api.queryTimeoutMs
// (504 after), rate limited per key or address, and cancelled when the caller hangs up.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiConfig } from '../../../config/schema.js';
import { HttpError, unavailable } from '../http-errors.js';
import type { ApiDeps } from '../ports.js';
import { StreamNameSchema, TimeParam } from '../validation.js';

export const QueryBody = z
  .object({
    question: z
      .string()
      .max(2000)
      .transform((s) => s.trim())
      .refine((s) => s.length > 0, 'ask a question: text is empty'),
    stream: StreamNameSchema.optional(),
    /** Wall-clock bounds, ISO 8601 or epoch ms; time words in the question work too ("this morning"). */
    since: TimeParam.optional(),
    until: TimeParam.optional(),
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
      const hangUp = new AbortController();
      const onClose = () => {
        if (!request.raw.complete || !request.raw.socket?.writable) hangUp.abort(new Error('client went away'));
      };
      request.raw.socket?.once('close', onClose);
      const timeout = AbortSignal.timeout(config.queryTimeoutMs);
      const signal = AbortSignal.any([timeout, hangUp.signal]);
      try {
        const input = { question: body.question, ...(body.stream ? { stream: body.stream } : {}), ...(body.since !== undefined ? { since: body.since } : {}), ...(body.until !== undefined ? { until: body.until } : {}) };
        // Race the signal too: an answer function that ignores it still cannot hold the request.
        return await new Promise<unknown>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          deps.query!.answer(input, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
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
