// POST /api/query: the same answer JSON as `engram query --json`, within api.queryTimeoutMs
// (504 after), rate limited per key or address, and cancelled when the caller hangs up.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ExampleError } from '../../../config/errors.js';
import type { ApiConfig } from '../../../config/schema.js';
import { MAX_EXAMPLE_BYTES } from '../../../pipelines/repositories/example-media.js';
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

/** What an example's data URL may declare: any image for `image`; a sound, or a video's sound, for `audio`. */
const EXAMPLE_TYPES = { image: /^image\//, audio: /^(audio|video)\// } as const;
const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A query-by-example file as a data URL (`data:image/png;base64,...`, what a browser's
 * FileReader.readAsDataURL gives), decoded here to its bytes; the type must fit the field, the
 * payload must be strict base64 and the bytes at most the CLI's MAX_EXAMPLE_BYTES. Whether ffmpeg
 * can decode them is found out when the question is answered (a 400 on the same field).
 */
function exampleField(kind: keyof typeof EXAMPLE_TYPES) {
  return z
    .string()
    .meta({ description: `query by example: the ${kind} file as a data URL, data:<${kind === 'image' ? 'image' : 'audio or video'} type>;base64,<bytes> (at most ${MAX_EXAMPLE_BYTES / 1048576} MiB, within api.bodyLimitBytes)` })
    .transform((text, ctx) => {
      const head = DATA_URL.exec(text.slice(0, 200));
      if (!head) {
        ctx.addIssue({ code: 'custom', message: `expected a data URL: data:<type>;base64,<bytes> (e.g. data:${kind === 'image' ? 'image/png' : 'audio/wav'};base64,...)` });
        return z.NEVER;
      }
      const type = (head[1] as string).toLowerCase();
      if (!EXAMPLE_TYPES[kind].test(type)) {
        ctx.addIssue({ code: 'custom', message: `the data URL declares ${type}; ${kind === 'image' ? 'an image/* type' : 'an audio/* or video/* type'} is expected here` });
        return z.NEVER;
      }
      const payload = text.slice(head[0].length);
      if (payload.length % 4 !== 0 || !BASE64.test(payload)) {
        ctx.addIssue({ code: 'custom', message: 'the data after "base64," is not valid base64' });
        return z.NEVER;
      }
      const bytes = Buffer.from(payload, 'base64');
      if (bytes.length === 0) {
        ctx.addIssue({ code: 'custom', message: `the ${kind} file is empty` });
        return z.NEVER;
      }
      if (bytes.length > MAX_EXAMPLE_BYTES) {
        ctx.addIssue({ code: 'custom', message: `the ${kind} file is ${(bytes.length / 1048576).toFixed(1)} MiB; examples are limited to ${MAX_EXAMPLE_BYTES / 1048576} MiB` });
        return z.NEVER;
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    });
}

export const QueryBody = z
  .object({
    /** The question in plain words; may be left out when an image or audio example is given. */
    question: z
      .string()
      .max(2000)
      .transform((s) => s.trim())
      .optional(),
    stream: StreamNameSchema.optional(),
    /** Wall-clock bounds: epoch ms, or text as `engram query --since` takes it (ISO, HH:MM, 2pm, yesterday, 10m). */
    since: TimeBound.optional(),
    until: TimeBound.optional(),
    image: exampleField('image').optional(),
    audio: exampleField('audio').optional(),
    /** A photo of a face, as a data URL: "when was this person here?" (engram query --face). */
    face: exampleField('image').optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (!body.question && body.image === undefined && body.audio === undefined && body.face === undefined) {
      ctx.addIssue({ code: 'custom', path: ['question'], message: 'ask a question: text is empty (or give an image or audio example)' });
    }
  });

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
        const input = {
          question: body.question ?? '',
          now,
          ...(body.stream ? { stream: body.stream } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(body.image !== undefined ? { image: body.image } : {}),
          ...(body.audio !== undefined ? { audio: body.audio } : {}),
          ...(body.face !== undefined ? { face: body.face } : {}),
        };
        // Race the signal too: an answer function that ignores it still cannot hold the request.
        return await new Promise<unknown>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          query.answer(input, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
        });
      } catch (error) {
        if (timeout.aborted) throw new HttpError(504, 'timeout', `no answer within ${config.queryTimeoutMs} ms (api.queryTimeoutMs)`);
        // An example ffmpeg cannot decode, or one no installed model can embed: the field is at fault.
        if (error instanceof ExampleError) throw new RequestValidationError([{ field: `body.${error.example}`, message: error.message }]);
        throw error;
      } finally {
        request.raw.socket?.removeListener('close', onClose);
      }
    },
  );
}
