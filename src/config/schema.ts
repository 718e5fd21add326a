import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One entry per setting. The env name, the config-file key and the CLI flag all derive
 * from here, and so does docs/config.md (`npm run docs`; a test fails when it is stale).
 */
export interface SettingSpec<T extends z.ZodType = z.ZodType> {
  /** Key in ResolvedConfig and in patchbay.config.json. */
  readonly key: string;
  /** Environment variable (always PATCHBAY_*). */
  readonly env: string;
  readonly schema: T;
  /** Default as documented (a function when it depends on other settings). */
  readonly defaultText: string;
  readonly description: string;
  /** Secrets are redacted in logs and `patchbay doctor`. */
  readonly secret?: boolean;
}

const MINUTE = 60_000;

const port = z.coerce.number().int().min(0).max(65_535);
const durationMs = z.coerce.number().int().min(1);
const positiveInt = z.coerce.number().int().min(1);
/** Comma-separated in env; an array in the config file. */
const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

/** A switch: in env, '', 0, false, no and off (any case) are off, anything else on. */
const offByDefault = z.preprocess(
  (v) => (typeof v === 'string' ? !['', '0', 'false', 'no', 'off'].includes(v.toLowerCase()) : v),
  z.boolean().default(false),
);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function setting<T extends z.ZodType>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/**
 * The variables each agent CLI reads its provider's credentials and endpoint from. With
 * PATCHBAY_AGENT_CREDENTIALS=auto their values are taken from the server's environment and given
 * to that agent's runs only (never to shell runs, never stored, logged or returned).
 */
export const agentCredentialEnv = {
  claude: [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_BASE_URL',
    'CLAUDE_CODE_OAUTH_TOKEN',
  ],
  codex: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODEX_API_KEY'],
  gemini: [
    'GEMINI_API_KEY',
    'GOOGLE_API_KEY',
    'GOOGLE_GEMINI_BASE_URL',
    'GOOGLE_GENAI_USE_VERTEXAI',
    'GOOGLE_CLOUD_PROJECT',
    'GOOGLE_CLOUD_LOCATION',
    'GOOGLE_APPLICATION_CREDENTIALS',
  ],
  cursor: ['CURSOR_API_KEY'],
} as const satisfies Record<string, readonly string[]>;

export type CredentialAgent = keyof typeof agentCredentialEnv;

export const settings = {
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
  allowedOrigins: setting({
    key: 'allowedOrigins',
    env: 'PATCHBAY_ALLOWED_ORIGINS',
    schema: list.default([]),
    defaultText: "(none: only the server's own origin and PATCHBAY_PUBLIC_URL)",
    description:
      'Further browser origins (e.g. https://tools.example.com) allowed to open the WebSocket or send anything but GET to the API. A foreign `Origin` is refused with ORIGIN_NOT_ALLOWED.',
  }),
  databaseUrl: setting({
    key: 'databaseUrl',
    env: 'PATCHBAY_DATABASE_URL',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: <dataDir>/patchbay.db)',
    description:
      'Store location: a SQLite file path or `sqlite:<path>` (one machine), or `postgres://…` (PostgreSQL, shared by every API node and worker).',
    secret: true,
  }),
  queueUrl: setting({
    key: 'queueUrl',
    env: 'PATCHBAY_QUEUE_URL',
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    defaultText: '(unset: runs wait in the store; events stay in this process)',
    description:
      "Redis for several Patchbay processes sharing one store: runs wait in BullMQ on it and any server's workers take them, and run events are published on it so every server's streams see every run.",
    secret: true,
  }),
  queuePrefix: setting({
    key: 'queuePrefix',
    env: 'PATCHBAY_QUEUE_PREFIX',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('patchbay'),
    defaultText: 'patchbay',
    description:
      'Prefix of every Redis key and channel, so several installations can share one Redis.',
  }),
  queues: setting({
    key: 'queues',
    env: 'PATCHBAY_QUEUES',
    schema: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean)
            : v,
        z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a run queue name')).min(1),
      )
      .default(['default']),
    defaultText: 'default',
    description:
      'Comma-separated run queues this process takes runs from (`serve` and `worker`; `patchbay worker --queues` overrides). A run names its queue with `queue`.',
  }),
  runLeaseMs: setting({
    key: 'runLeaseMs',
    env: 'PATCHBAY_RUN_LEASE_MS',
    schema: z.coerce.number().int().min(1000).default(30_000),
    defaultText: '30000',
    description:
      "How long a process may stay silent before it is taken for lost: its run jobs' lease and its registry heartbeat (renewed every third of it). A lost process's runs end `interrupted` (or start again when their `retries` allow) once it expires.",
  }),
  connectTimeoutMs: setting({
    key: 'connectTimeoutMs',
    env: 'PATCHBAY_CONNECT_TIMEOUT_MS',
    schema: z.coerce.number().int().min(100).default(5000),
    defaultText: '5000',
    description:
      'At start, how long to keep trying PostgreSQL (PATCHBAY_DATABASE_URL) and Redis (PATCHBAY_QUEUE_URL) before refusing to start with STORE_UNAVAILABLE or QUEUE_UNAVAILABLE. A connection lost later is retried for as long as it takes, and reported on `/ready`.',
  }),
  workerGraceMs: setting({
    key: 'workerGraceMs',
    env: 'PATCHBAY_WORKER_GRACE_MS',
    schema: z.coerce.number().int().min(0).default(60_000),
    defaultText: '60000',
    description:
      'On SIGTERM a `patchbay worker` stops taking runs and lets running ones finish for this long; the rest are stopped and queued again for another worker.',
  }),
  workerHealthPort: setting({
    key: 'workerHealthPort',
    env: 'PATCHBAY_WORKER_HEALTH_PORT',
    schema: port.optional(),
    defaultText: '(unset: no HTTP)',
    description:
      '`patchbay worker` serves `GET /health` and `GET /metrics` on this port (bound to PATCHBAY_HOST).',
  }),
  apiTokens: setting({
    key: 'apiTokens',
    env: 'PATCHBAY_API_TOKENS',
    schema: list.default([]),
    defaultText: '(none)',
    description:
      'Comma-separated bearer tokens. When set, every route (SSE and WebSocket included) needs `Authorization: Bearer <token>`; the CLI sends the first one.',
    secret: true,
  }),
  logLevel: setting({
    key: 'logLevel',
    env: 'PATCHBAY_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    defaultText: 'info',
    description: 'Minimum level of log lines.',
  }),
  logFormat: setting({
    key: 'logFormat',
    env: 'PATCHBAY_LOG_FORMAT',
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    defaultText: 'auto',
    description: '`auto` prints JSON, or pretty lines when stderr is a terminal.',
  }),
  otlpEndpoint: setting({
    key: 'otlpEndpoint',
    env: 'PATCHBAY_OTLP_ENDPOINT',
    schema: z.url({ protocol: /^https?$/ }).optional(),
    defaultText: '(unset: tracing off, at no cost)',
    description:
      'OpenTelemetry collector to send traces to over OTLP/HTTP (JSON), e.g. http://127.0.0.1:4318 (`/v1/traces` is appended). Spans cover API requests, runs (queued wait, running, finish), store calls, agent processes and callbacks; runs get a `traceId` and log lines `traceId`/`spanId`.',
  }),
  otlpHeaders: setting({
    key: 'otlpHeaders',
    env: 'PATCHBAY_OTLP_HEADERS',
    schema: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? Object.fromEntries(
                v
                  .split(',')
                  .map((pair) => pair.trim())
                  .filter(Boolean)
                  .map((pair) => {
                    const at = pair.indexOf('=');
                    return at < 1
                      ? [pair, '']
                      : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
                  }),
              )
            : v,
        z.record(
          z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'),
          z.string().min(1, 'name=value pairs'),
        ),
      )
      .default({}),
    defaultText: '(none)',
    description:
      'Headers sent with every trace export, as comma-separated `name=value` pairs (e.g. `x-api-key=…` of a hosted collector).',
    secret: true,
  }),
  otlpServiceName: setting({
    key: 'otlpServiceName',
    env: 'PATCHBAY_OTLP_SERVICE_NAME',
    schema: z.string().min(1).default('patchbay'),
    defaultText: 'patchbay',
    description: 'The `service.name` of the traces this process sends.',
  }),
  sentryDsn: setting({
    key: 'sentryDsn',
    env: 'PATCHBAY_SENTRY_DSN',
    schema: z
      .url({ protocol: /^https?$/ })
      .refine((u) => {
        const parsed = new URL(u);
        return parsed.username !== '' && /\/\d+$/.test(parsed.pathname);
      }, 'a Sentry DSN: https://<key>@<host>/<project id>')
      .optional(),
    defaultText: '(unset: errors are only logged)',
    description:
      'Sentry-compatible DSN to report unexpected errors to (`INTERNAL_ERROR` and other `unexpected` codes, runs failing unexpectedly, unhandled rejections). Reports are scrubbed of tokens, keys, passwords, authorization headers, URL credentials and run environments before they leave.',
    secret: true,
  }),
  maxConcurrentRuns: setting({
    key: 'maxConcurrentRuns',
    env: 'PATCHBAY_MAX_CONCURRENT_RUNS',
    schema: positiveInt.default(4),
    defaultText: '4',
    description: 'Runs executing at once; extra runs wait as `queued` in FIFO order.',
  }),
  runTimeoutMs: setting({
    key: 'runTimeoutMs',
    env: 'PATCHBAY_RUN_TIMEOUT_MS',
    schema: durationMs.default(30 * MINUTE),
    defaultText: '1800000 (30 min)',
    description: 'Default total wall-clock limit of a run (a run may set `timeoutMs`).',
  }),
  idleTimeoutMs: setting({
    key: 'idleTimeoutMs',
    env: 'PATCHBAY_IDLE_TIMEOUT_MS',
    schema: durationMs.default(10 * MINUTE),
    defaultText: '600000 (10 min)',
    description:
      'Default limit on silence: a run that prints nothing for this long ends `timed_out`. Paused time does not count.',
  }),
  resultGraceMs: setting({
    key: 'resultGraceMs',
    env: 'PATCHBAY_RESULT_GRACE_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'After an agent prints its final result line, how long it may take to exit before it is killed.',
  }),
  killGraceMs: setting({
    key: 'killGraceMs',
    env: 'PATCHBAY_KILL_GRACE_MS',
    schema: durationMs.default(5000),
    defaultText: '5000',
    description: 'Time between SIGTERM and SIGKILL when a run is cancelled or times out.',
  }),
  maxOutputBytes: setting({
    key: 'maxOutputBytes',
    env: 'PATCHBAY_MAX_OUTPUT_BYTES',
    schema: positiveInt.default(10 * 1024 * 1024),
    defaultText: '10485760 (10 MiB)',
    description: 'Default output cap of a run (stdout and stderr together).',
  }),
  outputPolicy: setting({
    key: 'outputPolicy',
    env: 'PATCHBAY_OUTPUT_POLICY',
    schema: z.enum(['kill', 'truncate']).default('truncate'),
    defaultText: 'truncate',
    description:
      'What happens past the cap: `truncate` keeps the head and a tail, drops the middle and lets the run go on; `kill` fails the run with OUTPUT_LIMIT_EXCEEDED.',
  }),
  outputTailBytes: setting({
    key: 'outputTailBytes',
    env: 'PATCHBAY_OUTPUT_TAIL_BYTES',
    schema: positiveInt.default(1024 * 1024),
    defaultText: '1048576 (1 MiB)',
    description:
      'With `truncate`, the size of the tail kept after the cap (at most a quarter of the cap).',
  }),
  outputDropRate: setting({
    key: 'outputDropRate',
    env: 'PATCHBAY_OUTPUT_DROP_RATE',
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .default(4 * 1024 * 1024),
    defaultText: '4194304 (4 MiB/s)',
    description:
      'With `truncate`, past the cap: the most bytes per second read and dropped; a child printing faster waits on its full pipe. 0 = no limit.',
  }),
  workspaceRoots: setting({
    key: 'workspaceRoots',
    env: 'PATCHBAY_WORKSPACE_ROOTS',
    schema: list.optional(),
    defaultText: '<dataDir>/workspaces',
    description:
      "Comma-separated trusted roots. A run `workdir` (a conversation's and a schedule's too) and a repository registered by path must resolve (symlinks included) inside one of them; a relative `workdir` is taken from the first. A refusal (`WORKDIR_NOT_TRUSTED`) lists them.",
  }),
  allowedCommands: setting({
    key: 'allowedCommands',
    env: 'PATCHBAY_ALLOWED_COMMANDS',
    schema: list.optional(),
    defaultText: '(unset: any)',
    description:
      'Comma-separated executable names the shell agent may run; anything else is refused with COMMAND_NOT_ALLOWED.',
  }),
  childEnvAllowlist: setting({
    key: 'childEnvAllowlist',
    env: 'PATCHBAY_CHILD_ENV_ALLOWLIST',
    schema: list.default([
      'PATH',
      'HOME',
      'LANG',
      'LC_ALL',
      'LC_CTYPE',
      'TERM',
      'TZ',
      'USER',
      'LOGNAME',
      'SHELL',
      'TMPDIR',
    ]),
    defaultText: 'PATH,HOME,LANG,LC_ALL,LC_CTYPE,TERM,TZ,USER,LOGNAME,SHELL,TMPDIR',
    description:
      "Server environment variables a child inherits. Nothing else of the server's environment reaches a run.",
  }),
  agentCredentials: setting({
    key: 'agentCredentials',
    env: 'PATCHBAY_AGENT_CREDENTIALS',
    schema: z.enum(['auto', 'none']).default('auto'),
    defaultText: 'auto',
    description:
      "`auto`: each agent's runs get its provider's credential variables (ANTHROPIC_API_KEY for claude, OPENAI_API_KEY for codex, GEMINI_API_KEY for gemini, CURSOR_API_KEY for cursor, and the others listed in docs/agents.md) from the server's environment, even though the child environment is otherwise clean; never stored, logged or returned. `none`: they get only PATCHBAY_CHILD_ENV_ALLOWLIST and the run's `env`.",
  }),
  agentClaudeBin: setting({
    key: 'agentClaudeBin',
    env: 'PATCHBAY_AGENT_CLAUDE_BIN',
    schema: z.string().min(1).default('claude'),
    defaultText: 'claude',
    description: "The Claude agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentCursorBin: setting({
    key: 'agentCursorBin',
    env: 'PATCHBAY_AGENT_CURSOR_BIN',
    schema: z.string().min(1).default('cursor-agent'),
    defaultText: 'cursor-agent',
    description: "The Cursor agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentCodexBin: setting({
    key: 'agentCodexBin',
    env: 'PATCHBAY_AGENT_CODEX_BIN',
    schema: z.string().min(1).default('codex'),
    defaultText: 'codex',
    description: "The Codex agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  agentGeminiBin: setting({
    key: 'agentGeminiBin',
    env: 'PATCHBAY_AGENT_GEMINI_BIN',
    schema: z.string().min(1).default('gemini'),
    defaultText: 'gemini',
    description: "The Gemini agent CLI: a name looked up on the run's PATH, or a path.",
  }),
  sandbox: setting({
    key: 'sandbox',
    env: 'PATCHBAY_SANDBOX',
    schema: z.enum(['none', 'bwrap']).default('none'),
    defaultText: 'none',
    description:
      "`bwrap` runs every run under bubblewrap: the file system read-only except the run's workspace, a private /tmp, the data dir hidden, its own PID namespace and no network unless the run sets `network: true`. The server refuses to start when bwrap cannot build a sandbox (`patchbay doctor` tells).",
  }),
  sandboxBwrapBin: setting({
    key: 'sandboxBwrapBin',
    env: 'PATCHBAY_SANDBOX_BWRAP_BIN',
    schema: z.string().min(1).default('bwrap'),
    defaultText: 'bwrap',
    description: 'The bubblewrap executable (Debian package `bubblewrap`).',
  }),
  runContainment: setting({
    key: 'runContainment',
    env: 'PATCHBAY_RUN_CONTAINMENT',
    schema: z.enum(['auto', 'pidns', 'none']).default('auto'),
    defaultText: 'auto',
    description:
      "How runs without the bwrap sandbox are kept from outliving themselves. `pidns` starts each run in its own PID namespace (util-linux `unshare`, as root or in a user namespace) with a private /proc: when the run ends, is cancelled or times out, every process it left behind is killed, even one that left its process group (`setsid`, a double fork), and it cannot read the server's /proc entries. The server refuses to start when that is unavailable. `auto` uses it when available and otherwise only the process group (`patchbay doctor` tells which). `none`: only the process group, and the run sees every process of the machine. With PATCHBAY_SANDBOX=bwrap the sandbox's own PID namespace does this.",
  }),
  workspaceTtlMs: setting({
    key: 'workspaceTtlMs',
    env: 'PATCHBAY_WORKSPACE_TTL_MS',
    schema: durationMs.default(7 * 24 * 3_600_000),
    defaultText: '604800000 (7 days)',
    description:
      "How long a finished run's worktree (and fresh directory) is kept. Then it is removed with its branch, unless the branch was pushed. A workdir you gave is never removed.",
  }),
  allowPrivateRepoUrls: setting({
    key: 'allowPrivateRepoUrls',
    env: 'PATCHBAY_ALLOW_PRIVATE_REPO_URLS',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Allow repository URLs whose host resolves to a loopback, private, link-local or otherwise reserved address (an internal git server). Redirects stay refused.',
  }),
  cloneTimeoutMs: setting({
    key: 'cloneTimeoutMs',
    env: 'PATCHBAY_CLONE_TIMEOUT_MS',
    schema: durationMs.default(300_000),
    defaultText: '300000 (5 min)',
    description: 'Time limit of cloning or fetching a repository.',
  }),
  conversationSummaryMessages: setting({
    key: 'conversationSummaryMessages',
    env: 'PATCHBAY_CONVERSATION_SUMMARY_MESSAGES',
    schema: z.coerce.number().int().min(1).max(100).default(6),
    defaultText: '6',
    description:
      "When a conversation outgrows the agent's context window, how many of its last messages the summary that seeds the next session keeps (with the first prompt and the changed files).",
  }),
  budgetTimezone: setting({
    key: 'budgetTimezone',
    env: 'PATCHBAY_BUDGET_TIMEZONE',
    schema: z
      .string()
      .min(1)
      .refine(isTimeZone, 'an IANA timezone such as UTC or Europe/Paris')
      .default('UTC'),
    defaultText: 'UTC',
    description:
      'Timezone whose midnight ends a budget day: runs, agent minutes and USD per day count the runs created since then.',
  }),
  budgetInputUsdPerMtok: setting({
    key: 'budgetInputUsdPerMtok',
    env: 'PATCHBAY_BUDGET_INPUT_USD_PER_MTOK',
    schema: z.coerce.number().min(0).default(3),
    defaultText: '3',
    description:
      'USD per million input tokens, to estimate the cost of an agent run that reported token usage but no cost (cache reads at 10% of it, cache writes at 125%). An estimate for budgets only.',
  }),
  budgetOutputUsdPerMtok: setting({
    key: 'budgetOutputUsdPerMtok',
    env: 'PATCHBAY_BUDGET_OUTPUT_USD_PER_MTOK',
    schema: z.coerce.number().min(0).default(15),
    defaultText: '15',
    description:
      'USD per million output tokens, for the same estimate (see PATCHBAY_BUDGET_INPUT_USD_PER_MTOK).',
  }),
  webhookSecret: setting({
    key: 'webhookSecret',
    env: 'PATCHBAY_WEBHOOK_SECRET',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: callbacks are unsigned)',
    description: 'HMAC-SHA256 key for `X-Patchbay-Signature: sha256=<hex>` on callback deliveries.',
    secret: true,
  }),
  secretsKey: setting({
    key: 'secretsKey',
    env: 'PATCHBAY_SECRETS_KEY',
    schema: z.string().min(16, 'at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
    defaultText: '(unset: a random key in <dataDir>/secrets.key with SQLite; none with PostgreSQL)',
    description:
      "Key that seals runs' `env` values in the store (AES-256-GCM). Set the same value on every API node and worker sharing a PostgreSQL store: without it their env values are stored unsealed.",
    secret: true,
  }),
  artifactUrlSecret: setting({
    key: 'artifactUrlSecret',
    env: 'PATCHBAY_ARTIFACT_URL_SECRET',
    schema: z.string().min(16).optional(),
    defaultText: '(unset: a random key kept in <dataDir>/artifact-url.key)',
    description:
      'HMAC-SHA256 key of the expiring artifact URLs (`GET /v1/artifacts/:id/url`). Every API node must use the same key: set it, or share the data dir.',
    secret: true,
  }),
  artifactUrlTtlMs: setting({
    key: 'artifactUrlTtlMs',
    env: 'PATCHBAY_ARTIFACT_URL_TTL_MS',
    schema: durationMs.default(3_600_000),
    defaultText: '3600000',
    description: 'How long a signed artifact URL works when the request names no `ttlSeconds`.',
  }),
  allowPrivateCallbackUrls: setting({
    key: 'allowPrivateCallbackUrls',
    env: 'PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Allow callback URLs that reach a loopback, private, link-local or otherwise reserved address (a receiver on this host or the internal network). Off, such a callbackUrl is refused when the run is created (`CALLBACK_URL_FORBIDDEN`), and a name that resolves to one is refused again at every delivery.',
  }),
  callbackMaxAttempts: setting({
    key: 'callbackMaxAttempts',
    env: 'PATCHBAY_CALLBACK_MAX_ATTEMPTS',
    schema: positiveInt.default(6),
    defaultText: '6',
    description: 'Tries per callback delivery before it is recorded as failed.',
  }),
  callbackBackoffMs: setting({
    key: 'callbackBackoffMs',
    env: 'PATCHBAY_CALLBACK_BACKOFF_MS',
    schema: durationMs.default(1000),
    defaultText: '1000',
    description: 'First retry delay of a callback; doubles each try (with jitter).',
  }),
  callbackTimeoutMs: setting({
    key: 'callbackTimeoutMs',
    env: 'PATCHBAY_CALLBACK_TIMEOUT_MS',
    schema: durationMs.default(10_000),
    defaultText: '10000',
    description: 'Time limit of one callback request.',
  }),
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
  eventFlushMs: setting({
    key: 'eventFlushMs',
    env: 'PATCHBAY_EVENT_FLUSH_MS',
    schema: z.coerce.number().int().min(0).default(5),
    defaultText: '5',
    description: 'Longest wait before buffered run events are written in one transaction.',
  }),
};

export type SettingKey = keyof typeof settings;

/** The validated, fully-defaulted configuration handed to every module. */
export interface ResolvedConfig {
  dataDir: string;
  host: string;
  port: number;
  url: string | undefined;
  /** The CLI's bearer token; unset means the first of `apiTokens`. */
  token: string | undefined;
  /** Always set: defaults to the SQLite file in the data dir. */
  databaseUrl: string;
  queueUrl: string | undefined;
  queuePrefix: string;
  queues: string[];
  runLeaseMs: number;
  connectTimeoutMs: number;
  workerGraceMs: number;
  workerHealthPort: number | undefined;
  apiTokens: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'auto' | 'json' | 'pretty';
  otlpEndpoint: string | undefined;
  otlpHeaders: Record<string, string>;
  otlpServiceName: string;
  sentryDsn: string | undefined;
  maxConcurrentRuns: number;
  runTimeoutMs: number;
  idleTimeoutMs: number;
  resultGraceMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
  outputPolicy: 'kill' | 'truncate';
  outputTailBytes: number;
  outputDropRate: number;
  /** Always set: defaults to `<dataDir>/workspaces`. */
  workspaceRoots: string[];
  allowedCommands: string[] | undefined;
  childEnvAllowlist: string[];
  /** Values of the allow-listed variables, captured once from the server's environment. */
  childEnvBase: Record<string, string>;
  /** Values of each agent's credential variables, captured once (PATCHBAY_AGENT_CREDENTIALS). */
  agentCredentialValues: Record<CredentialAgent, Record<string, string>>;
  agentCredentials: 'auto' | 'none';
  workspaceTtlMs: number;
  sandbox: 'none' | 'bwrap';
  sandboxBwrapBin: string;
  runContainment: 'auto' | 'pidns' | 'none';
  conversationSummaryMessages: number;
  budgetTimezone: string;
  budgetInputUsdPerMtok: number;
  budgetOutputUsdPerMtok: number;
  allowPrivateRepoUrls: boolean;
  cloneTimeoutMs: number;
  agentClaudeBin: string;
  agentCursorBin: string;
  agentCodexBin: string;
  agentGeminiBin: string;
  webhookSecret: string | undefined;
  artifactUrlSecret: string | undefined;
  secretsKey: string | undefined;
  artifactUrlTtlMs: number;
  publicUrl: string | undefined;
  allowedHosts: string[];
  allowedOrigins: string[];
  allowPrivateCallbackUrls: boolean;
  callbackMaxAttempts: number;
  callbackBackoffMs: number;
  callbackTimeoutMs: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  runCreateRateLimit: number;
  authFailureLimit: number;
  eventFlushMs: number;
}
