// The web UI: a few static files (no framework, no build step) read once from services/api/ui.
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../../config/load.js';
import { notFound } from '../http-errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Same-origin only; media and thumbnails come from this server. */
const CSP = "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export function uiDir(): string {
  // packageRoot() is the repository root from source and from dist/, so this works in both.
  return join(packageRoot(), 'services/api/ui');
}

export function registerUi(app: FastifyInstance): void {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(uiDir())) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(uiDir(), name)) });
  }
  const index = files.get('index.html');
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    if (!index) throw notFound('the web UI files are missing from this install');
    return reply.type(index.type).header('content-security-policy', CSP).send(index.body);
  });
  app.get('/ui/:file', { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params as { file: string };
    const found = files.get(file);
    if (!found) throw notFound(`no UI file ${file}`);
    return reply.type(found.type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(found.body);
  });
}
