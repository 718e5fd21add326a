import type {
  AgentName,
  AgentPermissions,
  GateResult,
  CallbackFormat,
  Deliver,
  OutputPolicy,
  PermissionDenial,
  Run,
  RunKind,
  RunStatus,
  ValidateMode,
} from '../contracts/index.js';
import { newRunId } from './ids.js';

/** Which process holds a running run; recovery uses it to tell dead owners from live ones. */
export interface RunOwner {
  instanceId: string;
  hostname: string;
  pid: number;
  /** Linux boot id: a process id is only meaningful within one boot. */
  bootId: string | null;
}

/** A run as stored, with what clients never see (env values, process ids, owner). */
export interface RunRecord {
  id: string;
  agent: AgentName;
  status: RunStatus;
  command: string[] | null;
  prompt: string | null;
  workdir: string | null;
  env: Record<string, string>;
  pty: boolean;
  timeoutMs: number;
  idleTimeoutMs: number;
  maxOutputBytes: number;
  outputPolicy: OutputPolicy;
  callbackUrl: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  outputBytes: number;
  droppedBytes: number;
  lastSeq: number;
  pid: number | null;
  pgid: number | null;
  owner: RunOwner | null;
  model: string | null;
  args: string[];
  resumeSessionId: string | null;
  sessionId: string | null;
  resultText: string | null;
  usage: RunUsage | null;
  costUsd: number | null;
  numTurns: number | null;
  repoId: string | null;
  ref: string | null;
  branch: string | null;
  baseCommit: string | null;
  headCommit: string | null;
  autoCommit: boolean;
  changedFiles: ChangedFile[] | null;
  /** The run whose workspace this one continues in (the first of the chain). */
  workspaceOf: string | null;
  /** Whether the run may use the network inside a sandbox. */
  network: boolean;
  /** The sandbox it ran in (null until it started). */
  sandbox: 'none' | 'bwrap' | null;
  conversationId: string | null;
  /** The run queue it waits in (workers choose queues with `--queues`). */
  queue: string;
  /** Times it may start again when its worker is lost or drained; 0 ends it `interrupted`. */
  retries: number;
  /** 1 for the first start, +1 for each retry. */
  attempt: number;
  /** The schedule that started the run. */
  scheduleId: string | null;
  /** The compatibility layer that made the run (`cursor-runner`), whose reaction follows it. */
  origin: string | null;
  kind: RunKind;
  /** An optimization's stage runs point at its first stage run. */
  parentId: string | null;
  /** The trace the run belongs to and the span that created it (null without tracing). */
  traceId: string | null;
  traceSpanId: string | null;
  /** What the agent may do unasked: `edit` (default), `full` or `read-only`. */
  agentPermissions: AgentPermissions;
  /** Tool uses the agent (or its own sandbox) refused during the run; null until it ended. */
  permissionDenials: PermissionDenial[] | null;
  /**
   * Usage and cost as the CLI reported them for its whole session, when it reports them
   * cumulatively (Claude, Codex on resume): `usage`/`costUsd` hold this run's share.
   */
  sessionUsage: RunUsage | null;
  sessionCostUsd: number | null;
  /** AGENT_RATE_LIMITED: how long the provider said to wait, when it said. */
  errorRetryAfterMs: number | null;
  /** The validation the request asked for; null: the repository's `.patchbay.json`, else `report`. */
  validateMode: ValidateMode | null;
  /** With `fix`: follow-up turns at most; null: `.patchbay.json`, else 2. */
  maxFixRounds: number | null;
  /** Each gate's result once validated; null when not validated. */
  validation: GateResult[] | null;
  /** Follow-up turns the agent got to fix failing gates. */
  fixRounds: number;
  /** The generic trigger that started the run. */
  triggerId: string | null;
  /** How its callback is signed: `patchbay` (X-Patchbay-Signature) or `standard-webhooks`. */
  callbackFormat: CallbackFormat;
  /** Where the run's answer is sent when it ends (a reaction does it); null: nowhere. */
  replyTo: ReplyTarget | null;
  /** What the run delivers at its end (docs/github.md). */
  deliver: Deliver;
  /** The last failure of that delivery; null once it succeeded (or before it was tried). */
  deliveryError: string | null;
}

/** A channel a run's answer goes back to. Chat ids are kept as text (they exceed 2^31). */
export interface ReplyTarget {
  channel: 'telegram';
  /** The configured bot's name (PATCHBAY_TELEGRAM_BOTS key). */
  bot: string;
  chatId: string;
  /** The message that asked: the answer replies to it. */
  messageId: number | null;
}

export interface ChangedFile {
  path: string;
  added: number;
  removed: number;
  binary: boolean;
}

export interface RunUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** What a caller decides about a new run; everything else starts empty. */
export type NewRunFields = Pick<
  RunRecord,
  | 'agent'
  | 'command'
  | 'prompt'
  | 'workdir'
  | 'env'
  | 'pty'
  | 'timeoutMs'
  | 'idleTimeoutMs'
  | 'maxOutputBytes'
  | 'outputPolicy'
  | 'callbackUrl'
> &
  Partial<
    Pick<
      RunRecord,
      | 'model'
      | 'args'
      | 'resumeSessionId'
      | 'repoId'
      | 'ref'
      | 'autoCommit'
      | 'workspaceOf'
      | 'branch'
      | 'network'
      | 'conversationId'
      | 'queue'
      | 'retries'
      | 'scheduleId'
      | 'origin'
      | 'kind'
      | 'parentId'
      | 'traceId'
      | 'traceSpanId'
      | 'agentPermissions'
      | 'validateMode'
      | 'maxFixRounds'
      | 'triggerId'
      | 'callbackFormat'
      | 'replyTo'
      | 'deliver'
    >
  >;

/** The queue a run waits in when its request names none. */
export const DEFAULT_RUN_QUEUE = 'default';

/** A fresh `queued` run record with a new id. */
export function newRunRecord(fields: NewRunFields): RunRecord {
  return {
    id: newRunId(),
    model: null,
    args: [],
    resumeSessionId: null,
    repoId: null,
    ref: null,
    autoCommit: true,
    workspaceOf: null,
    branch: null,
    network: false,
    conversationId: null,
    queue: DEFAULT_RUN_QUEUE,
    retries: 0,
    scheduleId: null,
    origin: null,
    kind: 'agent',
    parentId: null,
    traceId: null,
    traceSpanId: null,
    agentPermissions: 'edit',
    validateMode: null,
    maxFixRounds: null,
    triggerId: null,
    callbackFormat: 'patchbay',
    replyTo: null,
    deliver: 'none',
    ...fields,
    attempt: 1,
    sandbox: null,
    status: 'queued',
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    signal: null,
    errorCode: null,
    errorMessage: null,
    outputBytes: 0,
    droppedBytes: 0,
    lastSeq: 0,
    pid: null,
    pgid: null,
    owner: null,
    sessionId: null,
    resultText: null,
    usage: null,
    costUsd: null,
    numTurns: null,
    baseCommit: null,
    headCommit: null,
    changedFiles: null,
    permissionDenials: null,
    sessionUsage: null,
    sessionCostUsd: null,
    errorRetryAfterMs: null,
    validation: null,
    fixRounds: 0,
    deliveryError: null,
  };
}

/** The public view of a run. */
export function toRun(record: RunRecord): Run {
  const started = record.startedAt ? Date.parse(record.startedAt) : null;
  const finished = record.finishedAt ? Date.parse(record.finishedAt) : null;
  return {
    id: record.id,
    agent: record.agent,
    status: record.status,
    command: record.command,
    prompt: record.prompt,
    workdir: record.workdir,
    envKeys: Object.keys(record.env).sort(),
    timeoutMs: record.timeoutMs,
    idleTimeoutMs: record.idleTimeoutMs,
    maxOutputBytes: record.maxOutputBytes,
    outputPolicy: record.outputPolicy,
    pty: record.pty,
    callbackUrl: record.callbackUrl,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: started !== null && finished !== null ? Math.max(0, finished - started) : null,
    exitCode: record.exitCode,
    signal: record.signal,
    error:
      record.errorCode !== null
        ? {
            code: record.errorCode,
            message: record.errorMessage ?? record.errorCode,
            ...(record.errorRetryAfterMs !== null
              ? { retryAfterMs: record.errorRetryAfterMs }
              : {}),
          }
        : null,
    outputBytes: record.outputBytes,
    droppedBytes: record.droppedBytes,
    lastSeq: record.lastSeq,
    model: record.model,
    sessionId: record.sessionId,
    resultText: record.resultText,
    usage: record.usage,
    costUsd: record.costUsd,
    numTurns: record.numTurns,
    repoId: record.repoId,
    branch: record.branch,
    baseCommit: record.baseCommit,
    headCommit: record.headCommit,
    workspaceOf: record.workspaceOf,
    network: record.network,
    sandbox: record.sandbox,
    conversationId: record.conversationId,
    resumeSessionId: record.resumeSessionId,
    queue: record.queue,
    retries: record.retries,
    attempt: record.attempt,
    scheduleId: record.scheduleId,
    triggerId: record.triggerId,
    callbackFormat: record.callbackFormat,
    kind: record.kind,
    parentId: record.parentId,
    traceId: record.traceId,
    agentPermissions: record.agentPermissions,
    permissionDenials: record.permissionDenials ?? [],
    // The mode is known for repository runs: what the request asked, else resolved at the end.
    validate: record.repoId && record.kind === 'agent' ? (record.validateMode ?? 'report') : null,
    validation: record.validation,
    fixRounds: record.fixRounds,
    deliver: record.deliver,
    deliveryError: record.deliveryError,
  };
}
