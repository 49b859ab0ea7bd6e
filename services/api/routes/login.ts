// Browsers cannot put an Authorization header on <img>, <video>, EventSource or a typed URL, so
// the login form trades the key for an HttpOnly, SameSite=Strict cookie holding it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KEY_COOKIE, keyMatches, type KeyPolicy } from '../auth.js';
import { HttpError } from '../http-errors.js';

const LoginBody = z.object({ key: z.string().min(1).max(512) }).strict();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page a browser gets instead of a 401/403 JSON body; posts the key, then reloads `path`. */
export function loginPage(path: string, outcome: 'missing' | 'wrong'): string {
  const note = outcome === 'wrong' ? 'That key is not accepted.' : 'This engram needs an API key.';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>engram: API key</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/ui/style.css"></head>
<body class="login"><main><h1>engram</h1><p>${note}</p>
<form id="login"><label>API key <input name="key" type="password" autocomplete="current-password" required></label>
<button type="submit">Continue</button><p id="login-error" role="alert"></p></form></main>
<script type="module" src="/ui/login.js" data-next="${escapeHtml(path)}"></script></body></html>`;
}

export function registerLogin(app: FastifyInstance, policy: KeyPolicy): void {
  app.post('/api/login', { schema: { summary: 'Trade an API key for a browser cookie', tags: ['auth'], body: LoginBody, security: [] } }, async (request, reply) => {
    const { key } = request.body as z.infer<typeof LoginBody>;
    if (policy.hashes.length > 0 && !keyMatches(policy, key)) throw new HttpError(403, 'forbidden', 'the API key is not accepted');
    reply.header('set-cookie', `${KEY_COOKIE}=${encodeURIComponent(key)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000`);
    return reply.status(204).send();
  });
  app.post('/api/logout', { schema: { summary: 'Forget the browser cookie', tags: ['auth'] } }, async (_request, reply) => {
    reply.header('set-cookie', `${KEY_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return reply.status(204).send();
  });
}
