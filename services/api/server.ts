// Builds the Fastify app from injected dependencies (ports.ts), so tests run it with fastify.inject
// or a real listening socket and the role's main.ts runs it with the real repositories. Order
// matters: the auth hook and swagger are registered before any route so every route gets both.
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isEngramError } from '../../config/errors.js';
import type { ApiConfig } from '../../config/schema.js';
import type { Logger } from '../logger.js';
import { authorize, keyMatches, keyPolicy, presentedKey, hashKey, type KeyPolicy } from './auth.js';
import { hostCheck } from './host-check.js';
import { HttpError, type ErrorBody } from './http-errors.js';
import type { ApiDeps } from './ports.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerDocs } from './routes/docs.js';
import { registerEvents } from './routes/events.js';
import { registerHealth } from './routes/health.js';
import { registerLive } from './routes/live.js';
import { registerLogin, loginPage } from './routes/login.js';
import { registerMetrics } from './routes/metrics.js';
import { registerPeople } from './routes/people.js';
import { registerQuery } from './routes/query.js';
import { registerRecordings } from './routes/recordings.js';
import { registerStreams } from './routes/streams.js';
import { registerUi } from './routes/ui.js';
import { RequestValidationError, zodToOpenApi, zodValidatorCompiler } from './validation.js';

export interface ServerOptions {
  config: ApiConfig;
  deps: ApiDeps;
  log: Logger;
}

/**
 * Routes anyone may call: liveness for orchestrators, the endpoint that checks a key, and the two
 * static files the key form itself needs (code and style, no data).
 */
const OPEN_ROUTES = new Set(['GET /healthz', 'HEAD /healthz', 'POST /api/login', 'GET /ui/login.js', 'GET /ui/style.css']);

/** A window in words: 60000 -> "60 s", 1500 -> "1.5 s", 500 -> "500 ms". */
function describeWindow(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(3))} s`;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export async function buildServer({ config, deps, log }: ServerOptions): Promise<FastifyInstance> {
  const policy: KeyPolicy = keyPolicy(config);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request lines would drown the log (SSE, metrics scrapes); failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Hijacked SSE responses are never idle; close ends them itself (routes/live.ts).
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(zodValidatorCompiler);

  app.setErrorHandler((error: FastifyError | HttpError | RequestValidationError | Error, request, reply) => {
    let status = 500;
    let body: ErrorBody = { error: 'internal', message: 'internal error; see the engram log' };
    if (error instanceof RequestValidationError) {
      status = 400;
      body = { error: 'bad_request', message: error.message, fields: error.fields };
    } else if (error instanceof HttpError) {
      status = error.statusCode;
      body = { error: error.code, message: error.message };
    } else if (isEngramError(error)) {
      status = 400;
      body = { error: 'bad_request', message: error.message };
    } else {
      const code = (error as FastifyError).statusCode;
      if (typeof code === 'number' && code >= 400 && code < 500) {
        // Fastify's own refusals: malformed JSON, body too large, unsupported media type.
        status = code;
        body = { error: (error as FastifyError).code ?? 'bad_request', message: error.message };
        if (body.error === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          body.message = `the request body is larger than api.bodyLimitBytes (${config.bodyLimitBytes} bytes); an example image or clip travels as base64, about 4/3 of its size`;
        }
      }
    }
    if (status >= 500) request.log.error({ err: error, url: request.url }, 'api request failed');
    if (reply.sent || reply.raw.headersSent) return;
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${pathOf(request.url)}` } satisfies ErrorBody);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });

  const hostAllowed = hostCheck(config);
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    // Without a key, the Host header is the only thing telling a rebinding page from a local
    // caller; liveness stays open for orchestrators.
    if (!policy.required && path !== '/healthz' && !hostAllowed(request.headers.host)) {
      const shown = request.headers.host === undefined ? 'no Host header' : `Host "${request.headers.host.slice(0, 100)}"`;
      return reply.status(403).send({
        error: 'host_not_allowed',
        message: `${shown} is not a name this server answers to without an API key (loopback names, api.host, api.hostNames): a web page must not reach it through DNS rebinding`,
      } satisfies ErrorBody);
    }
    if (OPEN_ROUTES.has(`${request.method} ${path}`)) return;
    const outcome = authorize(policy, request.headers);
    if (outcome === 'ok') return;
    const status = outcome === 'missing' ? 401 : 403;
    const message = outcome === 'missing' ? 'an API key is required (Authorization: Bearer KEY or x-api-key: KEY)' : 'the API key is not accepted';
    if (outcome === 'missing') reply.header('www-authenticate', 'Bearer realm="engram"');
    // A person opening the UI or the dashboard in a browser gets a form to enter the key.
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      return reply.status(status).type('text/html; charset=utf-8').send(loginPage(path, outcome));
    }
    return reply.status(status).send({ error: outcome === 'missing' ? 'unauthorized' : 'forbidden', message } satisfies ErrorBody);
  });

  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.corsOrigins, credentials: false });
  }
  await app.register(rateLimit, {
    global: false,
    // Per key when one is presented (several people behind one proxy), else per address.
    // Only a key the server accepts names a client: without keys configured, any header value
    // would do, and a caller rotating it would get a fresh allowance each time.
    keyGenerator: (request) => {
      const key = presentedKey(request.headers);
      return key !== undefined && policy.hashes.length > 0 && keyMatches(policy, key) ? `key:${hashKey(key)}` : `ip:${request.ip}`;
    },
    // The builder's value is thrown; an HttpError reaches the caller as { error, message }.
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        context.statusCode,
        'rate_limited',
        `too many questions from this client: at most ${context.max} per ${describeWindow(config.queryRateWindowMs)} (api.queryRateMax, api.queryRateWindowMs); try again in ${context.after}`,
      ),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'engram HTTP API', version: '0.1.0', description: 'Streams, questions, events, live updates and metrics of an engram daemon.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform: zodToOpenApi,
  });

  registerHealth(app, deps);
  registerLogin(app, policy);
  registerStreams(app, deps);
  registerQuery(app, deps, config);
  registerEvents(app, deps, config);
  registerRecordings(app, deps);
  registerPeople(app, deps);
  registerLive(app, deps);
  registerMetrics(app, deps);
  registerDocs(app);
  registerUi(app);
  await registerDashboard(app, deps);
  return app;
}
