/**
 * The one way a connector talks to its provider: a bearer-token JSON client over the injected
 * `fetch`, a rate-limit gate that refuses to send while a provider has said "wait", and the
 * mapping of provider failures to `ConnectorError`s a user can act on. Each connector adds a
 * `classify` for its provider's own error shapes; what it does not recognise falls back here.
 */
import { ConnectorError, type ConnectorKind, type Fetch, type TestStep } from './types.js';

export const PROVIDER_NAMES: Record<ConnectorKind, string> = {
  gmail: 'Gmail',
  jira: 'Jira',
  github: 'GitHub',
  drive: 'Google Drive',
};

/** When a rate-limited provider may be called again, by gate key (kind + API + client). */
const blockedUntil = new Map<string, number>();

/** The rate-limit gate: throws `rate_limited` without sending while `key` is blocked. */
export function assertNotBlocked(kind: ConnectorKind, key: string, now = Date.now()): void {
  const until = blockedUntil.get(key);
  if (until === undefined) return;
  if (until <= now) {
    blockedUntil.delete(key);
    return;
  }
  throw rateLimited(kind, new Date(until));
}

export function blockUntil(key: string, until: Date): void {
  const previous = blockedUntil.get(key) ?? 0;
  blockedUntil.set(key, Math.max(previous, until.getTime()));
}

export function rateLimited(kind: ConnectorKind, retryAt: Date): ConnectorError {
  return new ConnectorError(
    'rate_limited',
    `${PROVIDER_NAMES[kind]} rate limited until ${retryAt.toISOString()}: syncing resumes then, nothing to do.`,
    retryAt,
  );
}

export function authExpired(kind: ConnectorKind): ConnectorError {
  return new ConnectorError(
    'auth_expired',
    `${PROVIDER_NAMES[kind]} refused the access token (expired or revoked): refreshing it; reconnect ${PROVIDER_NAMES[kind]} if this persists.`,
  );
}

export function authRevoked(kind: ConnectorKind, detail: string): ConnectorError {
  return new ConnectorError(
    'auth_revoked',
    `${PROVIDER_NAMES[kind]} no longer accepts this connection (${detail}): reconnect ${PROVIDER_NAMES[kind]}.`,
  );
}

export function missingScope(kind: ConnectorKind, scope: string): ConnectorError {
  return new ConnectorError(
    'missing_scope',
    `${PROVIDER_NAMES[kind]} is missing the scope ${scope}: reconnect ${PROVIDER_NAMES[kind]} and grant it.`,
  );
}

/** Seconds (`Retry-After: 30`), an HTTP date, or epoch seconds (`x-ratelimit-reset`). */
export function retryAtFrom(headers: Headers, now = Date.now(), fallbackMs = 60_000): Date {
  const after = headers.get('retry-after');
  if (after !== null) {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return new Date(now + Math.max(1, seconds) * 1000);
    const date = Date.parse(after);
    if (Number.isFinite(date)) return new Date(Math.max(date, now + 1000));
  }
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
    return new Date(Math.max(reset * 1000, now + 1000));
  }
  return new Date(now + fallbackMs);
}

export interface ProviderResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** A provider-specific reading of a failed response; null leaves it to the generic mapping. */
export type ErrorClassifier = (
  status: number,
  body: unknown,
  headers: Headers,
) => ConnectorError | null;

export interface ProviderClientOptions {
  readonly kind: ConnectorKind;
  readonly fetch: Fetch;
  readonly baseUrl: string;
  readonly accessToken: string;
  /** Who shares a rate limit: the same provider API and app (or token). */
  readonly gateKey: string;
  readonly classify?: ErrorClassifier;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Query = Readonly<Record<string, string | number | readonly string[] | undefined>>;

export interface ProviderClient {
  /** GET `path` (relative to the base URL, or absolute). 304 is returned, not thrown. */
  get<T>(path: string, query?: Query, etag?: string): Promise<ProviderResponse<T>>;
  /** Requests sent so far (what the benchmark and tests count). */
  readonly sent: () => number;
}

export function buildUrl(baseUrl: string, path: string, query: Query = {}): URL {
  const url = /^https?:\/\//.test(path)
    ? new URL(path)
    : new URL(baseUrl.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, ''));
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value))
      for (const v of value as readonly string[]) url.searchParams.append(key, v);
    else url.searchParams.set(key, String(value));
  }
  return url;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The generic mapping, after the provider's own classifier had its say. */
export function classifyGeneric(
  kind: ConnectorKind,
  status: number,
  body: unknown,
  headers: Headers,
): ConnectorError {
  if (status === 401) return authExpired(kind);
  if (status === 429 || (status === 403 && headers.get('x-ratelimit-remaining') === '0')) {
    return rateLimited(kind, retryAtFrom(headers));
  }
  if (status >= 500 || status === 408) {
    return new ConnectorError(
      'unavailable',
      `${PROVIDER_NAMES[kind]} is unavailable (HTTP ${status}): the next sync retries.`,
    );
  }
  const detail =
    typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200);
  return new ProviderHttpError(kind, status, body, detail ?? 'no body');
}

/** A `bad_response` that keeps the status and body, for the connector that called to read. */
export class ProviderHttpError extends ConnectorError {
  constructor(
    kind: ConnectorKind,
    readonly status: number,
    readonly body: unknown,
    detail: string,
  ) {
    super('bad_response', `${PROVIDER_NAMES[kind]} answered HTTP ${status} (${detail}).`);
  }
}

export function isHttpStatus(err: unknown, ...statuses: number[]): err is ProviderHttpError {
  return err instanceof ProviderHttpError && statuses.includes(err.status);
}

export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  let sent = 0;
  return {
    sent: () => sent,
    async get<T>(path: string, query?: Query, etag?: string): Promise<ProviderResponse<T>> {
      assertNotBlocked(options.kind, options.gateKey);
      const url = buildUrl(options.baseUrl, path, query);
      const headers: Record<string, string> = {
        accept: 'application/json',
        authorization: `Bearer ${options.accessToken}`,
        ...options.headers,
      };
      if (etag) headers['if-none-match'] = etag;
      sent++;
      let response: Response;
      try {
        response = await options.fetch(url, { headers });
      } catch (err) {
        throw new ConnectorError(
          'unavailable',
          `${PROVIDER_NAMES[options.kind]} could not be reached (${(err as Error).message}): the next sync retries.`,
        );
      }
      if (response.status === 304) {
        await response.body?.cancel();
        return { status: 304, body: null as T, headers: response.headers };
      }
      const body = await readBody(response);
      if (response.ok)
        return { status: response.status, body: body as T, headers: response.headers };
      const error =
        options.classify?.(response.status, body, response.headers) ??
        classifyGeneric(options.kind, response.status, body, response.headers);
      if (error.kind === 'rate_limited' && error.retryAt)
        blockUntil(options.gateKey, error.retryAt);
      throw error;
    },
  };
}

// ---------------------------------------------------------------- small shared helpers

/** Cursors are JSON behind an opaque string; a cursor we cannot read is a first sync. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | null): T | null {
  if (cursor === null || cursor === '') return null;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

const ISSUE_KEY = /\b[A-Z][A-Z0-9]{1,9}-\d{1,6}\b/g;
const GITHUB_REF = /\b[\w.-]+\/[\w.-]+#\d+\b/g;
const URL_RE = /https?:\/\/[^\s<>"')\]]+/g;

/** Issue keys (PAY-12), GitHub refs (octo/app#4) and URLs named in a text: the graph's edges. */
export function mentionsIn(text: string): string[] {
  const found = new Set<string>();
  for (const re of [ISSUE_KEY, GITHUB_REF, URL_RE]) {
    for (const match of text.matchAll(re)) found.add(match[0].replace(/[.,;:]+$/, ''));
  }
  return [...found];
}

/** A question or request; with `names`, only one addressed to the user by name or handle. */
export function asksUserIn(text: string, names?: readonly string[]): boolean {
  const lowered = text.toLowerCase();
  const addressed =
    names === undefined || names.some((n) => n && lowered.includes(n.toLowerCase()));
  const asks =
    /\?|\b(can you|could you|please|would you|need you|your review|ptal|action required)\b/i;
  return addressed && asks.test(text);
}

export function truncate(text: string, max = 280): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Unique by `ref`, the last occurrence winning (a later page holds the newer state). */
export function uniqueByRef<T extends { readonly ref: string }>(items: readonly T[]): T[] {
  const byRef = new Map<string, T>();
  for (const item of items) {
    byRef.delete(item.ref);
    byRef.set(item.ref, item);
  }
  return [...byRef.values()];
}

/**
 * Runs a connector's test steps in order; the first failure is reported with the error's
 * message and the steps after it are not attempted (they would only fail the same way).
 */
export async function runSteps(
  steps: readonly { step: TestStep['step']; run: () => Promise<string> }[],
): Promise<TestStep[]> {
  const done: TestStep[] = [];
  for (const { step, run } of steps) {
    try {
      done.push({ step, ok: true, detail: await run() });
    } catch (err) {
      const detail =
        err instanceof ConnectorError ? err.message : `unexpected: ${(err as Error).message}`;
      done.push({ step, ok: false, detail });
      break;
    }
  }
  return done;
}

/** The scope step: which of `required` the provider did not grant (any of `alternatives` does). */
export function scopeStep(
  kind: ConnectorKind,
  granted: readonly string[] | undefined,
  required: readonly (readonly string[])[],
): string {
  if (granted === undefined) return 'the provider does not report scopes; checked by the calls';
  for (const anyOf of required) {
    if (!anyOf.some((s) => granted.includes(s))) throw missingScope(kind, anyOf[0]!);
  }
  return `granted: ${granted.join(' ')}`;
}
