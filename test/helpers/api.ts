// The HTTP API on a context of its own, built as the api role builds it, for tests that call it
// with inject or listen on it themselves.
import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../../config/load.js';
import { apiDeps } from '../../services/api/main.js';
import { buildServer } from '../../services/api/server.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';

export interface TestApi {
  app: FastifyInstance;
  context: EngramContext;
  /** Closes the server, then its dependencies, then the context. */
  stop: () => Promise<void>;
}

export async function openApi(loaded: LoadedConfig): Promise<TestApi> {
  const context = await EngramContext.open(loaded, silentLogger());
  const { deps, close } = await apiDeps(context);
  const app = await buildServer({ config: context.config.api, deps, log: silentLogger() });
  const stop = async () => {
    await app.close();
    await close();
    await context.close();
  };
  return { app, context, stop };
}
