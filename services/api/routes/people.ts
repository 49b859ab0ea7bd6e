// People found by face clustering, and what a person does to them over HTTP: list (the JSON of
// `engram people list --json`), one person, name, merge two that are one person, forget one
// (descriptors and crops deleted), and face crops from the blob store (the best one, and each kept
// face, so a person can judge a merge by more than one picture).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { UnknownPersonError } from '../../../pipelines/repositories/people.js';
import { notFound, unavailable } from '../http-errors.js';
import type { ApiDeps, PeoplePort } from '../ports.js';
import type { PersonLine } from '../../runtime/person-line.js';

/** Person ids are UUIDs today; the pattern only keeps ids safe in paths and messages. */
const PersonId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a person id as GET /api/people (or engram people list) shows it');

const IdParams = z.object({ id: PersonId }).strict();

const NameBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'a name cannot be empty')
      .max(100, 'at most 100 characters')
      .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters (newlines, tabs)'),
  })
  .strict();

const MergeBody = z
  .object({
    /** The person that stays. */
    kept: PersonId,
    /** The person whose faces move into `kept`; it is gone afterwards. */
    absorbed: PersonId,
  })
  .strict()
  .refine((b) => b.kept !== b.absorbed, { message: 'kept and absorbed are the same person', path: ['absorbed'] });

const FaceParams = z.object({ id: PersonId, face: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a face id as GET /api/people/:id/faces shows it') }).strict();

async function sendCrop(deps: ApiDeps, reply: FastifyReply, path: string, what: string): Promise<FastifyReply> {
  if (!deps.blobs) throw unavailable('the blob store');
  const blob = await deps.blobs.open(path);
  if (!blob) throw notFound(`the crop of ${what} is gone`);
  // Merging or forgetting changes which crop is best, or removes it: always revalidate.
  return reply.type(blob.contentType).header('content-length', blob.size).header('cache-control', 'no-cache').send(blob.stream);
}

function port(deps: ApiDeps): PeoplePort {
  if (!deps.people) throw unavailable('people (face identities)');
  return deps.people;
}

/** An unknown id is the caller's 404, whichever operation found it. */
async function known<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UnknownPersonError) throw notFound(error.message.replace('engram people list', 'GET /api/people'));
    throw error;
  }
}

async function personOr404(people: PeoplePort, id: string): Promise<PersonLine> {
  const person = await people.get(id);
  if (!person) throw notFound(`no person with id "${id}" (GET /api/people lists them)`);
  return person;
}

export function registerPeople(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/people', { schema: { summary: 'People recognised by their faces, most recently seen first (as engram people list --json)', tags: ['people'] } }, async () => port(deps).list());

  app.get('/api/people/:id', { schema: { summary: 'One person', tags: ['people'], params: IdParams } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    return personOr404(port(deps), id);
  });

  app.patch('/api/people/:id', { schema: { summary: 'Name a person (questions such as “when did Alice come?” use it)', tags: ['people'], params: IdParams, body: NameBody } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const { name } = request.body as z.infer<typeof NameBody>;
    const people = port(deps);
    await known(() => people.name(id, name));
    return personOr404(people, id);
  });

  app.post('/api/people/merge', { schema: { summary: 'Two ids are one person: move every face of `absorbed` into `kept`', tags: ['people'], body: MergeBody } }, async (request) => {
    const { kept, absorbed } = request.body as z.infer<typeof MergeBody>;
    const people = port(deps);
    await known(() => people.merge(kept, absorbed));
    return personOr404(people, kept);
  });

  app.delete('/api/people/:id', { schema: { summary: 'Forget a person: the identity, every face descriptor and every face crop', tags: ['people'], params: IdParams } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const gone = await known(() => port(deps).forget(id));
    return { id, forgotten: true, ...gone };
  });

  app.get('/api/people/:id/faces', { schema: { summary: 'The person’s kept faces, best first: where and when each was seen (crops at /api/people/:id/faces/:face/crop)', tags: ['people'], params: IdParams } }, async (request) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const faces = await known(() => port(deps).faces(id));
    return faces.map(({ crop: _crop, wall, ...face }) => ({ ...face, seenAt: new Date(wall).toISOString() }));
  });

  app.get('/api/people/:id/faces/:face/crop', { schema: { summary: 'One face crop of the person', tags: ['people'], params: FaceParams } }, async (request, reply) => {
    const { id, face } = request.params as z.infer<typeof FaceParams>;
    const found = (await known(() => port(deps).faces(id))).find((f) => f.id === face);
    if (!found) throw notFound(`person "${id}" has no face "${face}"`);
    return sendCrop(deps, reply, found.crop, `face "${face}" of person "${id}"`);
  });

  app.get('/api/people/:id/crop', { schema: { summary: 'The person’s best face crop (the image type its blob has)', tags: ['people'], params: IdParams } }, async (request, reply) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const path = await known(() => port(deps).cropPath(id));
    if (!path) throw notFound(`person "${id}" has no face crop`);
    return sendCrop(deps, reply, path, `the best face of person "${id}"`);
  });
}
