/**
 * The error catalog: every error Patchbay reports to a client, a log line or a run record
 * has one stable code here. Codes are area-first SCREAMING_SNAKE and are never reused.
 *
 * `kind` tells who must act: `user` (fix the request), `operational` (the environment
 * misbehaved: retry or fix the deployment), `unexpected` (a bug: report it).
 * `docs/errors.md` is generated from this table and a test keeps it in sync.
 */
import type { ErrorDefinition, ErrorKind } from './error-definition.js';
import { inboxErrors } from './errors-inbox.js';
import { integrationErrors } from './errors-integrations.js';

export type { ErrorDefinition, ErrorKind } from './error-definition.js';

export const errorCatalog = {
  // --- requests -----------------------------------------------------------------------
  VALIDATION_FAILED: {
    status: 400,
    kind: 'user',
    message: 'The request is invalid; see details for the offending fields.',
  },
  UNAUTHORIZED: {
    status: 401,
    kind: 'user',
    message:
      'A valid bearer token (Authorization: Bearer <token>) or dashboard session cookie is required.',
  },
  CSRF_CHECK_FAILED: {
    status: 403,
    kind: 'user',
    message:
      "A browser request that changes something with a session cookie must come from this server's own page (Origin / Sec-Fetch-Site) and carry the header X-Patchbay-CSRF: 1.",
  },
  AUTH_NOT_ENABLED: {
    status: 409,
    kind: 'user',
    message: 'This server has no PATCHBAY_API_TOKENS: there is nothing to log in to.',
  },
  ROUTE_NOT_FOUND: { status: 404, kind: 'user', message: 'No such route.' },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    kind: 'user',
    message: 'The request body exceeds the configured limit.',
  },
  EVENTS_STREAM_ONLY: {
    status: 406,
    kind: 'user',
    message: 'GET /v1/events is a server-sent event stream: ask with Accept: text/event-stream.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    kind: 'user',
    message: 'The request body must be JSON (Content-Type: application/json).',
  },
  HOST_NOT_ALLOWED: {
    status: 421,
    kind: 'user',
    message:
      'This server does not answer to that host name (without API tokens it answers loopback names, PATCHBAY_PUBLIC_URL and PATCHBAY_ALLOWED_HOSTS only).',
  },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    kind: 'user',
    message:
      "Browser requests from another web site are refused (only the server's own pages and PATCHBAY_ALLOWED_ORIGINS).",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    kind: 'user',
    message: 'The request was not received in time.',
  },
  RATE_LIMITED: {
    status: 429,
    kind: 'user',
    message: 'Too many requests; retry after the time given in Retry-After.',
  },
  // --- runs ---------------------------------------------------------------------------
  RUN_NOT_FOUND: { status: 404, kind: 'user', message: 'No run with this id.' },
  RUN_NOT_ACTIVE: {
    status: 409,
    kind: 'user',
    message: 'The run is not in a state that allows this action.',
  },
  RUN_COMMAND_REQUIRED: {
    status: 400,
    kind: 'user',
    message: 'The shell agent needs a non-empty `command` array.',
  },
  RUN_PROMPT_REQUIRED: {
    status: 400,
    kind: 'user',
    message: 'Coding agents need a non-empty `prompt`.',
  },
  AGENT_NOT_INSTALLED: {
    status: 400,
    kind: 'operational',
    message:
      "The agent's CLI is not installed on this server: details.install says how to install it, and PATCHBAY_AGENT_<NAME>_BIN points at another binary.",
  },
  AGENT_NOT_SUPPORTED: {
    status: 400,
    kind: 'user',
    message: 'This agent is not available on this server.',
  },
  COMMAND_NOT_ALLOWED: {
    status: 403,
    kind: 'user',
    message: 'The executable is not in PATCHBAY_ALLOWED_COMMANDS.',
  },
  COMMAND_SCRIPT_UNCHECKABLE: {
    status: 403,
    kind: 'user',
    message:
      'With PATCHBAY_ALLOWED_COMMANDS set, a shell string runs only when each of its commands can be read and is allowed; this one uses a construct that cannot be checked (details.reason).',
  },
  WORKDIR_NOT_TRUSTED: {
    status: 403,
    kind: 'user',
    message:
      'The working directory is outside every trusted workspace root; details.roots lists them, and PATCHBAY_WORKSPACE_ROOTS (comma-separated) adds one.',
  },
  WORKDIR_NOT_FOUND: {
    status: 400,
    kind: 'user',
    message: 'The working directory does not exist or is not a directory.',
  },
  PTY_UNAVAILABLE: {
    status: 400,
    kind: 'operational',
    message: 'A PTY was requested but node-pty is not installed on this server.',
  },
  REPO_NOT_FOUND: { status: 404, kind: 'user', message: 'No repository with this id.' },
  GITHUB_NOT_CONFIGURED: {
    status: 400,
    kind: 'user',
    message:
      'GitHub is not configured: set PATCHBAY_GITHUB_TOKEN, or a GitHub App (PATCHBAY_GITHUB_APP_ID and PATCHBAY_GITHUB_APP_PRIVATE_KEY_FILE).',
  },
  GITHUB_WEBHOOK_UNAUTHORIZED: {
    status: 401,
    kind: 'user',
    message: 'The webhook delivery is not signed with the configured secret (X-Hub-Signature-256).',
  },
  GITHUB_API_FAILED: {
    status: 502,
    kind: 'operational',
    message: 'GitHub answered with an error.',
  },
  DELIVERY_NOT_POSSIBLE: {
    status: 400,
    kind: 'user',
    message:
      'This run cannot deliver that way: deliver needs a repository run on a repository registered with its GitHub name (`github: owner/name`).',
  },
  REPO_REF_NOT_FOUND: {
    status: 400,
    kind: 'user',
    message: 'The ref does not name a commit in the repository.',
  },
  RUN_DIFF_NOT_AVAILABLE: {
    status: 404,
    kind: 'user',
    message: 'The run has no diff: it did not run on a repository, or has not ended yet.',
  },
  REPO_NOT_GIT: {
    status: 400,
    kind: 'user',
    message: 'The path is not the top of a git repository.',
  },
  REPO_CLONE_FAILED: {
    status: 502,
    kind: 'operational',
    message: 'The repository could not be cloned (unreachable, not found, or timed out).',
  },
  REPO_PATH_INVALID: {
    status: 400,
    kind: 'user',
    message: 'The path must be relative to the repository, without `..` or NUL.',
  },
  REPO_URL_FORBIDDEN: {
    status: 400,
    kind: 'user',
    message:
      'Repository URLs must be https:// and reach only public addresses (not loopback, private, link-local or otherwise reserved).',
  },
  REPO_FETCH_FAILED: {
    status: 502,
    kind: 'operational',
    message: 'The repository could not be fetched (unreachable, redirected, or timed out).',
  },
  CALLBACK_URL_INVALID: {
    status: 400,
    kind: 'user',
    message: 'callbackUrl must be an absolute http(s) URL.',
  },
  CALLBACK_SECRET_MISSING: {
    status: 400,
    kind: 'user',
    message:
      'callbackFormat `standard-webhooks` signs every callback: set PATCHBAY_WEBHOOK_SECRET (e.g. `whsec_` + 32 random bytes in base64) on the server.',
  },
  CALLBACK_URL_FORBIDDEN: {
    status: 400,
    kind: 'user',
    message:
      'callbackUrl must reach only public addresses (not loopback, private, link-local or otherwise reserved) and carry no credentials; PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS allows private targets.',
  },
  // --- how a run ended (recorded in run.error) ------------------------------------------
  RUN_EXIT_NONZERO: {
    status: 500,
    kind: 'user',
    message: 'The command exited with a non-zero code.',
  },
  RUN_KILLED_BY_SIGNAL: {
    status: 500,
    kind: 'operational',
    message: 'The command was killed by a signal it did not expect.',
  },
  RUN_SPAWN_FAILED: {
    status: 500,
    kind: 'user',
    message: 'The command could not be started (not found or not executable).',
  },
  RUN_TIMEOUT: { status: 504, kind: 'user', message: 'The run exceeded its total timeout.' },
  RUN_IDLE_TIMEOUT: {
    status: 504,
    kind: 'user',
    message: 'The run printed nothing for longer than its idle timeout.',
  },
  RUN_RESULT_GRACE_EXCEEDED: {
    status: 504,
    kind: 'operational',
    message: 'The agent reported its result but did not exit within the grace period.',
  },
  RUN_CANCELLED: { status: 409, kind: 'user', message: 'The run was cancelled.' },
  RUN_INTERRUPTED: {
    status: 500,
    kind: 'operational',
    message: 'The server running this run stopped before it finished.',
  },
  OUTPUT_LIMIT_EXCEEDED: {
    status: 500,
    kind: 'user',
    message: 'The run printed more than its output limit and the policy is `kill`.',
  },
  AGENT_RESULT_ERROR: {
    status: 502,
    kind: 'operational',
    message: 'The agent reported that its turn failed.',
  },
  AGENT_TURN_INTERRUPTED: {
    status: 409,
    kind: 'user',
    message: "The agent's turn was interrupted on request; its session can be resumed.",
  },
  AGENT_SESSION_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message:
      'The session to resume is not stored here: no earlier run of this agent kept its transcript (the llm agent keeps it as a transcript.json artifact).',
  },
  AGENT_CONTEXT_WINDOW_EXCEEDED: {
    status: 502,
    kind: 'operational',
    message: "The conversation no longer fits the agent's context window.",
  },
  AGENT_AUTH_FAILED: {
    status: 502,
    kind: 'operational',
    message:
      "The agent's model provider refused its credentials (401/403): set them with PATCHBAY_AGENT_CREDENTIALS or log the CLI in; `patchbay doctor` checks them.",
  },
  AGENT_RATE_LIMITED: {
    status: 502,
    kind: 'operational',
    message:
      "The agent's model provider is rate limiting it (429 or quota exhausted); the run's error.retryAfterMs says when to try again, when the provider said.",
  },
  AGENT_PROVIDER_ERROR: {
    status: 502,
    kind: 'operational',
    message:
      "The agent's model provider failed (a 5xx, overloaded, or the connection was lost) after the CLI's own retries.",
  },
  AGENT_PERMISSION_DENIED: {
    status: 403,
    kind: 'user',
    message:
      "The agent was refused a tool use by its permission policy or its own sandbox: the run did not do all it was asked. The run's permissionDenials lists them; agentPermissions sets the policy.",
  },
  AGENT_NOT_TRUSTED: {
    status: 500,
    kind: 'operational',
    message:
      'The agent CLI refused to work in this directory because it does not trust it; Patchbay passes the trust flag the CLI needs, so check the CLI version against `patchbay doctor`.',
  },
  AGENT_SETUP_FAILED: {
    status: 500,
    kind: 'operational',
    message:
      "The agent CLI stopped before it began its turn (its configuration, settings or arguments); the run's error message is the CLI's own last line.",
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    kind: 'operational',
    message: 'The Redis server of PATCHBAY_QUEUE_URL does not answer.',
  },
  SANDBOX_UNAVAILABLE: {
    status: 500,
    kind: 'operational',
    message:
      'PATCHBAY_SANDBOX=bwrap is set but bubblewrap cannot create a sandbox on this machine.',
  },
  RUN_CONTAINMENT_UNAVAILABLE: {
    status: 500,
    kind: 'operational',
    message:
      'PATCHBAY_RUN_CONTAINMENT=pidns is set but this machine cannot give a run its own PID namespace (util-linux `unshare`, as root or with unprivileged user namespaces).',
  },
  OPTIMIZE_BASELINE_FAILED: {
    status: 422,
    kind: 'user',
    message:
      "The repository's own baseline is red (install, build, typecheck, tests or benchmark failed): nothing can be proven against it. details.step names the step (details.missing a program the step needs that is not installed, such as pnpm); logs.txt has its output.",
  },
  OPTIMIZE_STAGE_TIMEOUT: {
    status: 504,
    kind: 'user',
    message:
      "An optimizer stage ran past its time budget (details.stage, details.budgetMs, details.step: what it was running); the commands it ran were stopped. Raise PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS (optimizeStageTimeoutMs in patchbay.config.json), or make the repository's slow step faster (logs.txt has its output).",
  },
  OPTIMIZE_STAGE_OUT_OF_ORDER: {
    status: 409,
    kind: 'user',
    message:
      'An optimizer stage found the files of the stage before it missing: stages run in order (detect, baseline, scan, patch, validate, propose) in one directory.',
  },
  OPTIMIZE_APPLY_DIRTY: {
    status: 409,
    kind: 'user',
    message:
      "The repository to apply a proposal to has uncommitted changes (details.files lists them): commit or stash them first, so the proposal's commit holds only its own change.",
  },
  OPTIMIZE_APPLY_CONFLICT: {
    status: 409,
    kind: 'user',
    message:
      "The proposal's diff does not apply to the repository's HEAD (the code it changes has changed since the optimization); run the optimization again on the current code.",
  },
  PROPOSAL_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message: 'No proposal with this id.',
  },
  ARTIFACT_NOT_FOUND: {
    status: 404,
    kind: 'user',
    message: 'No artifact with this id, or its file is gone from the data dir.',
  },
  ARTIFACT_PATH_INVALID: {
    status: 400,
    kind: 'user',
    message:
      'An artifact id or name may not contain `..`, `/`, `\\` or NUL: artifacts are addressed by id only.',
  },
  ARTIFACT_URL_INVALID: {
    status: 403,
    kind: 'user',
    message:
      'The signed artifact URL is expired, or its signature does not match (get a fresh one from GET /v1/artifacts/:id/url).',
  },
  WORKSPACE_UNAVAILABLE: {
    status: 409,
    kind: 'user',
    message:
      'The workspace this run continues in no longer exists (its first run never got one, or it expired).',
  },
  BUDGET_EXCEEDED: {
    status: 429,
    kind: 'user',
    message:
      'The run would exceed a budget (global or its repository); retry after the time given in Retry-After.',
  },
  BUDGET_NOT_FOUND: { status: 404, kind: 'user', message: 'No budget is set for this scope.' },
  CONVERSATION_NOT_FOUND: { status: 404, kind: 'user', message: 'No conversation with this id.' },
  CONVERSATION_AGENT_MISMATCH: {
    status: 400,
    kind: 'user',
    message: "A conversation's runs all use the agent it was created with.",
  },
  ...integrationErrors,
  ...inboxErrors,
  // --- schedules ----------------------------------------------------------------------
  SCHEDULE_NOT_FOUND: { status: 404, kind: 'user', message: 'No schedule with this id.' },
  SCHEDULE_INVALID: {
    status: 400,
    kind: 'user',
    message:
      'The schedule is invalid: the cron expression needs 5 fields (or 6 with seconds) and the time zone must be an IANA name; see details.',
  },
  // --- optimizer --------------------------------------------------------------------
  OPTIMIZER_CONFIG_INVALID: {
    status: 400,
    kind: 'user',
    message:
      "The repository's optimizer overrides (.patchbay.json or its settings) are invalid; see details.",
  },
  OPTIMIZER_PACKAGE_JSON_INVALID: {
    status: 400,
    kind: 'user',
    message: "The repository's package.json is not a valid JSON object.",
  },
  // --- model providers (src/llm) -------------------------------------------------------
  LLM_NOT_CONFIGURED: {
    status: 400,
    kind: 'user',
    message:
      'No model provider is configured for this call: set PATCHBAY_LLM_PROVIDER and its key (or a base URL for an OpenAI-compatible server); see docs/llm.md.',
  },
  LLM_AUTH_FAILED: {
    status: 502,
    kind: 'user',
    message:
      "The model provider refused the API key (401/403): check the provider's key setting (PATCHBAY_OPENAI_API_KEY and friends).",
  },
  LLM_RATE_LIMITED: {
    status: 429,
    kind: 'operational',
    message:
      'The model provider is rate limiting these calls (429) and kept doing so through the retries; details.retryAfterMs says when it allows the next one.',
  },
  LLM_OVERLOADED: {
    status: 503,
    kind: 'operational',
    message:
      'The model provider is overloaded or failing (5xx, Anthropic 529) and kept failing through the retries; try again later.',
  },
  LLM_CONTEXT_TOO_LONG: {
    status: 400,
    kind: 'user',
    message: "The request does not fit the model's context window; send less.",
  },
  LLM_BAD_RESPONSE: {
    status: 502,
    kind: 'operational',
    message:
      'The model provider answered with something that is not a valid answer (an unexpected status, a malformed body or stream, or no answer in time).',
  },
  LLM_PATCH_NOT_APPLIED: {
    status: 422,
    kind: 'user',
    message:
      "The llm agent's patch did not apply: an edit's old text is missing or ambiguous in its file, or a file it names is not one the request gave; nothing was changed.",
  },
  LLM_PATCH_INVALID: {
    status: 422,
    kind: 'user',
    message:
      "The llm agent's patch applied but left a JavaScript or TypeScript file that does not parse; the files were put back as they were.",
  },
  // --- JSON-RPC -----------------------------------------------------------------------
  RPC_PARSE_ERROR: { status: 400, kind: 'user', message: 'The message is not valid JSON.' },
  RPC_INVALID_REQUEST: {
    status: 400,
    kind: 'user',
    message: 'The message is not a valid JSON-RPC 2.0 request.',
  },
  RPC_METHOD_NOT_FOUND: { status: 404, kind: 'user', message: 'No such JSON-RPC method.' },
  RPC_BATCH_TOO_LARGE: {
    status: 400,
    kind: 'user',
    message: 'The JSON-RPC batch has more calls than the server accepts in one message.',
  },
  RPC_TOO_MANY_IN_FLIGHT: {
    status: 429,
    kind: 'user',
    message:
      'This connection already has the most calls in progress that it may have; wait for answers before sending more.',
  },
  RPC_RESPONSE_TOO_LARGE: {
    status: 413,
    kind: 'user',
    message: 'The answer would be larger than the server sends in one message; ask for less.',
  },
  RUN_SECRETS_UNREADABLE: {
    status: 500,
    kind: 'operational',
    message:
      "The run's env values were sealed with another secrets key than this process has (PATCHBAY_SECRETS_KEY or <dataDir>/secrets.key): give every process the same key.",
  },
  // --- server and environment ---------------------------------------------------------
  CONFIG_INVALID: {
    status: 500,
    kind: 'user',
    message: 'The configuration is invalid; every problem is listed in details.',
  },
  SERVER_UNSAFE_BIND: {
    status: 500,
    kind: 'user',
    message: 'Refusing to listen on a non-loopback address without PATCHBAY_API_TOKENS.',
  },
  SERVER_PORT_IN_USE: {
    status: 500,
    kind: 'user',
    message: 'The port to listen on is already in use by another process.',
  },
  SERVER_ADDRESS_UNAVAILABLE: {
    status: 500,
    kind: 'user',
    message: 'The address to listen on is not an address of this machine.',
  },
  SERVER_PORT_FORBIDDEN: {
    status: 500,
    kind: 'user',
    message: 'This process may not listen on that port (ports below 1024 need privileges).',
  },
  SERVER_UNREACHABLE: {
    status: 503,
    kind: 'operational',
    message: 'The Patchbay server could not be reached.',
  },
  CLI_NO_SERVER_OR_STORE: {
    status: 503,
    kind: 'user',
    message:
      'No server answers and the data dir holds no store: start one with `patchbay serve`, or name yours with --url (PATCHBAY_URL) or --data-dir (PATCHBAY_DATA_DIR).',
  },
  STORE_UNAVAILABLE: { status: 503, kind: 'operational', message: 'The store does not answer.' },
  MIGRATION_FAILED: { status: 500, kind: 'operational', message: 'A database migration failed.' },
  SERVER_SHUTTING_DOWN: {
    status: 503,
    kind: 'operational',
    message: 'The server is shutting down and accepts no new runs.',
  },
  INTERNAL_ERROR: { status: 500, kind: 'unexpected', message: 'An unexpected error occurred.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

/**
 * The one error class. Throw it anywhere; the HTTP layer, the JSON-RPC layer and the CLI
 * turn it into their own shape using the catalog.
 *
 * @example
 *   throw new PatchbayError('RUN_NOT_FOUND', `no run ${id}`, { id });
 */
export class PatchbayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown, options?: ErrorOptions) {
    const def: ErrorDefinition = errorCatalog[code];
    super(message ?? def.message, options);
    this.name = 'PatchbayError';
    this.code = code;
    this.status = def.status;
    this.kind = def.kind;
    this.details = details;
  }
}

/**
 * VALIDATION_FAILED for one field of a request body, in the same `details.fields` shape the
 * HTTP layer uses for schema errors. `message` defaults to the field's message.
 */
export function invalidBodyField(
  path: string,
  fieldMessage: string,
  message = fieldMessage,
): PatchbayError {
  return new PatchbayError('VALIDATION_FAILED', message, {
    fields: [{ location: 'body', path, message: fieldMessage }],
  });
}

export function isPatchbayError(value: unknown): value is PatchbayError {
  return value instanceof PatchbayError;
}
