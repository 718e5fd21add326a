import { networkInterfaces } from 'node:os';
import type { ResolvedConfig } from '../config/index.js';
import { PatchbayError } from '../contracts/index.js';
import { isLoopbackHost } from './auth.js';

/**
 * Which `Host` and `Origin` values this server answers: the defence against DNS rebinding and
 * against web pages driving the API (browsers apply no CORS to WebSockets, and a rebinding name
 * makes a hostile page same-origin). Every surface (REST, SSE, WebSocket, the dashboard, MCP over
 * HTTP, compatibility layers) is checked here, in one `onRequest` hook, before auth.
 */
export interface RequestGuardOptions {
  /** The address the server binds. */
  host: string;
  /** PATCHBAY_PUBLIC_URL: its host is always allowed, its origin too. */
  publicUrl: string | undefined;
  /** With tokens, a rebinding page cannot authenticate, so any Host is answered. */
  tokensEnabled: boolean;
  /** PATCHBAY_ALLOWED_HOSTS: further names a reverse proxy or the user reaches the server by. */
  allowedHosts: string[];
  /** PATCHBAY_ALLOWED_ORIGINS: further browser origins allowed to call the API. */
  allowedOrigins: string[];
  /** The machine's own addresses (tests inject; default: every interface's address). */
  localAddresses?: string[];
}

export interface RequestGuard {
  /**
   * @throws PatchbayError HOST_NOT_ALLOWED when tokens are unset and `Host` is not a name this
   *   server is known by; ORIGIN_NOT_ALLOWED for a browser request from a foreign origin that
   *   could change something (a WebSocket upgrade, or any method but GET/HEAD/OPTIONS).
   */
  check(request: { method: string; headers: Record<string, string | string[] | undefined> }): void;
  /** Whether a `Host` header value names this server (for links the server hands out). */
  isKnownHost(host: string | undefined): boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `example.com:7070` → `example.com`; `[::1]:7070` → `::1`; lower case, no trailing dot. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  // RFC 6761: *.localhost always resolves to loopback, so it cannot be a rebinding name.
  return isLoopbackHost(name) || name.endsWith('.localhost');
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address.toLowerCase())
    .filter((a): a is string => Boolean(a));
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const names = new Set<string>(options.allowedHosts.map(hostName));
  if (options.publicUrl) names.add(new URL(options.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  const bind = options.host.toLowerCase();
  if (WILDCARDS.has(bind)) {
    // Bound everywhere: the machine's own addresses are its names (a page cannot rebind to an
    // IP literal; it needs a DNS name, and those must be listed).
    for (const a of options.localAddresses ?? machineAddresses()) names.add(a);
  } else {
    names.add(hostName(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind));
  }

  const origins = new Set(options.allowedOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  if (options.publicUrl) origins.add(new URL(options.publicUrl).origin.toLowerCase());

  const isKnownHost = (host: string | undefined): boolean => {
    if (!host) return false;
    const name = hostName(host);
    return isLoopbackName(name) || names.has(name);
  };

  return {
    isKnownHost,
    check(request) {
      const host = header(request.headers, 'host');
      // No Host at all is not a browser (browsers always send it): nothing to rebind.
      if (!options.tokensEnabled && host !== undefined && !isKnownHost(host)) {
        throw new PatchbayError(
          'HOST_NOT_ALLOWED',
          `this server does not answer to the name ${JSON.stringify(hostName(host))}: without PATCHBAY_API_TOKENS it answers only loopback names and PATCHBAY_PUBLIC_URL's host; add the name to PATCHBAY_ALLOWED_HOSTS, or set tokens`,
          { host: hostName(host) },
        );
      }
      const origin = header(request.headers, 'origin');
      const upgrade = header(request.headers, 'upgrade')?.toLowerCase() === 'websocket';
      if (origin === undefined || (!upgrade && SAFE_METHODS.has(request.method))) return;
      const normalized = origin.replace(/\/+$/, '').toLowerCase();
      if (origins.has(normalized)) return;
      // The server's own origin: the page was served by us, under a name we answer to.
      let own = false;
      try {
        const u = new URL(normalized);
        own =
          (u.protocol === 'http:' || u.protocol === 'https:') &&
          host !== undefined &&
          u.host === host.trim().toLowerCase() &&
          isKnownHost(u.host);
      } catch {
        own = false;
      }
      if (!own) {
        throw new PatchbayError(
          'ORIGIN_NOT_ALLOWED',
          `requests from the web page at ${JSON.stringify(origin.slice(0, 200))} are refused: only this server's own pages and PATCHBAY_ALLOWED_ORIGINS may call it from a browser`,
          { origin: origin.slice(0, 200) },
        );
      }
    },
  };
}

/** The guard for this server's configuration. */
export function requestGuardFor(
  config: Pick<
    ResolvedConfig,
    'host' | 'publicUrl' | 'apiTokens' | 'allowedHosts' | 'allowedOrigins'
  >,
): RequestGuard {
  return createRequestGuard({
    host: config.host,
    publicUrl: config.publicUrl,
    tokensEnabled: config.apiTokens.length > 0,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
  });
}

/**
 * The origin links handed to clients start with: PATCHBAY_PUBLIC_URL; else the request's own
 * scheme and Host when that Host is a name the server is known by; else the bound address. A
 * Host header alone never decides where a signed URL points.
 */
export function linkOrigin(
  config: Pick<ResolvedConfig, 'publicUrl' | 'host' | 'port'>,
  guard: RequestGuard,
  request: { protocol: string; host: string },
): string {
  if (config.publicUrl) return config.publicUrl;
  if (guard.isKnownHost(request.host)) return `${request.protocol}://${request.host}`;
  const host = WILDCARDS.has(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}
