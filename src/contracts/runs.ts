import { z } from 'zod';

/** Every status a run can be in. `interrupted` is set by recovery, never by a live worker. */
export const RunStatus = z.enum([
  'queued',
  'running',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
]);
export type RunStatus = z.infer<typeof RunStatus>;

export const terminalStatuses = [
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
] as const satisfies readonly RunStatus[];
export type TerminalStatus = (typeof terminalStatuses)[number];

export function isTerminalStatus(status: RunStatus): status is TerminalStatus {
  return (terminalStatuses as readonly RunStatus[]).includes(status);
}

/** Statuses in which a process exists (or is about to) and control verbs make sense. */
export function isActiveStatus(status: RunStatus): boolean {
  return status === 'running' || status === 'paused';
}

export const AgentName = z.enum(['shell', 'claude', 'cursor', 'codex', 'gemini', 'llm']);
export type AgentName = z.infer<typeof AgentName>;

/**
 * What a coding agent may do without asking (nobody answers its questions in a headless run):
 * `edit` changes files in its workspace, shell commands as its CLI allows them by default;
 * `full` also runs any command; `read-only` changes nothing.
 */
export const AgentPermissions = z.enum(['edit', 'full', 'read-only']);
export type AgentPermissions = z.infer<typeof AgentPermissions>;

/** A tool use the agent (or its own sandbox) refused during a run. */
export const PermissionDenial = z.object({
  tool: z.string(),
  /** What it was refused for, when the CLI says (a path, a command). */
  detail: z.string().nullable(),
});
export type PermissionDenial = z.infer<typeof PermissionDenial>;

/**
 * How a run's callback is signed: `patchbay` (`X-Patchbay-Signature: sha256=<hex>` of the
 * body) or `standard-webhooks` (`webhook-id`, `webhook-timestamp`, `webhook-signature`, see
 * https://www.standardwebhooks.com).
 */
export const CallbackFormat = z.enum(['patchbay', 'standard-webhooks']);
export type CallbackFormat = z.infer<typeof CallbackFormat>;

export const OutputPolicy = z.enum(['kill', 'truncate']);

/**
 * What Patchbay does after an agent run on a repository: `off` runs no checks, `report` runs
 * the repository's own checks (install, build, typecheck, lint, test) and records each gate,
 * `fix` also sends a failing gate's output back to the agent as a follow-up turn.
 */
export const ValidateMode = z.enum(['off', 'report', 'fix']);
export type ValidateMode = z.infer<typeof ValidateMode>;

/** The checks a repository run is validated with, in the order they run. */
export const GateName = z.enum(['install', 'build', 'typecheck', 'lint', 'test']);
export type GateName = z.infer<typeof GateName>;

export const GateStatus = z.enum(['passed', 'failed', 'skipped', 'timed_out']);
export type GateStatus = z.infer<typeof GateStatus>;

/** One gate's result on a run (of the last round, when the agent was given fix rounds). */
export const GateResult = z.object({
  gate: GateName,
  /** The command it ran (`sh -c`), as detected or pinned in `.patchbay.json`. */
  command: z.string(),
  status: GateStatus,
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  /** Artifact id of its output (`GET /v1/artifacts/:id`); null for a skipped gate. */
  logArtifact: z.string().nullable(),
  /** 0 for the gates after the agent's own turn, k after its k-th fix round. */
  round: z.number().int(),
});
export type GateResult = z.infer<typeof GateResult>;
export type OutputPolicy = z.infer<typeof OutputPolicy>;

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');

/** What a repository run delivers when it ends (see docs/github.md). */
export const Deliver = z.enum(['none', 'branch', 'draft_pr', 'pr', 'ready_pr', 'actions']);
export type Deliver = z.infer<typeof Deliver>;

/** A run queue's name: lowercase letters, digits, `-` and `_`. */
export const RunQueueName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _ (at most 64)');

/** Body of `POST /v1/runs` and params of the JSON-RPC `run.create`. */

export const CreateRunRequest = z
  .object({
    agent: AgentName.optional().describe(
      "Which agent runs the work (default: the conversation's agent, else shell).",
    ),
    command: z
      .array(z.string().max(65_536))
      .max(1024)
      .optional()
      .describe('argv for the shell agent; never passed through a shell unless you write sh -c.'),
    prompt: z
      .string()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Prompt for the coding agents (claude, cursor, codex, gemini).'),
    model: z.string().min(1).max(200).optional().describe("Model for the agent's CLI."),
    args: z
      .array(z.string().max(4096))
      .max(64)
      .optional()
      .describe("Extra flags for the agent's CLI, after Patchbay's own."),
    maxTurns: z
      .number()
      .int()
      .min(1)
      .max(9999)
      .optional()
      .describe('The llm agent only: model calls at most (default 30). Stored in `args`.'),
    maxCostUsd: z
      .number()
      .positive()
      .max(100_000)
      .optional()
      .describe(
        "The llm agent only: cap in USD on the run's model calls, checked before each call. Stored in `args`.",
      ),
    mode: z
      .enum(['agent', 'patch'])
      .optional()
      .describe(
        'The llm agent only: `agent` (default) works in turns with tools; `patch` makes one call that returns edits for `files`, applied and checked (they must apply; touched JS/TS files must parse), 180 s default timeout. Stored in `args`.',
      ),
    files: z
      .array(z.string().min(1).max(1024))
      .min(1)
      .max(20)
      .optional()
      .describe(
        'With `mode: "patch"`: the files (relative to the workspace) the patch may edit, sent whole to the model.',
      ),
    resumeSessionId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,200}$/)
      .optional()
      .describe('Continue this agent session (run it in the same workdir as before).'),
    agentPermissions: AgentPermissions.optional().describe(
      'What the agent may do unasked: `edit` (default) edits files in its workspace, `full` also runs any command, `read-only` changes nothing.',
    ),
    workdir: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Directory to run in; must lie inside a trusted root. Default: a fresh directory.'),
    env: z
      .record(envName, z.string().max(65_536))
      .optional()
      .describe('Extra environment variables for the child, on top of the allow-listed ones.'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3_600_000)
      .optional(),
    idleTimeoutMs: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3_600_000)
      .optional(),
    maxOutputBytes: z
      .number()
      .int()
      .positive()
      .max(1024 ** 4)
      .optional(),
    outputPolicy: OutputPolicy.optional(),
    pty: z.boolean().optional().describe('Run the command in a pseudo-terminal (needs node-pty).'),
    repo: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Repository id: the run gets its own worktree on branch patchbay/<run id>.'),
    ref: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Where the worktree starts (default: the repo's default branch)."),
    workspaceOf: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Run in the workspace of this earlier run (same worktree and branch); waits for it to end.',
      ),
    autoCommit: z
      .boolean()
      .optional()
      .describe("Commit the run's changes on its branch at the end (default true)."),
    network: z
      .boolean()
      .optional()
      .describe('With PATCHBAY_SANDBOX=bwrap: let the run use the network (default false).'),
    conversationId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Continue this conversation: its agent session, in its workspace; the prompt and the result are added to it.',
      ),
    queue: RunQueueName.optional().describe(
      'Run queue to wait in (default `default`); only workers started with this queue in `--queues` take it.',
    ),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe(
        'Times the run may start again from the beginning when its worker is lost or drained (default 0: it ends `interrupted`; agents are not idempotent).',
      ),
    validate: ValidateMode.optional().describe(
      "Repository runs: check the result with the repository's own install, build, typecheck, lint and tests (`report`, default, or `validate.mode` of its `.patchbay.json`), also give the agent failing output to fix (`fix`), or not (`off`).",
    ),
    maxFixRounds: z
      .number()
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe('With `validate: fix`: follow-up turns the agent gets at most (default 2).'),
    callbackUrl: z.string().max(4096).optional(),
    callbackFormat: CallbackFormat.optional().describe(
      'How the callback is signed: `patchbay` (default, `X-Patchbay-Signature`) or `standard-webhooks` (needs PATCHBAY_WEBHOOK_SECRET).',
    ),
    deliver: Deliver.optional().describe(
      'Repository runs: what to deliver at the end (default `none`): push the run branch (`branch`), open a draft pull request (`draft_pr`), a ready one when every validation gate passed (`pr`), a ready one whatever the gates (`ready_pr`), or dispatch the Patchbay GitHub Action (`actions`). See docs/github.md.',
    ),
    wait: z
      .boolean()
      .optional()
      .describe('Answer only when the run has ended (200 instead of 202).'),
  })
  .strict();
export type CreateRunRequest = z.input<typeof CreateRunRequest>;
export type ParsedCreateRunRequest = z.output<typeof CreateRunRequest>;

export const RunError = z.object({
  code: z.string(),
  message: z.string(),
  /** AGENT_RATE_LIMITED: how long the provider said to wait before trying again, when it said. */
  retryAfterMs: z.number().int().optional(),
});
export type RunError = z.infer<typeof RunError>;

/** The run as clients see it. Environment values are never returned, only their names. */
export const RunKind = z.enum([
  'agent',
  'optimize.detect',
  'optimize.baseline',
  'optimize.scan',
  'optimize.patch',
  'optimize.validate',
  'optimize.propose',
]);
export type RunKind = z.infer<typeof RunKind>;

export const Run = z.object({
  id: z.string(),
  agent: AgentName,
  status: RunStatus,
  command: z.array(z.string()).nullable(),
  prompt: z.string().nullable(),
  workdir: z.string().nullable(),
  envKeys: z.array(z.string()),
  timeoutMs: z.number().int(),
  idleTimeoutMs: z.number().int(),
  maxOutputBytes: z.number().int(),
  outputPolicy: OutputPolicy,
  pty: z.boolean(),
  callbackUrl: z.string().nullable(),
  callbackFormat: CallbackFormat,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  error: RunError.nullable(),
  outputBytes: z.number().int(),
  droppedBytes: z.number().int(),
  lastSeq: z.number().int(),
  /** What an agent run reported (null for shell runs and until known). */
  model: z.string().nullable(),
  sessionId: z.string().nullable(),
  resultText: z.string().nullable(),
  usage: z
    .object({
      input: z.number(),
      output: z.number(),
      cacheRead: z.number(),
      cacheWrite: z.number(),
    })
    .nullable(),
  costUsd: z.number().nullable(),
  numTurns: z.number().int().nullable(),
  /** Repository runs: the repo, its run branch, the commit it started from, what changed. */
  repoId: z.string().nullable(),
  branch: z.string().nullable(),
  baseCommit: z.string().nullable(),
  headCommit: z.string().nullable(),
  workspaceOf: z.string().nullable(),
  /** Sandbox the run ran in (null before it started) and whether it had network there. */
  network: z.boolean(),
  sandbox: z.enum(['none', 'bwrap']).nullable(),
  conversationId: z.string().nullable(),
  /** The agent session this run continued, if any. */
  resumeSessionId: z.string().nullable(),
  /** Run queue it waits in; retries allowed after a lost worker; which start this is. */
  queue: z.string(),
  retries: z.number().int(),
  attempt: z.number().int(),
  /** The schedule that started this run, if one did. */
  scheduleId: z.string().nullable(),
  /** The trigger (`POST /v1/triggers/:id/fire`) that started this run, if one did. */
  triggerId: z.string().nullable(),
  /**
   * `agent` for a run of an agent or command; `optimize.<stage>` for a stage of an
   * optimization (`POST /v1/repos/:id/optimize`).
   */
  kind: RunKind,
  /** Stages of one optimization: the id of its first stage run (null for that run itself). */
  parentId: z.string().nullable(),
  /**
   * W3C trace id (32 hex) of the trace the run belongs to: the `traceparent` it was created
   * with, or the one the server started. Null when tracing is off (PATCHBAY_OTLP_ENDPOINT).
   */
  traceId: z.string().nullable(),
  /** What the agent was allowed to do unasked (see CreateRunRequest.agentPermissions). */
  agentPermissions: AgentPermissions,
  /**
   * Tool uses the agent, or its own sandbox, refused: a run with denials did not do all it
   * was asked, whatever its status. Empty when there were none (or before it ended).
   */
  permissionDenials: z.array(PermissionDenial),
  /** How the run is validated (repository runs); null for runs without a repository. */
  validate: ValidateMode.nullable(),
  /**
   * Each gate's result after the agent's last turn (see docs/validation.md); null when no gate
   * ran (`off`, no repository, the agent's turn did not succeed). A failing gate does not fail
   * the run.
   */
  validation: z.array(GateResult).nullable(),
  /** Follow-up turns the agent got to fix failing gates (`validate: fix`). */
  fixRounds: z.number().int(),
  /** What the run delivers when it ends, and the last failure of that delivery (retried). */
  deliver: Deliver,
  deliveryError: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

export const ChangedFile = z.object({
  path: z.string(),
  added: z.number().int(),
  removed: z.number().int(),
  binary: z.boolean(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;
export const ChangedFileList = z.object({ files: z.array(ChangedFile) });
export type ChangedFileList = z.infer<typeof ChangedFileList>;

export const RunList = z.object({
  runs: z.array(Run),
  nextCursor: z.string().nullable(),
});
export type RunList = z.infer<typeof RunList>;

export const ListRunsQuery = z
  .object({
    status: z
      .preprocess(
        (v) => (v === undefined ? undefined : [v].flat().flatMap((s) => String(s).split(','))),
        z.array(RunStatus).optional(),
      )
      .describe('One status, or several as a comma list or repeated parameter.'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
    scheduleId: z.string().min(1).max(100).optional().describe('Only runs this schedule started.'),
    triggerId: z.string().min(1).max(100).optional().describe('Only runs this trigger started.'),
    kind: RunKind.optional().describe('Only runs of this kind.'),
    repoId: z.string().min(1).max(100).optional().describe('Only runs of this repository.'),
    conversationId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Only the runs of this conversation.'),
    agent: AgentName.optional().describe('Only runs of this agent.'),
    createdAfter: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Only runs created at or after this instant (ISO 8601).'),
    createdBefore: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Only runs created before this instant (ISO 8601).'),
    parentId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Only the stage runs of this optimization (its first run id).'),
  })
  .strict();
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

export const QueueHealth = z.object({
  status: z.literal('ok'),
  service: z.literal('patchbay'),
  queue: z.object({
    running: z.number().int(),
    waiting: z.number().int(),
    limit: z.number().int(),
    available: z.number().int(),
    /** `limit` again, under the name cursor-runner's clients read. */
    maxConcurrent: z.number().int(),
  }),
  /** Every run queue, across all processes sharing the queue. */
  queues: z.record(
    z.string(),
    z.object({
      waiting: z.number().int(),
      delayed: z.number().int(),
      active: z.number().int(),
      failed: z.number().int(),
    }),
  ),
  /** Live processes taking runs, with their load. */
  workers: z.array(
    z.object({
      id: z.string(),
      hostname: z.string(),
      role: z.string(),
      state: z.string(),
      queues: z.array(z.string()),
      running: z.number().int(),
      concurrency: z.number().int(),
    }),
  ),
  warning: z.string().nullable(),
});
export type QueueHealth = z.infer<typeof QueueHealth>;

/** One attempt to POST a finished run to its callbackUrl. */
export const CallbackDelivery = z.object({
  id: z.string(),
  runId: z.string(),
  url: z.string(),
  attempt: z.number().int(),
  outcome: z.enum(['delivered', 'retrying', 'failed']),
  httpStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
});
export type CallbackDelivery = z.infer<typeof CallbackDelivery>;

export const CallbackDeliveryList = z.object({ deliveries: z.array(CallbackDelivery) });
export type CallbackDeliveryList = z.infer<typeof CallbackDeliveryList>;
