/**
 * What Gmail and Drive share: Google's OAuth endpoints and authorize parameters, and Google's
 * error body `{error: {code, message, status, errors: [{reason}]}}` read into ConnectorErrors.
 */
import {
  createProviderClient,
  missingScope,
  rateLimited,
  retryAtFrom,
  type ErrorClassifier,
  type ProviderClient,
} from './http.js';
import { buildAuthorizeUrl, exchangeCode, refreshCredentials } from './oauth.js';
import type {
  Connector,
  ConnectorAppConfig,
  ConnectorCredentials,
  ConnectorEndpoints,
  ConnectorKind,
  Fetch,
} from './types.js';

export const GOOGLE_AUTHORIZE_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export const GMAIL_ENDPOINTS: ConnectorEndpoints = {
  apiBaseUrl: 'https://gmail.googleapis.com',
  authorizeUrl: GOOGLE_AUTHORIZE_URL,
  tokenUrl: GOOGLE_TOKEN_URL,
};

export const DRIVE_ENDPOINTS: ConnectorEndpoints = {
  apiBaseUrl: 'https://www.googleapis.com',
  authorizeUrl: GOOGLE_AUTHORIZE_URL,
  tokenUrl: GOOGLE_TOKEN_URL,
};

/** A refresh token, and the consent screen every time so one is issued again on reconnect. */
export const GOOGLE_AUTHORIZE_PARAMS = {
  access_type: 'offline',
  prompt: 'consent',
  include_granted_scopes: 'true',
} as const;

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; errors?: { reason?: string }[] };
}

export function googleReasons(body: unknown): string[] {
  const errors = (body as GoogleErrorBody | null)?.error?.errors ?? [];
  return errors.map((e) => e.reason ?? '').filter(Boolean);
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

/** Google's rate-limit and scope answers; the rest falls to the generic mapping. */
export function googleClassifier(kind: ConnectorKind, scope: string): ErrorClassifier {
  return (status, body, headers) => {
    const reasons = googleReasons(body);
    const info = (body as GoogleErrorBody | null)?.error;
    if (status === 429 || (status === 403 && reasons.some((r) => RATE_REASONS.has(r)))) {
      return rateLimited(kind, retryAtFrom(headers));
    }
    const insufficient =
      reasons.includes('insufficientPermissions') ||
      /insufficient[_ ]scope/i.test(headers.get('www-authenticate') ?? '') ||
      /insufficient authentication scopes/i.test(info?.message ?? '');
    if (status === 403 && insufficient) return missingScope(kind, scope);
    return null;
  };
}

/**
 * A Google API client for one connector: its rate-limit gate is shared by every client of the
 * same OAuth app (Google's quotas are per project), and its errors read with googleClassifier.
 */
export function googleApiClient(
  kind: 'gmail' | 'drive',
  scope: string,
  app: ConnectorAppConfig,
  fetch: Fetch,
  credentials: ConnectorCredentials,
): ProviderClient {
  return createProviderClient({
    kind,
    fetch,
    baseUrl: app.endpoints.apiBaseUrl,
    accessToken: credentials.accessToken,
    gateKey: `${kind}:${app.endpoints.apiBaseUrl}:${app.clientId}`,
    classify: googleClassifier(kind, scope),
  });
}

/**
 * The sign-in half of a Google connector: one read-only scope, authorization code with PKCE
 * (S256) and Google's offline-access parameters, code exchange and refresh at the token URL.
 */
export function googleSignIn(
  kind: 'gmail' | 'drive',
  scope: string,
  app: ConnectorAppConfig,
  fetch: Fetch,
): Pick<Connector, 'kind' | 'scopes' | 'authorizeUrl' | 'exchange' | 'refresh'> {
  const tokenOptions = { kind, app, fetch };
  return {
    kind,
    scopes: [scope],
    authorizeUrl: (request) =>
      buildAuthorizeUrl(app, [scope], request, { pkce: true, params: GOOGLE_AUTHORIZE_PARAMS }),
    exchange: (code, verifier) => exchangeCode(tokenOptions, code, verifier),
    refresh: (credentials) => refreshCredentials(tokenOptions, credentials),
  };
}
