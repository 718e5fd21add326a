import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsHtml } from './pages.js';

/**
 * Serves the built dashboard (`web/` built into PATCHBAY_WEB_DIR, by default dist/web) from the
 * API's own origin, so the session cookie, EventSource and WebSocket need no CORS. A small
 * handler rather than a static-files plugin: it reads files from disk per request (nothing
 * cached in memory, the server's memory targets hold), serves the build's precompressed
 * `.br`/`.gz` siblings by `Accept-Encoding`, caches hashed assets for a year and index.html
 * never, and answers any other page URL a browser opens with index.html (the app routes itself).
 */

/** Paths that are never the dashboard's, even when nothing else answers them. */
const RESERVED =
  /^\/(v1|mcp|docs|metrics|health|healthz|ready|api|execute|executions|cursor|telegram)(\/|\?|$)/;

/** The app's policy: its own scripts, styles and connections only (ws: is 'self' in CSP 3). */
export const dashboardContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Vite puts content-hashed files under assets/ (`index-BxYz12_a.js`): they never change. */
const HASHED = /^\/assets\/.+[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

const first = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v;

/** The encodings the client accepts (q > 0), of the two the build precompresses. */
export function acceptedEncodings(header: string | undefined): Set<'br' | 'gzip'> {
  const out = new Set<'br' | 'gzip'>();
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    if (q !== undefined && Number(q) <= 0) continue;
    if (name === 'br' || name === 'gzip') out.add(name);
    if (name === '*') {
      out.add('br');
      out.add('gzip');
    }
  }
  return out;
}

interface Found {
  path: string;
  size: number;
  mtimeMs: number;
}

async function fileAt(path: string): Promise<Found | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ? { path, size: s.size, mtimeMs: s.mtimeMs } : undefined;
}

export interface Dashboard {
  readonly dir: string;
  /** Whether a built dashboard is there (its index.html). */
  available(): boolean;
  /** Requests anyone may make with tokens set: the app's files and pages carry no data. */
  isPublic(request: FastifyRequest): boolean;
  /** Answers a GET/HEAD nothing else answered; false when it is not the dashboard's. */
  serve(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
  /** `GET /`: index.html. */
  serveIndex(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export function createDashboard(dir: string): Dashboard {
  const index = join(dir, 'index.html');
  const available = (): boolean => existsSync(index);

  /** The file a URL path names inside `dir`, or undefined (dotfiles and escapes refused). */
  async function resolveFile(urlPath: string): Promise<Found | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const parts = decoded.split('/').filter(Boolean);
    if (parts.some((p) => p.startsWith('.'))) return undefined;
    const found = await fileAt(join(dir, ...parts));
    if (!found) return undefined;
    // A symlink in the build must not lead out of it.
    const root = realpathSync(dir);
    const real = realpathSync(found.path);
    return real === root || real.startsWith(root + sep) ? found : undefined;
  }

  async function send(
    request: FastifyRequest,
    reply: FastifyReply,
    file: Found,
    urlPath: string,
  ): Promise<void> {
    const type = TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
    const accepted = acceptedEncodings(first(request.headers['accept-encoding']));
    let chosen = file;
    let encoding: string | undefined;
    for (const [enc, suffix] of [
      ['br', '.br'],
      ['gzip', '.gz'],
    ] as const) {
      if (!accepted.has(enc)) continue;
      const variant = await fileAt(file.path + suffix);
      if (variant) {
        chosen = variant;
        encoding = enc;
        break;
      }
    }
    const etag = `"${Math.trunc(chosen.mtimeMs).toString(36)}-${chosen.size.toString(36)}${encoding ? `-${encoding}` : ''}"`;
    reply
      .header('content-type', type)
      .header('vary', 'Accept-Encoding')
      .header('etag', etag)
      .header(
        'cache-control',
        HASHED.test(urlPath) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .header('content-security-policy', dashboardContentSecurityPolicy)
      // The app may be embedded nowhere; same-origin resources only.
      .header('cross-origin-opener-policy', 'same-origin');
    if (encoding) reply.header('content-encoding', encoding);
    if (first(request.headers['if-none-match']) === etag) {
      await reply.code(304).send();
      return;
    }
    reply.header('content-length', String(chosen.size));
    if (request.method === 'HEAD') {
      await reply.send();
      return;
    }
    await reply.send(createReadStream(chosen.path));
  }

  return {
    dir,
    available,
    isPublic(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = request.url.split('?')[0]!;
      if (RESERVED.test(path) || !available()) return false;
      return path === '/' || request.is404;
    },
    async serve(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = request.url.split('?')[0]!;
      if (RESERVED.test(path) || !available()) return false;
      const file = await resolveFile(path);
      if (file) {
        await send(request, reply, file, path);
        return true;
      }
      // A page of the app (a deep link): the app routes itself. Assets that are missing stay
      // 404, or a stale page would be handed HTML for its script.
      if (!wantsHtml(first(request.headers.accept))) return false;
      const page = await fileAt(index);
      if (!page) return false;
      await send(request, reply, page, '/index.html');
      return true;
    },
    async serveIndex(request, reply) {
      const page = await fileAt(index);
      if (page) await send(request, reply, page, '/index.html');
    },
  };
}
