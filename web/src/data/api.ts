/**
 * The data layer: the typed client from src/client, bound to this origin. The browser sends
 * the session cookie (same origin) and the header that marks a request as the dashboard's
 * own, which the server requires of cookie-authenticated state-changing requests (CSRF).
 */
import { createClient, type PatchbayClient } from '../../../src/client/index.js';
import type { PatchbayError } from '../../../src/contracts/index.js';

const UNAUTHORIZED = 'patchbay:unauthorized';

const browserFetch: typeof fetch = async (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('x-patchbay-csrf', '1');
  const res = await fetch(input, { ...init, headers, credentials: 'same-origin' });
  if (res.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED));
  return res;
};

export const api: PatchbayClient = createClient({
  baseUrl: window.location.origin,
  fetch: browserFetch,
});

/** The `fetch` the client uses, for the few endpoints it does not cover yet. */
export const apiFetch = browserFetch;

/** Calls `onUnauthorized` whenever the API answers 401 (the session ended). */
export function onUnauthorized(handler: () => void): () => void {
  window.addEventListener(UNAUTHORIZED, handler);
  return () => window.removeEventListener(UNAUTHORIZED, handler);
}

/** The user-facing text of an error from the client: the server's message and code. */
export function errorText(err: unknown): string {
  const e = err as Partial<PatchbayError> & { message?: string };
  if (typeof e?.code === 'string') return `${e.message ?? 'error'} (${e.code})`;
  return e?.message ?? String(err);
}
