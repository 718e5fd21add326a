/**
 * OAuth 2.0 for the connectors. The authorize URL (with the PKCE S256 challenge where the
 * provider supports it: Google and GitHub do, Atlassian's 3LO does not document PKCE) is built by
 * arctic's generic `OAuth2Client`, which takes any endpoints, so a local fake works as well as
 * the real provider. Token requests go through the connector's injected `fetch` instead of
 * arctic's global one: a 429's `Retry-After` must reach the rate-limit gate, GitHub answers
 * failures with HTTP 200 and `{error}`, and Atlassian wants the client secret in the body.
 */
import { CodeChallengeMethod, OAuth2Client } from 'arctic';
import {
  authRevoked,
  blockUntil,
  PROVIDER_NAMES,
  rateLimited,
  retryAtFrom,
  assertNotBlocked,
} from './http.js';
import {
  ConnectorError,
  type AuthorizeRequest,
  type ConnectorAppConfig,
  type ConnectorCredentials,
  type ConnectorKind,
  type Fetch,
} from './types.js';

export { generateCodeVerifier, generateState } from 'arctic';

export interface AuthorizeOptions {
  readonly pkce: boolean;
  /** Provider extras: Google's `access_type=offline`, Atlassian's `audience`, … */
  readonly params?: Readonly<Record<string, string>>;
}

export function buildAuthorizeUrl(
  app: ConnectorAppConfig,
  scopes: readonly string[],
  request: AuthorizeRequest,
  options: AuthorizeOptions,
): URL {
  const client = new OAuth2Client(app.clientId, app.clientSecret ?? null, app.redirectUri);
  const url = options.pkce
    ? client.createAuthorizationURLWithPKCE(
        app.endpoints.authorizeUrl,
        request.state,
        CodeChallengeMethod.S256,
        request.codeVerifier,
        [...scopes],
      )
    : client.createAuthorizationURL(app.endpoints.authorizeUrl, request.state, [...scopes]);
  for (const [key, value] of Object.entries(options.params ?? {})) url.searchParams.set(key, value);
  return url;
}

export interface TokenRequestOptions {
  readonly kind: ConnectorKind;
  readonly app: ConnectorAppConfig;
  readonly fetch: Fetch;
  readonly grant: Record<string, string>;
  /** GitHub reports scopes comma-separated, Google and Atlassian space-separated. */
  readonly scopeSeparator?: RegExp;
  /** Kept on refresh: the refresh token (when not rotated), the extras. */
  readonly previous?: ConnectorCredentials;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

/** POSTs a grant to the token endpoint (client credentials in the body, as every one accepts). */
export async function requestToken(options: TokenRequestOptions): Promise<ConnectorCredentials> {
  const { kind, app } = options;
  const gateKey = `${kind}:${app.endpoints.tokenUrl}:${app.clientId}`;
  assertNotBlocked(kind, gateKey);
  const body = new URLSearchParams({ ...options.grant, client_id: app.clientId });
  if (app.clientSecret) body.set('client_secret', app.clientSecret);
  let response: Response;
  try {
    response = await options.fetch(app.endpoints.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
    });
  } catch (err) {
    throw new ConnectorError(
      'unavailable',
      `${PROVIDER_NAMES[kind]}'s sign-in service could not be reached (${(err as Error).message}): try again.`,
    );
  }
  if (response.status === 429) {
    const retryAt = retryAtFrom(response.headers);
    blockUntil(gateKey, retryAt);
    throw rateLimited(kind, retryAt);
  }
  if (response.status >= 500) {
    throw new ConnectorError(
      'unavailable',
      `${PROVIDER_NAMES[kind]}'s sign-in service is unavailable (HTTP ${response.status}): try again.`,
    );
  }
  let data: TokenResponse;
  try {
    data = (await response.json()) as TokenResponse;
  } catch {
    throw new ConnectorError(
      'bad_response',
      `${PROVIDER_NAMES[kind]}'s token endpoint answered HTTP ${response.status} without JSON.`,
    );
  }
  if (data.error || !response.ok || typeof data.access_token !== 'string') {
    const detail = data.error_description ?? data.error ?? `HTTP ${response.status}`;
    throw authRevoked(kind, detail);
  }
  const previous = options.previous;
  const scopes = data.scope
    ? data.scope.split(options.scopeSeparator ?? /\s+/).filter(Boolean)
    : previous?.scopes;
  const refreshToken = data.refresh_token ?? previous?.refreshToken;
  return {
    accessToken: data.access_token,
    ...(refreshToken ? { refreshToken } : {}),
    ...(typeof data.expires_in === 'number'
      ? { expiresAt: new Date(Date.now() + data.expires_in * 1000).toISOString() }
      : {}),
    ...(scopes ? { scopes } : {}),
    ...(previous?.extra ? { extra: previous.extra } : {}),
  };
}

export function exchangeCode(
  options: Omit<TokenRequestOptions, 'grant' | 'previous'>,
  code: string,
  codeVerifier: string | null,
): Promise<ConnectorCredentials> {
  const grant: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: options.app.redirectUri,
  };
  if (codeVerifier !== null) grant.code_verifier = codeVerifier;
  return requestToken({ ...options, grant });
}

export function refreshCredentials(
  options: Omit<TokenRequestOptions, 'grant' | 'previous'>,
  credentials: ConnectorCredentials,
): Promise<ConnectorCredentials> {
  if (!credentials.refreshToken) {
    return Promise.reject(authRevoked(options.kind, 'no refresh token was issued'));
  }
  return requestToken({
    ...options,
    previous: credentials,
    grant: { grant_type: 'refresh_token', refresh_token: credentials.refreshToken },
  });
}
