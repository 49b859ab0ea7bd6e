// Bull Board at /admin/queues: counts, jobs, retry, pause and resume for every engram queue.
// It sits behind the same API-key hook as everything else (registered on the root instance).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../ports.js';

export const DASHBOARD_PATH = '/admin/queues';

export async function registerDashboard(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const queues = deps.queues.all();
  // Connected before serving: a queue closed while still connecting rejects inside BullMQ, unhandled.
  await Promise.all(queues.map((queue) => queue.waitUntilReady()));
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'engram queues', miscLinks: [{ text: 'engram', url: '/' }] } },
  });
  serverAdapter.setBasePath(DASHBOARD_PATH);
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
