// Events from long-term memory: list (by stream and wall-clock time, paged), one event, its
// thumbnail, and an MP4 clip of it: cut from the stream's source file, or from the recording of a
// live stream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiConfig } from '../../../config/schema.js';
import { isEngramError } from '../../../config/errors.js';
import type { StoredEvent } from '../../../pipelines/records/event.js';
import { HttpError, conflict, notFound, unavailable } from '../http-errors.js';
import type { ApiDeps, EventsPort } from '../ports.js';
import { LABEL_NAME, PERSON_ID } from '../../../pipelines/repositories/memory-schema.js';
import { StreamNameSchema, TimeParam, queryInt } from '../validation.js';
import { hangUpSignal, sendRecording } from './recordings.js';
import { sendRanged } from '../range.js';

const LabelSchema = z.string().regex(LABEL_NAME, 'a detector label such as "person", "car" or "traffic light"');

const PersonSchema = z.string().regex(PERSON_ID, 'a person id from /api/people or engram people list');

const ListQuery = z
  .object({
    stream: StreamNameSchema.optional(),
    since: TimeParam.optional(),
    until: TimeParam.optional(),
    /** ?label=person, or repeated (?label=car&label=truck) for any of several. */
    label: z.union([LabelSchema, z.array(LabelSchema).min(1).max(80)]).optional(),
    /** ?person=ID, or repeated, for events where any of these face identities was seen. */
    person: z.union([PersonSchema, z.array(PersonSchema).min(1).max(100)]).optional(),
    limit: queryInt(1, 500).default(50),
    offset: queryInt(0, 1_000_000).default(0),
  })
  .strict()
  .refine((q) => q.since === undefined || q.until === undefined || q.since <= q.until, { message: 'since is after until', path: ['since'] });

/** Event ids are `${stream}.${ms}`: the stream-name alphabet plus dots. */
const IdParams = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,127}$/, 'an event id like "kitchen.0000012000"') }).strict();

function port(deps: ApiDeps): EventsPort {
  if (!deps.events) throw unavailable('long-term memory');
  return deps.events;
}

async function eventOr404(deps: ApiDeps, id: string): Promise<StoredEvent> {
  const event = await port(deps).get(id);
  if (!event) throw notFound(`no event with id "${id}"`);
  return event;
}

export function registerEvents(app: FastifyInstance, deps: ApiDeps, config: ApiConfig): void {
  app.get('/api/events', { schema: { summary: 'Events, newest first, by stream and wall-clock time', tags: ['events'], querystring: ListQuery } }, async (request) => {
    const q = request.query as z.infer<typeof ListQuery>;
    const events = await port(deps).list({
      limit: q.limit,
      offset: q.offset,
      ...(q.stream ? { stream: q.stream } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      ...(q.label !== undefined ? { labels: typeof q.label === 'string' ? [q.label] : q.label } : {}),
      ...(q.person !== undefined ? { people: typeof q.person === 'string' ? [q.person] : q.person } : {}),
    });
    return { events, limit: q.limit, offset: q.offset, next: events.length === q.limit ? q.offset + q.limit : null };
  });

  app.get('/api/events/:id', { schema: { summary: 'One event', tags: ['events'], params: IdParams } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    return eventOr404(deps, id);
  });

  app.get('/api/events/:id/thumbnail', { schema: { summary: 'The event’s representative JPEG (Range requests read part of it)', tags: ['events'], params: IdParams } }, async (request, reply) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const event = await eventOr404(deps, id);
    if (!event.thumbnail) throw notFound(`event "${id}" has no thumbnail`);
    const blobs = deps.blobs;
    if (!blobs) throw unavailable('the blob store');
    const ref = event.thumbnail;
    const gone = () => notFound(`the thumbnail of event "${id}" is gone (pruned or never written)`);
    const info = await blobs.stat(ref);
    if (!info) throw gone();
    // An event's thumbnail never changes once written.
    reply.header('cache-control', 'private, max-age=86400');
    return sendRanged(request, reply, {
      size: info.size,
      contentType: info.contentType,
      async read(range) {
        const blob = await blobs.open(ref, range);
        if (!blob) throw gone();
        return blob.stream;
      },
    });
  });

  app.get('/api/events/:id/detections', { schema: { summary: 'The detector’s boxes on the keyframe shown as the event’s thumbnail, with that keyframe’s size', tags: ['events'], params: IdParams } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const event = await eventOr404(deps, id);
    return { eventId: event.id, thumbnail: event.thumbnail, ...(await port(deps).thumbnailDetections(event)) };
  });

  app.get('/api/events/:id/clip', { schema: { summary: 'An MP4 of the event: cut from a file source, or from a live stream’s recording (Range requests seek)', tags: ['events'], params: IdParams } }, async (request, reply) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const event = await eventOr404(deps, id);
    if (!deps.clips) throw unavailable('clip cutting');
    const path = await deps.clips.sourcePath(event.stream);
    if (!path) return liveClip(deps, config, event, request, reply);
    const duration = Math.min(Math.max(event.end - event.start, 0.5), config.clipMaxSeconds);
    let clip;
    try {
      clip = await deps.clips.cut({ path, start: Math.max(0, event.start), duration, signal: hangUpSignal(reply) });
    } catch (error) {
      if (isEngramError(error)) throw new HttpError(422, 'unprocessable', error.message);
      throw error;
    }
    return reply.type(clip.contentType).header('cache-control', 'private, max-age=3600').send(clip.stream);
  });
}

/** A live stream's event, cut from its recording by wall-clock time. */
async function liveClip(deps: ApiDeps, config: ApiConfig, event: StoredEvent, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!deps.recordings) throw conflict(`stream "${event.stream}" is not a file source and this engram process has no recordings to cut from`);
  const to = Math.min(event.endedAt, event.startedAt + config.clipMaxSeconds * 1000);
  const from = event.startedAt;
  let outcome;
  try {
    outcome = await deps.recordings.export(event.stream, from, Math.max(to, from + 500), hangUpSignal(reply));
  } catch (error) {
    if (isEngramError(error)) throw new HttpError(422, 'unprocessable', error.message);
    throw error;
  }
  // The end of a just-closed event may still be in the segment ffmpeg is writing.
  const short = outcome.status === 'none' || (outcome.status === 'ok' && outcome.coveredTo < to - 1_000);
  if (short && deps.streams) {
    const stream = await deps.streams.get(event.stream);
    if (stream && ['running', 'starting', 'reconnecting'].includes(stream.state) && Date.now() - to < 2 * deps.recordings.segmentSeconds * 1000 + 5_000) {
      const retry = Math.ceil(deps.recordings.segmentSeconds);
      reply.header('retry-after', String(retry));
      throw new HttpError(503, 'recording', `the end of event "${event.id}" is still being recorded; its segment is indexed within ${retry} s`);
    }
  }
  if (outcome.status === 'none') throw notFound(`event "${event.id}" has no clip: stream "${event.stream}" is not a known file source and nothing was recorded for it`);
  return sendRecording(request, reply, outcome, `event "${event.id}"`);
}
