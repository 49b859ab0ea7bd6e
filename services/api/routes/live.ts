// GET /api/live: server-sent events. On connect: `hello`, then one `stream` message per known
// stream; afterwards every `event` (consolidate stored one) and `stream` (ingest changed state)
// published on the live channel. A comment line every 15 s keeps proxies from closing it.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { LiveType, type LiveMessage } from '../../../pipelines/repositories/live.js';
import { unavailable } from '../http-errors.js';
import type { ApiDeps } from '../ports.js';

const HEARTBEAT_MS = 15_000;

function frame(type: string, data: unknown): string {
  // JSON has no raw newlines, so one data: line is enough.
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerLive(app: FastifyInstance, deps: ApiDeps): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/api/live', { schema: { summary: 'Server-sent events: new events and stream state', tags: ['live'] } }, async (request, reply) => {
    if (!deps.live) throw unavailable('live updates');
    const live = deps.live;
    const res = reply.raw;
    const pending: LiveMessage[] = [];
    let ready = false;
    const send = (message: LiveMessage) => {
      if (!ready) {
        pending.push(message);
        return;
      }
      res.write(message.type === LiveType.Event ? frame('event', message.event) : frame('stream', message));
    };
    // Subscribe before answering, so an event published right after the client connects is not lost.
    const stop = await live.listen(send);
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    open.add(res);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    const cleanup = () => {
      clearInterval(heartbeat);
      stop();
      open.delete(res);
    };
    res.once('close', cleanup);
    res.write('retry: 3000\n');
    res.write(frame('hello', { at: Date.now() }));
    if (deps.streams) {
      try {
        for (const s of await deps.streams.list()) {
          res.write(frame('stream', { type: LiveType.Stream, stream: s.name, state: s.state, lagS: s.lagS, droppedFrames: s.droppedFrames, gaps: s.gaps.length }));
        }
      } catch (error) {
        request.log.warn({ err: error }, 'live: could not list streams for the snapshot');
      }
    }
    ready = true;
    for (const message of pending.splice(0)) send(message);
  });
}
