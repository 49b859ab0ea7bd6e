// /healthz: the process answers (no key needed, for orchestrators). /readyz: Redis, LanceDB and blobs
// answer within a couple of seconds; 503 names the ones that do not.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../ports.js';

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(check: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealth(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['health'], security: [] } }, async () => ({ ok: true }));

  app.get('/readyz', { schema: { summary: 'Readiness: Redis, LanceDB and the blob store are reachable', tags: ['health'] } }, async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check);
          return [name, { ok: true }] as const;
        } catch (error) {
          return [name, { ok: false, error: (error as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ok = results.every(([, r]) => r.ok);
    return reply.status(ok ? 200 : 503).send({ ok, checks });
  });
}
