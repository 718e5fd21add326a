/**
 * Browser login: `GET /v1/auth/session` says whether auth is on and whether this browser has
 * a session; `POST /v1/auth/login {token}` trades an API token for an HttpOnly cookie. A server
 * without these routes (404) has no browser auth: the dashboard then works as with auth off.
 */
import { apiFetch } from './api.ts';

export interface SessionState {
  /** False when the server runs without PATCHBAY_API_TOKENS: no login needed. */
  readonly authRequired: boolean;
  readonly loggedIn: boolean;
}

function readSession(body: unknown): SessionState {
  const b = (body ?? {}) as Record<string, unknown>;
  const authRequired = [b.authRequired, b.authEnabled, b.auth].some((v) => v === true);
  const loggedIn = [b.loggedIn, b.authenticated, b.session != null && b.session !== false].some(
    (v) => v === true,
  );
  return { authRequired, loggedIn: loggedIn || !authRequired };
}

export async function fetchSession(): Promise<SessionState> {
  const res = await apiFetch('/v1/auth/session', { headers: { accept: 'application/json' } });
  if (res.status === 404) return { authRequired: false, loggedIn: true };
  if (res.status === 401) return { authRequired: true, loggedIn: false };
  if (!res.ok) throw new Error(`session check failed: HTTP ${res.status}`);
  return readSession(await res.json());
}

/** Logs in; answers null on success or the server's message. */
export async function login(token: string): Promise<string | null> {
  const res = await apiFetch('/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.ok) return null;
  try {
    const body = (await res.json()) as { error?: { message?: string; code?: string } };
    return body.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

export async function logout(): Promise<void> {
  await apiFetch('/v1/auth/logout', { method: 'POST' });
}
