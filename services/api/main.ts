// The api role's composition root: adapts the process's repositories to the routes' ports,
// builds the server and listens on api.host:api.port until the process stops.
import type { AddressInfo } from 'node:net';
import { BlobPathError, sourceBlobPrefix } from '../../pipelines/repositories/blob-store.js';
import { ClipRepository } from '../../pipelines/repositories/clips.js';
import { HealthProbes } from '../../pipelines/repositories/health.js';
import { LiveSubscriber } from '../../pipelines/repositories/live.js';
import { recentJobDurations } from '../../pipelines/repositories/queue-stats.js';
import { resolveSource } from '../../pipelines/ingest/source.js';
import type { SourceSpec } from '../../pipelines/records/source.js';
import { localFiles } from '../../pipelines/repositories/media.js';
import { checkSourceNetwork } from '../../pipelines/ingest/network-guard.js';
import { localNetwork } from '../../pipelines/repositories/source-network.js';
import { StreamExistsError, StreamRepository } from '../../pipelines/repositories/streams.js';
import { RecordingCutter } from '../../pipelines/repositories/recording-cuts.js';
import { exportRange } from '../../pipelines/recordings/export-range.js';
import { recordedSpans } from '../../pipelines/records/recorded-spans.js';
import { EngramError } from '../../config/errors.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { MemoryStore, streamSinceUntil } from '../../pipelines/repositories/memory-store.js';
import { PeopleStore, UnknownPersonError } from '../../pipelines/repositories/people.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { forgetIdentity, mergeIdentities } from '../../pipelines/faces/identity-upkeep.js';
import { personLine } from '../runtime/person-line.js';
import { fileRoots } from '../runtime/file-roots.js';
import type { EngramContext } from '../runtime/context.js';
import { badRequest, conflict } from './http-errors.js';
import { linkReason } from './reason-link.js';
import type { RoleModule, StartedRole } from '../runtime/role-module.js';
import type { ApiDeps, PeoplePort } from './ports.js';
import { buildServer } from './server.js';
import { blobSpool, blobStore as openBlobs, lanceAccess, recordingRepository } from '../runtime/storage.js';

/** The routes' dependencies from a running context. Parts whose roles are not built stay undefined (503). */
export async function apiDeps(context: EngramContext): Promise<{ deps: ApiDeps; close(): Promise<void> }> {
  const access = lanceAccess(context.loaded, context.redis);
  const memory = await MemoryStore.open(context.paths.lancedbUri, {
    ...access,
    reinforceDays: context.config.memory.reinforceDays,
    readConsistencySeconds: context.config.memory.readConsistencySeconds,
  });
  const models = await ModelRepository.open({ config: context.config.models, paths: context.paths, log: context.log.child({ role: 'api' }) });
  const reason = await linkReason(context.loaded, context.log.child({ role: 'api' }), context.redis, access);
  // tableStats walks the LanceDB directory; scrapes every few seconds need not repeat that.
  let rows: { at: number; value: Record<string, number> } | undefined;
  const blobStore = openBlobs(context.loaded);
  const probes = new HealthProbes(context.redis, context.paths.lancedbUri, access.storageOptions ?? {}, blobStore);
  const live = new LiveSubscriber(context.redis, context.config.redis.prefix);
  const clips = new ClipRepository();
  const streams = new StreamRepository(context.redis.connection('api-streams'), context.config.redis.prefix, context.queues);
  // Face identities share LanceDB and the blob store with memory; none of it when faces are off.
  const people = context.config.faces.enabled ? await PeopleStore.open(context.paths.lancedbUri, blobStore, context.config.faces, access) : undefined;
  const spool = blobSpool(context.loaded, blobStore);
  const recordings = recordingRepository(context.loaded, context.redis.connection('api-streams'), { blobs: blobStore, spool });
  const cutter = new RecordingCutter(recordings);
  // A file source another host ingested: its copy in object storage, spooled for ffmpeg.
  const sharedSource = async (stream: string): Promise<string | null> => {
    if (blobStore.backend === 'local') return null;
    const [copy] = await blobStore.list(sourceBlobPrefix(stream));
    return copy ? ((await spool.localPath(copy.path)) ?? null) : null;
  };
  const withBytes = async <T extends { name: string }>(list: T[]): Promise<(T & { recordingBytes: number })[]> => {
    const bytes = await recordings.bytes();
    return list.map((s) => ({ ...s, recordingBytes: bytes[s.name] ?? 0 }));
  };
  // The same checks the ingest job makes, so a bad source is a 400 now rather than a failed stream later.
  const checkSource = (source: string): SourceSpec =>
    resolveSource(source, {
      allowedProtocols: context.config.ingest.allowedProtocols,
      fileRoots: fileRoots(context),
      timeoutMs: context.config.ingest.probeTimeoutMs,
      cwd: process.cwd(),
      files: localFiles,
    });
  const deps: ApiDeps = {
    queues: {
      all: () => context.queues.allQueues(),
      counts: () => context.queues.counts(),
      recentDurations: () => recentJobDurations(context.queues),
      workers: () => context.queues.allWorkers(),
    },
    checks: { redis: () => probes.redis(), lancedb: () => probes.lancedb(), blobs: () => probes.blobs() },
    blobs: {
      // A stored path that could leave the store is answered like a missing blob (404), never served.
      async stat(ref) {
        try {
          return (await blobStore.stat(ref)) ?? null;
        } catch (error) {
          if (error instanceof BlobPathError) return null;
          throw error;
        }
      },
      async open(ref, range) {
        try {
          return (await blobStore.open(ref, range)) ?? null;
        } catch (error) {
          if (error instanceof BlobPathError) return null;
          throw error;
        }
      },
    },
    live,
    streams: {
      async add(input) {
        // "-" is the pipe of the `engram ingest -` command that adds it; the API has no such pipe.
        if (input.source.trim() === '-') {
          throw badRequest('url "-" (stdin) is only for `engram ingest -`, which reads the pipe itself; through the API give a file path, a URL or a device');
        }
        const spec = checkSource(input.source);
        await checkSourceNetwork(spec, context.config, localNetwork);
        try {
          // Files are stored by their real path, which the worker reading them may need.
          return await streams.add({ name: input.name, source: spec.kind === 'file' ? spec.source : input.source, ...(input.live === undefined ? {} : { live: input.live }) });
        } catch (error) {
          if (error instanceof StreamExistsError) throw conflict(error.message);
          throw error;
        }
      },
      async get(name) {
        const stream = await streams.get(name);
        return stream ? ((await withBytes([stream]))[0] ?? null) : null;
      },
      list: async () => withBytes(await streams.list()),
      async stop(name) {
        if (!(await streams.get(name))) return false;
        await streams.stop(name);
        return true;
      },
    },
    events: {
      list: ({ limit, offset, labels, people, ...bounds }) => memory.listEvents({ ...streamSinceUntil(bounds), ...(labels ? { labels } : {}), ...(people ? { people } : {}), limit, offset, descending: true }),
      get: async (id) => (await memory.getEvent(id)) ?? null,
      async thumbnailDetections(event) {
        const shown = event.thumbnail === null ? undefined : (await memory.momentsOfEvent(event.id)).find((m) => m.thumbnail === event.thumbnail);
        if (!shown) return { t: null, frame: null, detections: [] };
        return { t: shown.t, frame: shown.detections.find((d) => d.frame)?.frame ?? null, detections: shown.detections };
      },
      async tableRows() {
        if (!rows || Date.now() - rows.at > 30_000) {
          const stats = await memory.tableStats();
          rows = { at: Date.now(), value: Object.fromEntries(Object.entries(stats.tables).map(([table, t]) => [table, t.rows])) };
        }
        return rows.value;
      },
    },
    models: { status: async () => models.status() },
    recordings: {
      export: (stream, fromMs, toMs, signal) => exportRange(cutter.ports(), stream, fromMs, toMs, signal),
      bytes: () => recordings.bytes(),
      spans: async (stream, fromMs, toMs) => ({ spans: recordedSpans(await recordings.list(stream, fromMs, toMs)), prunedUntil: await recordings.prunedUntil(stream) }),
      segmentSeconds: context.config.recordings.segmentSeconds,
      exportMaxSeconds: context.config.recordings.exportMaxSeconds,
    },
    query: reason.query,
    people: people ? peoplePort(people, memory, new MemoryWriteLock(context.redis.connection('memory-lock'), context.config.redis.prefix)) : facesOff,
    clips: {
      async sourcePath(stream) {
        const runtime = await streams.runtime(stream);
        if (!runtime) return null;
        try {
          const spec = checkSource(runtime.source);
          if (spec.kind === 'file') return spec.source;
        } catch {
          // Moved, deleted, on another host, or no longer under ingest.fileRoots: perhaps the
          // ingest host copied it to the shared blob store.
        }
        return sharedSource(stream);
      },
      cut: (request) => clips.cut(request),
    },
  };
  return {
    deps,
    async close() {
      await live.close();
      await reason.close();
      await models.close();
      await people?.close();
      await memory.close();
    },
  };
}

/** Changes to people are memory writes: under the write lock, and events follow merges and forgets. */
function peoplePort(store: PeopleStore, memory: MemoryStore, lock: MemoryWriteLock): PeoplePort {
  const find = async (id: string) => (await store.list()).find((p) => p.id === id);
  return {
    list: async () => (await store.list()).map(personLine),
    async get(id) {
      const person = await find(id);
      return person ? personLine(person) : null;
    },
    name: (id, name) => lock.run(() => store.name(id, name)),
    merge: async (kept, absorbed) => {
      await lock.run(() => mergeIdentities({ people: store, events: memory }, kept, absorbed));
    },
    forget: (id) => lock.run(() => forgetIdentity({ people: store, events: memory }, id)),
    async cropPath(id) {
      const person = await find(id);
      if (!person) throw new UnknownPersonError(`no person with id "${id}" (engram people list shows the ids)`);
      return person.crop;
    },
    faces: (id) => store.faces(id),
  };
}

/** With faces.enabled false there is nothing to list or change: every route says so (409), as the CLI does. */
const facesOff: PeoplePort = (() => {
  const off = (): never => {
    throw conflict('faces are turned off (faces.enabled: false); there are no people to show or change');
  };
  return { list: off, get: off, name: off, merge: off, forget: off, cropPath: off, faces: off };
})();

/** The address people should open: loopback stays as given, a wildcard bind shows as localhost. */
export function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

const role: RoleModule = {
  async start(context: EngramContext): Promise<StartedRole> {
    const config = context.config.api;
    const { deps, close } = await apiDeps(context);
    const app = await buildServer({ config, deps, log: context.log.child({ role: 'api' }) });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address() as AddressInfo;
    const url = displayUrl(config.host, address.port);
    context.log.info({ url }, 'api listening');
    return {
      url,
      async close() {
        await app.close();
        await close();
      },
    };
  },
};

export default role;
export const { start } = role;
