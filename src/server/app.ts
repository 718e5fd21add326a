import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { SIGNED_ARTIFACT_PREFIX } from './artifact-urls.js';
import { registerAccess } from './access.js';
import { hasCompatCredential, registerCompat } from './compat/index.js';
import { createDashboard } from './dashboard.js';
import { SESSION_COOKIE } from './sessions.js';
import { registerMcpRoute } from './mcp.js';
import { landingPage, unauthorizedPage, wantsHtml } from './pages.js';
import type { ServerDeps } from './deps.js';
import { registerDocs } from './docs.js';
import { errorBody, sendError, toPatchbayError } from './errors.js';
import { budgetRoutes } from './routes/budgets.js';
import { connectorRoutes, OAUTH_CALLBACK_PATH } from './routes/connectors.js';
import { inboxRoutes } from './routes/inbox.js';
import { ACTIONS_REPORT_PATH, GITHUB_WEBHOOK_PATH, githubRoutes } from './routes/github.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { llmRoutes } from './routes/llm.js';
import { conversationRoutes } from './routes/conversations.js';
import { optimizerRoutes } from './routes/optimizer.js';
import { repoRoutes } from './routes/repos.js';
import { runRoutes } from './routes/runs.js';
import { runLogRoutes } from './routes/run-log.js';
import { settingsRoutes } from './routes/settings.js';
import { scheduleRoutes } from './routes/schedules.js';
import { telegramRoutes, TELEGRAM_WEBHOOK_PATH } from './routes/telegram.js';
import { TRIGGER_FIRE_PATH, triggerRoutes } from './routes/triggers.js';
import { registerRequestTracing } from './request-tracing.js';
import { docsContentSecurityPolicy, pickRequestId, securityHeaders } from './security.js';
import { handleJsonRpcSocket } from './ws/json-rpc.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, for rate limits: a token fingerprint, or the address without tokens. */
    clientKey: string;
  }
}

/**
 * Builds the Fastify app: auth, request ids, security headers, rate limits, the error
 * body, OpenAPI at /docs, REST + SSE under /v1, JSON-RPC over WebSocket at /v1/ws, and MCP
 * (Streamable HTTP) at /mcp.
 */
export async function buildApp(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    genReqId: (req) => pickRequestId(req.headers['x-request-id'], randomUUID),
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes and scrapes would drown the log; everything else is logged.
      disableRequestLogging: (req) => /^\/(health|ready|metrics)(\/|\?|$)/.test(req.url),
    }),
    trustProxy: false,
    return503OnClosing: true,
    // A malformed URL or an over-long path parameter is answered by the router itself, before
    // any hook: give it the one error body and the security headers too.
    frameworkErrors: (error, request, reply) => {
      for (const [name, value] of Object.entries(securityHeaders)) reply.header(name, value);
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'a path parameter is longer than 100 characters'
          : 'the URL is not valid (bad percent-encoding)';
      return sendError(request, reply, new PatchbayError('VALIDATION_FAILED', message));
    },
    // A client that trickles its request (headers or body) is cut off, token or not.
    requestTimeout: deps.config.requestTimeoutMs,
    // Given to Node at creation too: set only afterwards (as Fastify does), the headers keep
    // their 60 s limit. Node looks for overdue requests every 30 s by default: too coarse.
    http: {
      requestTimeout: deps.config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(5000, Math.max(250, deps.config.requestTimeoutMs / 4)),
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('clientKey', '');
  // The API speaks JSON only: a text body is refused with 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain');

  /**
   * Requests that carry their own credential instead of a bearer token: a signed artifact URL
   * (checked by its route), a trigger delivery (its Standard Webhooks signature), a Telegram
   * update (the bot's secret token), a GitHub webhook (its signature), and a compatibility
   * layer's secret on its own paths. Their routes refuse anything not so authenticated.
   */
  const selfAuthenticated = (request: FastifyRequest): boolean =>
    request.url.startsWith(SIGNED_ARTIFACT_PREFIX) ||
    (request.method === 'GET' && OAUTH_CALLBACK_PATH.test(request.url)) ||
    (request.method === 'POST' &&
      (TRIGGER_FIRE_PATH.test(request.url) ||
        TELEGRAM_WEBHOOK_PATH.test(request.url) ||
        ACTIONS_REPORT_PATH.test(request.url) ||
        request.url === GITHUB_WEBHOOK_PATH)) ||
    hasCompatCredential(request, deps);
  // First, so that refused requests (auth, rate limits) are traced too.
  registerRequestTracing(app, deps.tracing);
  const dashboard = createDashboard(deps.config.webDir);
  const authRoutes = registerAccess(app, deps, { selfAuthenticated, dashboard });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(securityHeaders)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
    if (request.url.startsWith('/docs')) {
      reply.header('content-security-policy', docsContentSecurityPolicy);
      reply.removeHeader('cache-control');
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  // sendError adds Retry-After to every 429 (rate limits, budgets).
  app.setErrorHandler((err, request, reply) => {
    const pe = toPatchbayError(err);
    if (pe.kind === 'unexpected') {
      deps.reporter.report(err, {
        tags: { code: pe.code, route: request.routeOptions.url ?? 'unmatched' },
        request: { method: request.method, url: request.url, headers: request.headers },
        extra: { requestId: request.id },
      });
    }
    // A browser opening a page (the docs) gets a page saying how to pass a token; API
    // clients keep the JSON body.
    if (pe.code === 'UNAUTHORIZED' && wantsHtml(request.headers.accept)) {
      return reply.code(401).type('text/html; charset=utf-8').send(unauthorizedPage());
    }
    return sendError(request, reply, err);
  });

  const home = landingPage(deps.version);
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if (dashboard.available()) return dashboard.serveIndex(request, reply);
    return reply.type('text/html; charset=utf-8').send(home);
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (await dashboard.serve(request, reply)) return reply;
    return reply
      .code(404)
      .send(
        errorBody(
          new PatchbayError(
            'ROUTE_NOT_FOUND',
            `no route ${request.method} ${request.url.split('?')[0]}`,
          ),
          request.id,
        ),
      );
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Patchbay API',
        version: deps.version,
        description:
          'Runs coding agents and commands on workspaces, streams their events, and controls them. Errors use one body: `{ "error": { "code", "message", "details"?, "requestId" } }`; the codes are listed in docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // The dashboard's session (POST /v1/auth/login); writes also need X-Patchbay-CSRF: 1.
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: deps.config.apiTokens.length > 0 ? [{ bearer: [] }, { session: [] }] : [],
    },
    transform: jsonSchemaTransform,
  });
  registerDocs(app);
  await app.register(fastifyWebsocket, {
    options: { maxPayload: deps.config.bodyLimitBytes },
  });

  await app.register(healthRoutes(deps));
  await app.register(authRoutes);
  await app.register(runRoutes(deps));
  await app.register(runLogRoutes(deps));
  await app.register(liveRoutes(deps));
  await app.register(settingsRoutes(deps));
  await app.register(repoRoutes(deps));
  await app.register(conversationRoutes(deps));
  await app.register(budgetRoutes(deps));
  await app.register(scheduleRoutes(deps));
  await app.register(triggerRoutes(deps));
  await app.register(telegramRoutes(deps));
  await app.register(optimizerRoutes(deps));
  await app.register(llmRoutes(deps));
  registerMcpRoute(app, deps);
  await registerCompat(app, deps);
  await app.register(githubRoutes(deps));
  await app.register(inboxRoutes(deps));
  await app.register(connectorRoutes(deps));

  app.get('/v1/ws', { websocket: true, schema: { hide: true } }, (socket, request) => {
    handleJsonRpcSocket(socket, deps, request.clientKey, request.log as Logger);
  });

  return app;
}
