/**
 * The HTTP server: where it binds and is reached, who may call it (hosts, origins, tokens)
 * and how much one request or client may ask of it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { port, durationMs, positiveInt, list, setting } from './spec.js';

export const serverSettings = {
  dataDir: setting({
    key: 'dataDir',
    env: 'PATCHBAY_DATA_DIR',
    schema: z.string().min(1).default(join(homedir(), '.patchbay')),
    defaultText: '~/.patchbay',
    description: 'Where the SQLite store, workspaces and artifacts live.',
  }),
  host: setting({
    key: 'host',
    env: 'PATCHBAY_HOST',
    schema: z.string().min(1).default('127.0.0.1'),
    defaultText: '127.0.0.1',
    description:
      'Address the server binds. Anything but loopback requires PATCHBAY_API_TOKENS, or the server refuses to start.',
  }),
  port: setting({
    key: 'port',
    env: 'PATCHBAY_PORT',
    schema: port.default(7070),
    defaultText: '7070',
    description: 'TCP port of the HTTP API, SSE and WebSocket.',
  }),
  url: setting({
    key: 'url',
    env: 'PATCHBAY_URL',
    schema: z.url().optional(),
    defaultText: '(unset)',
    description:
      "Server the CLI talks to (`--url` on any command, before or after the subcommand). Unset: `patchbay run` runs embedded on the data dir; `runs`, `logs`, `diff` and `files` try http://<host>:<port>, then read the data dir's store; the other commands use http://<host>:<port>. See docs/cli.md.",
  }),
  token: setting({
    key: 'token',
    env: 'PATCHBAY_TOKEN',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: the first of PATCHBAY_API_TOKENS)',
    description:
      "Bearer token the CLI sends to the server (`--token` on any command). One of the server's PATCHBAY_API_TOKENS.",
    secret: true,
  }),
  publicUrl: setting({
    key: 'publicUrl',
    env: 'PATCHBAY_PUBLIC_URL',
    schema: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    defaultText: '(unset: the scheme and Host of each request)',
    description:
      'Base URL clients reach the API at (e.g. https://patchbay.example.com behind a proxy): links the server hands out, such as signed artifact URLs, start with it.',
  }),
  allowedHosts: setting({
    key: 'allowedHosts',
    env: 'PATCHBAY_ALLOWED_HOSTS',
    schema: list.default([]),
    defaultText: "(none: loopback names, the bind address and PATCHBAY_PUBLIC_URL's host)",
    description:
      'Further host names the server answers to without PATCHBAY_API_TOKENS (comma-separated). Any other `Host` is refused with HOST_NOT_ALLOWED, so a DNS-rebinding web page cannot reach the API.',
  }),
  webDir: setting({
    key: 'webDir',
    env: 'PATCHBAY_WEB_DIR',
    schema: z.string().min(1).optional(),
    defaultText: "(the package's dist/web, written by npm run build)",
    description:
      'Directory of the built dashboard that `patchbay serve` serves at `/`. When it has no index.html, `/` says how to build it.',
  }),
  allowedOrigins: setting({
    key: 'allowedOrigins',
    env: 'PATCHBAY_ALLOWED_ORIGINS',
    schema: list.default([]),
    defaultText: "(none: only the server's own origin and PATCHBAY_PUBLIC_URL)",
    description:
      'Further browser origins (e.g. https://tools.example.com) allowed to open the WebSocket or send anything but GET to the API. A foreign `Origin` is refused with ORIGIN_NOT_ALLOWED.',
  }),
};

/** Who may call the API. */
export const authSettings = {
  apiTokens: setting({
    key: 'apiTokens',
    env: 'PATCHBAY_API_TOKENS',
    schema: list.default([]),
    defaultText: '(none)',
    description:
      'Comma-separated bearer tokens. When set, every route (SSE and WebSocket included) needs `Authorization: Bearer <token>` or a dashboard session cookie (see docs/dashboard.md); the CLI sends the first one.',
    secret: true,
  }),
  sessionTtlMs: setting({
    key: 'sessionTtlMs',
    env: 'PATCHBAY_SESSION_TTL_MS',
    schema: durationMs.default(12 * 3_600_000),
    defaultText: '43200000 (12 h)',
    description:
      'How long a dashboard login lasts: the session cookie made by `POST /v1/auth/login` stops working this long after the login (log in again). Expired sessions are pruned from the store.',
  }),
};

/** How much one request, or one client per minute, may ask of the server. */
export const requestLimitSettings = {
  requestTimeoutMs: setting({
    key: 'requestTimeoutMs',
    env: 'PATCHBAY_REQUEST_TIMEOUT_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'Time a client has to send a whole request (headers and body); a slower one is cut off. Streams that are already answering (SSE, WebSocket) are not affected.',
  }),
  bodyLimitBytes: setting({
    key: 'bodyLimitBytes',
    env: 'PATCHBAY_BODY_LIMIT_BYTES',
    schema: positiveInt.default(1024 * 1024),
    defaultText: '1048576 (1 MiB)',
    description: 'Largest accepted request body.',
  }),
  authFailureLimit: setting({
    key: 'authFailureLimit',
    env: 'PATCHBAY_AUTH_FAILURE_LIMIT',
    schema: positiveInt.default(30),
    defaultText: '30',
    description:
      'Wrong bearer tokens one address may send per minute. Past it, every request of that address that needs a token is answered 429 RATE_LIMITED, valid token or not, until the minute ends, so tokens cannot be guessed quickly.',
  }),
  runCreateRateLimit: setting({
    key: 'runCreateRateLimit',
    env: 'PATCHBAY_RUN_CREATE_RATE_LIMIT',
    schema: positiveInt.default(600),
    defaultText: '600',
    description: 'Runs one client (token, or address without tokens) may create per minute.',
  }),
};
