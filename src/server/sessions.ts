import { createHash, randomBytes } from 'node:crypto';
import { CSRF_HEADER, PatchbayError } from '../contracts/index.js';
import type { SessionRecord, Store } from '../store/index.js';
import type { TokenChecker } from './auth.js';

/**
 * Dashboard sessions: a browser cannot attach a bearer token to a page load, an EventSource or
 * a WebSocket, so `POST /v1/auth/login` exchanges a token for a cookie. The cookie carries a
 * random 256-bit id; the store keeps only its SHA-256, the token's fingerprint (the identity
 * the session acts as) and the expiry. A session whose token is no longer configured is void.
 */
export const SESSION_COOKIE = 'patchbay_session';

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');

type Headers = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v;

/** The session id in a `Cookie` header, if any (the first, should a client send several). */
export function sessionCookieOf(headers: Headers): string | undefined {
  const cookie = first(headers.cookie);
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // Ours are 43 base64url characters; anything else is not worth a store lookup.
    return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * The `Set-Cookie` value: HttpOnly (page scripts cannot read it), SameSite=Strict (no other
 * site's page makes the browser send it), Secure when the dashboard is reached over https.
 * `maxAgeSeconds` 0 clears it.
 */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated requests, on top of SameSite=Strict: a request that can
 * change something must say it comes from a page of this origin (`Sec-Fetch-Site: same-origin`
 * when the browser sends it, and an `Origin`, which the request guard has already checked is
 * this server's or an allowed one) and carry `X-Patchbay-CSRF: 1`, a header no other page can
 * add without a CORS preflight this server never grants. A WebSocket upgrade cannot carry the
 * header: its Origin is what is checked. Bearer clients are not concerned.
 *
 * @throws PatchbayError CSRF_CHECK_FAILED
 */
export function assertCsrfSafe(request: { method: string; headers: Headers }): void {
  const upgrade = first(request.headers.upgrade)?.toLowerCase() === 'websocket';
  if (SAFE_METHODS.has(request.method) && !upgrade) return;
  const site = first(request.headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin') {
    throw new PatchbayError(
      'CSRF_CHECK_FAILED',
      `refused: the browser says this request comes from another site (Sec-Fetch-Site: ${site.slice(0, 40)})`,
    );
  }
  if (first(request.headers.origin) === undefined) {
    throw new PatchbayError(
      'CSRF_CHECK_FAILED',
      'refused: a request with a session cookie that changes something must carry an Origin header',
    );
  }
  if (!upgrade && first(request.headers[CSRF_HEADER]) !== '1') {
    throw new PatchbayError(
      'CSRF_CHECK_FAILED',
      `refused: a request with a session cookie that changes something must carry the header ${CSRF_HEADER}: 1`,
    );
  }
}

export interface SessionAuthOptions {
  store: Pick<Store, 'sessions'>;
  tokens: TokenChecker;
  ttlMs: number;
  now?: () => number;
}

export function createSessionAuth(options: SessionAuthOptions) {
  const { store, tokens, ttlMs } = options;
  const now = options.now ?? Date.now;
  return {
    /**
     * Checks `token` and stores a new session for it; returns the cookie's value.
     * @throws PatchbayError UNAUTHORIZED for a token that is not one of the server's.
     */
    async login(token: string): Promise<{ id: string; session: SessionRecord }> {
      const identity = tokens.checkToken(token);
      const id = randomBytes(32).toString('base64url');
      const t = now();
      const session: SessionRecord = {
        idHash: hashId(id),
        identity,
        // Tokens are not scoped yet: a session may do what its token may, everything.
        scopes: ['*'],
        createdAt: new Date(t).toISOString(),
        expiresAt: new Date(t + ttlMs).toISOString(),
      };
      await store.sessions.insert(session);
      return { id, session };
    },
    /** The live session a cookie names; undefined when unknown, expired or its token removed. */
    async resolve(id: string): Promise<SessionRecord | undefined> {
      const session = await store.sessions.get(hashId(id));
      if (!session) return undefined;
      if (Date.parse(session.expiresAt) <= now() || !tokens.isCurrent(session.identity)) {
        return undefined;
      }
      return session;
    },
    async logout(id: string): Promise<void> {
      await store.sessions.delete(hashId(id));
    },
    /** Removes expired sessions; returns how many. */
    prune(): Promise<number> {
      return store.sessions.prune(new Date(now()).toISOString());
    },
  };
}

export type SessionAuth = ReturnType<typeof createSessionAuth>;
