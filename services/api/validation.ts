// Request validation with zod: route schemas are zod objects, Fastify runs them through this
// compiler, and a failure is a 400 whose message names the field (`body.question: …`). The same
// schemas become JSON Schema for the OpenAPI document.
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { STREAM_NAME } from '../../pipelines/records/event.js';

export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  /** The fields at fault, as dotted paths beginning with the request part (body, querystring, params). */
  readonly fields: string[];
  constructor(problems: { field: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.fields = problems.map((p) => p.field);
  }
}

function partName(httpPart: string | undefined): string {
  return httpPart === 'querystring' ? 'query' : (httpPart ?? 'request');
}

export function describeZodError(error: z.ZodError, part: string): { field: string; message: string }[] {
  return error.issues.slice(0, 10).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = [part, ...issue.path.map(String)].join('.');
      return { field: issue.keys.map((k) => `${where}.${k}`).join(', '), message: `unknown field${issue.keys.length > 1 ? 's' : ''}` };
    }
    return { field: [part, ...issue.path.map(String)].join('.'), message: issue.message };
  });
}

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new RequestValidationError(describeZodError(result.error, partName(httpPart))) };
  };
};

function isZod(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType;
}

/** @fastify/swagger transform: zod schemas in, JSON Schema out (unknown keys stay as they are). */
export function zodToOpenApi({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    out[key] = isZod(value) ? z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' }) : value;
  }
  return { schema: out as FastifySchema, url };
}

/** Query-string numbers arrive as text: decimal digits only (Number() would also take 0x10, 1e3 or ''). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,16}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const TIME_HELP = 'expected an ISO 8601 time (2026-11-28T09:00:00Z) or epoch milliseconds';

const TimeText = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const ms = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: TIME_HELP });
      return z.NEVER;
    }
    return ms;
  });

/** ISO 8601 text or epoch milliseconds (a number in JSON, digits in a query string), to epoch milliseconds. */
export const TimeParam = z.union([z.number().int().min(0).max(1e15), TimeText], { error: TIME_HELP });

export const StreamNameSchema = z.string().regex(STREAM_NAME, 'a stream name: 1-64 lower-case letters, digits, - and _, starting with a letter or digit');
