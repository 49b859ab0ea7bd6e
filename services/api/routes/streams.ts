// Streams: add a camera, microphone or file by name and URL, list them with state, lag, dropped
// frames and gaps, stop one. The ingest role does the work; these routes only validate and relay.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, unavailable } from '../http-errors.js';
import type { ApiDeps, StreamsPort } from '../ports.js';
import { StreamNameSchema } from '../validation.js';

const AddStreamBody = z
  .object({
    name: StreamNameSchema,
    /** Where to read from: a file path, file://, rtsp://, http(s)://, tcp://, a device, or - (stdin). */
    url: z.string().min(1).max(2048).refine((s) => !/[\0\r\n]/.test(s), 'no control characters'),
    /** Treat as live (drop frames when behind, reconnect); omitted: ingest decides by probing. */
    live: z.boolean().optional(),
  })
  .strict();

const NameParams = z.object({ name: StreamNameSchema }).strict();

function port(deps: ApiDeps): StreamsPort {
  if (!deps.streams) throw unavailable('stream management (the ingest role)');
  return deps.streams;
}

export function registerStreams(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/streams', { schema: { summary: 'Add a stream and start ingesting it', tags: ['streams'], body: AddStreamBody } }, async (request, reply) => {
    const body = request.body as z.infer<typeof AddStreamBody>;
    const stream = await port(deps).add({ name: body.name, source: body.url, ...(body.live === undefined ? {} : { live: body.live }) });
    return reply.status(201).send(stream);
  });

  app.get('/api/streams', { schema: { summary: 'List streams with state, lag, drops and gaps', tags: ['streams'] } }, async () => ({ streams: await port(deps).list() }));

  app.get('/api/streams/:name', { schema: { summary: 'One stream', tags: ['streams'], params: NameParams } }, async (request) => {
    const { name } = request.params as z.infer<typeof NameParams>;
    const stream = await port(deps).get(name);
    if (!stream) throw notFound(`no stream named "${name}"`);
    return stream;
  });

  app.delete('/api/streams/:name', { schema: { summary: 'Stop ingesting a stream (its memory stays)', tags: ['streams'], params: NameParams } }, async (request) => {
    const { name } = request.params as z.infer<typeof NameParams>;
    if (!(await port(deps).stop(name))) throw notFound(`no stream named "${name}"`);
    return { stopped: name };
  });
}
