// The api role's composition root: adapts the process's repositories to the routes' ports,
// builds the server and listens on api.host:api.port until the process stops.
import type { AddressInfo } from 'node:net';
import { BlobReader } from '../../pipelines/repositories/blob-reader.js';
import { ClipRepository } from '../../pipelines/repositories/clips.js';
import { HealthProbes } from '../../pipelines/repositories/health.js';
import { LiveSubscriber } from '../../pipelines/repositories/live.js';
import { recentJobDurations } from '../../pipelines/repositories/queue-stats.js';
import type { EngramContext } from '../runtime/context.js';
import type { RoleModule, StartedRole } from '../runtime/roles.js';
import type { ApiDeps } from './ports.js';
import { buildServer } from './server.js';

/** The routes' dependencies from a running context. Parts whose roles are not built stay undefined (503). */
export function apiDeps(context: EngramContext): { deps: ApiDeps; close(): Promise<void> } {
  const probes = new HealthProbes(context.redis, context.paths.lancedbUri);
  const live = new LiveSubscriber(context.redis, context.config.redis.prefix);
  const clips = new ClipRepository();
  const deps: ApiDeps = {
    queues: {
      all: () => context.queues.allQueues(),
      counts: () => context.queues.counts(),
      recentDurations: () => recentJobDurations(context.queues),
    },
    checks: { redis: () => probes.redis(), lancedb: () => probes.lancedb() },
    blobs: new BlobReader(context.paths.blobsDir),
    live,
  };
  void clips;
  return { deps, close: () => live.close() };
}

/** The address people should open: loopback stays as given, a wildcard bind shows as localhost. */
export function displayUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

const role: RoleModule = {
  async start(context: EngramContext): Promise<StartedRole> {
    const config = context.config.api;
    const { deps, close } = apiDeps(context);
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
