import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CSRF_HEADER,
  ErrorBody,
  LoginRequest,
  PatchbayError,
  SessionState,
} from '../contracts/index.js';
import { createTokenChecker } from './auth.js';
import type { Dashboard } from './dashboard.js';
import type { ServerDeps } from './deps.js';
import { requestGuardFor } from './origin.js';
import { createFailureThrottle } from './rate-limit.js';
import { assertCsrfSafe, createSessionAuth, sessionCookie, sessionCookieOf } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the request authenticated (null: tokens unset, or a route that needs none). */
    authVia: 'bearer' | 'cookie' | null;
    /** The session's expiry, for a cookie-authenticated request. */
    sessionExpiresAt: string | null;
  }
}

/** How often expired sessions are removed from the store. */
const PRUNE_EVERY_MS = 10 * 60_000;

const AUTH_ROUTES = new Set(['/v1/auth/login', '/v1/auth/logout', '/v1/auth/session']);

export interface AccessOptions {
  /** Routes that carry their own credential (signed URLs, webhooks): see app.ts. */
  selfAuthenticated(request: FastifyRequest): boolean;
  dashboard: Dashboard;
}

/**
 * Who may call what, in one `onRequest` hook that runs before every route (REST, SSE, the
 * WebSocket upgrade, MCP, compatibility layers): the Host/Origin guard first, then, with
 * PATCHBAY_API_TOKENS, a bearer token or a dashboard session cookie (with the CSRF check for
 * cookie requests that change something). Failed tokens, at the API or at login, are throttled
 * per address. Also the routes that make and end sessions.
 */
export function registerAccess(
  app: FastifyInstance,
  deps: ServerDeps,
  options: AccessOptions,
): FastifyPluginAsyncZod {
  const tokens = createTokenChecker(deps.config.apiTokens);
  const guard = requestGuardFor(deps.config);
  const failedAuth = createFailureThrottle({ max: deps.config.authFailureLimit, windowMs: 60_000 });
  const sessions = createSessionAuth({
    store: deps.store,
    tokens,
    ttlMs: deps.config.sessionTtlMs,
  });

  app.decorateRequest('authVia', null);
  app.decorateRequest('sessionExpiresAt', null);

  if (tokens.enabled) {
    const pruneSessions = (): void => {
      sessions.prune().catch((err: unknown) => {
        deps.log.warn({ err }, 'could not prune expired dashboard sessions');
      });
    };
    const timer = setInterval(pruneSessions, PRUNE_EVERY_MS);
    timer.unref();
    app.addHook('onReady', async () => pruneSessions());
    app.addHook('onClose', async () => clearInterval(timer));
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    request.clientKey = `ip:${request.ip}`;
    // Before auth: a rebinding or cross-site page is refused whatever it sends.
    guard.check(request);
    if (!tokens.enabled || options.selfAuthenticated(request)) return;
    // The session routes check what they are given themselves; the dashboard's files and
    // pages hold no data (the login page is one of them).
    if (AUTH_ROUTES.has(request.routeOptions.url ?? '')) return;
    if (options.dashboard.isPublic(request)) return;
    failedAuth.assertAllowed(request.clientKey);
    const authorization = request.headers.authorization;
    const cookie = authorization === undefined ? sessionCookieOf(request.headers) : undefined;
    if (cookie !== undefined) {
      const session = await sessions.resolve(cookie);
      if (!session) {
        throw new PatchbayError(
          'UNAUTHORIZED',
          'The dashboard session has expired or ended: log in again.',
        );
      }
      assertCsrfSafe(request);
      request.clientKey = session.identity;
      request.authVia = 'cookie';
      request.sessionExpiresAt = session.expiresAt;
      return;
    }
    try {
      request.clientKey = tokens.check(authorization);
      request.authVia = 'bearer';
    } catch (err) {
      // A wrong token is a guess; no token at all is not (a browser, a probe, a typo).
      if (authorization) failedAuth.fail(request.clientKey);
      throw err;
    }
  });

  const secure = (request: FastifyRequest): boolean =>
    request.protocol === 'https' || deps.config.publicUrl?.startsWith('https:') === true;
  const state = (
    authenticated: boolean,
    via: SessionState['via'],
    expiresAt: string | null,
  ): SessionState => ({
    authEnabled: tokens.enabled,
    authenticated: tokens.enabled ? authenticated : true,
    via: tokens.enabled ? via : null,
    expiresAt,
    csrfHeader: CSRF_HEADER,
  });
  const clearCookie = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.header('set-cookie', sessionCookie('', 0, secure(request)));
  };
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 429: ErrorBody };

  // The session routes, registered by the caller once the OpenAPI plugin listens for routes.
  return async (typed) => {
    typed.post(
      '/v1/auth/login',
      {
        schema: {
          tags: ['auth'],
          summary: 'Exchange an API token for a dashboard session cookie',
          description: `Checks the token (constant time) and sets an HttpOnly, SameSite=Strict session cookie (Secure over https) that the API, SSE and WebSocket accept instead of the bearer token. Browser requests only: it needs this server's Origin and the header \`${CSRF_HEADER}: 1\`. Wrong tokens count toward PATCHBAY_AUTH_FAILURE_LIMIT.`,
          body: LoginRequest,
          response: { 200: SessionState, ...errors },
        },
      },
      async (request, reply) => {
        if (!tokens.enabled) throw new PatchbayError('AUTH_NOT_ENABLED');
        failedAuth.assertAllowed(request.clientKey);
        assertCsrfSafe(request);
        let made: Awaited<ReturnType<typeof sessions.login>>;
        try {
          made = await sessions.login(request.body.token);
        } catch (err) {
          failedAuth.fail(request.clientKey);
          throw err;
        }
        const maxAge = Math.floor(deps.config.sessionTtlMs / 1000);
        reply.header('set-cookie', sessionCookie(made.id, maxAge, secure(request)));
        request.log.info({ identity: made.session.identity }, 'dashboard login');
        return state(true, 'cookie', made.session.expiresAt);
      },
    );

    typed.post(
      '/v1/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'End the dashboard session and clear its cookie',
          response: { 200: SessionState, ...errors },
        },
      },
      async (request, reply) => {
        const cookie = sessionCookieOf(request.headers);
        if (cookie !== undefined) {
          assertCsrfSafe(request);
          await sessions.logout(cookie);
        }
        clearCookie(request, reply);
        return state(false, null, null);
      },
    );

    typed.get(
      '/v1/auth/session',
      {
        schema: {
          tags: ['auth'],
          summary: 'Whether auth is on, and whether this request is logged in',
          description:
            'Never 401: the login page asks it first. With a bearer token, a wrong one counts toward PATCHBAY_AUTH_FAILURE_LIMIT.',
          response: { 200: SessionState, ...errors },
        },
      },
      async (request, reply) => {
        if (!tokens.enabled) return state(true, null, null);
        failedAuth.assertAllowed(request.clientKey);
        const authorization = request.headers.authorization;
        if (authorization !== undefined) {
          try {
            tokens.check(authorization);
            return state(true, 'bearer', null);
          } catch {
            failedAuth.fail(request.clientKey);
            return state(false, null, null);
          }
        }
        const cookie = sessionCookieOf(request.headers);
        const session = cookie === undefined ? undefined : await sessions.resolve(cookie);
        if (cookie !== undefined && !session) clearCookie(request, reply);
        return session ? state(true, 'cookie', session.expiresAt) : state(false, null, null);
      },
    );
  };
}
