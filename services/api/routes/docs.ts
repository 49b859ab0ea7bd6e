// The OpenAPI description: JSON at /docs/json, and a plain page at /docs listing every route.
import type { FastifyInstance } from 'fastify';

type Operation = { summary?: string; tags?: string[] };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function registerDocs(app: FastifyInstance): void {
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    const spec = app.swagger() as { paths?: Record<string, Record<string, Operation>> };
    const rows: string[] = [];
    for (const [path, ops] of Object.entries(spec.paths ?? {})) {
      for (const [method, op] of Object.entries(ops)) {
        rows.push(`<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td></tr>`);
      }
    }
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>engram API</title><link rel="stylesheet" href="/ui/style.css"></head>
<body class="docs"><main><h1>engram HTTP API</h1><p>OpenAPI 3.1 document: <a href="/docs/json">/docs/json</a>. Send the key as <code>Authorization: Bearer KEY</code> or <code>x-api-key: KEY</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></main></body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
