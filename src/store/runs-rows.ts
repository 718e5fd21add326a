/**
 * How a RunRecord is stored: the runs table's row and back (JSON columns, numbers PostgreSQL
 * answers as strings, the sealed env), the row of a patch, and the insert. The queries are in
 * runs-repository.ts.
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import type {
  AgentName,
  AgentPermissions,
  CallbackFormat,
  Deliver,
  GateResult,
  OutputPolicy,
  PermissionDenial,
  RunKind,
  RunStatus,
  ValidateMode,
} from '../contracts/index.js';
import {
  DEFAULT_RUN_QUEUE,
  type ChangedFile,
  type ReplyTarget,
  type RunOwner,
  type RunRecord,
  type RunUsage,
} from './records.js';
import type { Database, RunsTable } from './schema.js';
import { openEnv, sealEnv, type SecretBox } from './secret-box.js';

export type RunPatch = Partial<
  Pick<
    RunRecord,
    | 'status'
    | 'startedAt'
    | 'finishedAt'
    | 'exitCode'
    | 'signal'
    | 'errorCode'
    | 'errorMessage'
    | 'outputBytes'
    | 'droppedBytes'
    | 'lastSeq'
    | 'pid'
    | 'pgid'
    | 'owner'
    | 'workdir'
    | 'sessionId'
    | 'resultText'
    | 'usage'
    | 'costUsd'
    | 'numTurns'
    | 'model'
    | 'permissionDenials'
    | 'sessionUsage'
    | 'sessionCostUsd'
    | 'errorRetryAfterMs'
    | 'validation'
    | 'fixRounds'
    | 'validateMode'
    | 'branch'
    | 'baseCommit'
    | 'headCommit'
    | 'changedFiles'
    | 'sandbox'
    | 'prompt'
    | 'resumeSessionId'
    | 'repoId'
    | 'attempt'
    | 'deliveryError'
  >
>;

const num = (v: number | string): number => (typeof v === 'string' ? Number(v) : v);

export function fromRow(row: Selectable<RunsTable>, box: SecretBox): RunRecord {
  return {
    id: row.id,
    agent: row.agent as AgentName,
    status: row.status as RunStatus,
    command: row.command ? (JSON.parse(row.command) as string[]) : null,
    prompt: row.prompt,
    workdir: row.workdir,
    env: row.env ? openEnv(box, JSON.parse(row.env) as Record<string, string>) : {},
    pty: num(row.pty) === 1,
    timeoutMs: num(row.timeout_ms),
    idleTimeoutMs: num(row.idle_timeout_ms),
    maxOutputBytes: num(row.max_output_bytes),
    outputPolicy: row.output_policy as OutputPolicy,
    callbackUrl: row.callback_url,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code,
    signal: row.signal,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    outputBytes: num(row.output_bytes),
    droppedBytes: num(row.dropped_bytes),
    lastSeq: num(row.last_seq),
    pid: row.pid,
    pgid: row.pgid,
    owner: row.owner ? (JSON.parse(row.owner) as RunOwner) : null,
    model: row.model,
    args: row.agent_args ? (JSON.parse(row.agent_args) as string[]) : [],
    resumeSessionId: row.resume_session_id,
    sessionId: row.session_id,
    resultText: row.result_text,
    usage: row.usage ? (JSON.parse(row.usage) as RunUsage) : null,
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    numTurns: row.num_turns,
    repoId: row.repo_id,
    ref: row.ref,
    branch: row.branch,
    baseCommit: row.base_commit,
    headCommit: row.head_commit,
    autoCommit: row.auto_commit === null ? true : Number(row.auto_commit) === 1,
    changedFiles: row.changed_files ? (JSON.parse(row.changed_files) as ChangedFile[]) : null,
    workspaceOf: row.workspace_of,
    network: Number(row.network ?? 0) === 1,
    sandbox: (row.sandbox as RunRecord['sandbox']) ?? null,
    conversationId: row.conversation_id,
    queue: row.queue ?? DEFAULT_RUN_QUEUE,
    retries: num(row.retries ?? 0),
    attempt: num(row.attempt ?? 1),
    scheduleId: row.schedule_id ?? null,
    origin: row.origin ?? null,
    kind: (row.kind as RunKind | null) ?? 'agent',
    parentId: row.parent_id ?? null,
    traceId: row.trace_id ?? null,
    traceSpanId: row.trace_span_id ?? null,
    agentPermissions: (row.agent_permissions as AgentPermissions | null) ?? 'edit',
    permissionDenials: row.permission_denials
      ? (JSON.parse(row.permission_denials) as PermissionDenial[])
      : null,
    sessionUsage: row.session_usage ? (JSON.parse(row.session_usage) as RunUsage) : null,
    sessionCostUsd: row.session_cost_usd === null ? null : Number(row.session_cost_usd),
    errorRetryAfterMs: row.error_retry_after_ms ?? null,
    validateMode: (row.validate_mode as ValidateMode | null) ?? null,
    maxFixRounds: row.max_fix_rounds ?? null,
    validation: row.validation ? (JSON.parse(row.validation) as GateResult[]) : null,
    fixRounds: num(row.fix_rounds ?? 0),
    triggerId: row.trigger_id ?? null,
    callbackFormat: (row.callback_format as CallbackFormat | null) ?? 'patchbay',
    replyTo: row.reply_to ? (JSON.parse(row.reply_to) as ReplyTarget) : null,
    deliver: (row.deliver as Deliver | null) ?? 'none',
    deliveryError: row.delivery_error ?? null,
  };
}

export function patchToRow(patch: RunPatch): Updateable<RunsTable> {
  const row: Partial<Record<keyof RunsTable, unknown>> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
  if (patch.finishedAt !== undefined) row.finished_at = patch.finishedAt;
  if (patch.exitCode !== undefined) row.exit_code = patch.exitCode;
  if (patch.signal !== undefined) row.signal = patch.signal;
  if (patch.errorCode !== undefined) row.error_code = patch.errorCode;
  if (patch.errorMessage !== undefined) row.error_message = patch.errorMessage;
  if (patch.outputBytes !== undefined) row.output_bytes = patch.outputBytes;
  if (patch.droppedBytes !== undefined) row.dropped_bytes = patch.droppedBytes;
  if (patch.lastSeq !== undefined) row.last_seq = patch.lastSeq;
  if (patch.pid !== undefined) row.pid = patch.pid;
  if (patch.pgid !== undefined) row.pgid = patch.pgid;
  if (patch.owner !== undefined) row.owner = patch.owner ? JSON.stringify(patch.owner) : null;
  if (patch.workdir !== undefined) row.workdir = patch.workdir;
  if (patch.sessionId !== undefined) row.session_id = patch.sessionId;
  if (patch.resultText !== undefined) row.result_text = patch.resultText;
  if (patch.usage !== undefined) row.usage = patch.usage ? JSON.stringify(patch.usage) : null;
  if (patch.costUsd !== undefined) row.cost_usd = patch.costUsd;
  if (patch.numTurns !== undefined) row.num_turns = patch.numTurns;
  if (patch.model !== undefined) row.model = patch.model;
  if (patch.permissionDenials !== undefined) {
    row.permission_denials = patch.permissionDenials
      ? JSON.stringify(patch.permissionDenials)
      : null;
  }
  if (patch.sessionUsage !== undefined) {
    row.session_usage = patch.sessionUsage ? JSON.stringify(patch.sessionUsage) : null;
  }
  if (patch.sessionCostUsd !== undefined) row.session_cost_usd = patch.sessionCostUsd;
  if (patch.errorRetryAfterMs !== undefined) row.error_retry_after_ms = patch.errorRetryAfterMs;
  if (patch.validateMode !== undefined) row.validate_mode = patch.validateMode;
  if (patch.validation !== undefined) {
    row.validation = patch.validation ? JSON.stringify(patch.validation) : null;
  }
  if (patch.fixRounds !== undefined) row.fix_rounds = patch.fixRounds;
  if (patch.branch !== undefined) row.branch = patch.branch;
  if (patch.baseCommit !== undefined) row.base_commit = patch.baseCommit;
  if (patch.headCommit !== undefined) row.head_commit = patch.headCommit;
  if (patch.sandbox !== undefined) row.sandbox = patch.sandbox;
  if (patch.prompt !== undefined) row.prompt = patch.prompt;
  if (patch.resumeSessionId !== undefined) row.resume_session_id = patch.resumeSessionId;
  if (patch.repoId !== undefined) row.repo_id = patch.repoId;
  if (patch.attempt !== undefined) row.attempt = patch.attempt;
  if (patch.deliveryError !== undefined) row.delivery_error = patch.deliveryError;
  if (patch.changedFiles !== undefined)
    row.changed_files = patch.changedFiles ? JSON.stringify(patch.changedFiles) : null;
  return row as Updateable<RunsTable>;
}

export async function insertRun(
  db: Kysely<Database>,
  run: RunRecord,
  box: SecretBox,
): Promise<void> {
  await db
    .insertInto('runs')
    .values({
      id: run.id,
      agent: run.agent,
      status: run.status,
      command: run.command ? JSON.stringify(run.command) : null,
      prompt: run.prompt,
      workdir: run.workdir,
      env: JSON.stringify(sealEnv(box, run.env)),
      pty: run.pty ? 1 : 0,
      timeout_ms: run.timeoutMs,
      idle_timeout_ms: run.idleTimeoutMs,
      max_output_bytes: run.maxOutputBytes,
      output_policy: run.outputPolicy,
      callback_url: run.callbackUrl,
      created_at: run.createdAt,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      exit_code: run.exitCode,
      signal: run.signal,
      error_code: run.errorCode,
      error_message: run.errorMessage,
      output_bytes: run.outputBytes,
      dropped_bytes: run.droppedBytes,
      last_seq: run.lastSeq,
      pid: run.pid,
      pgid: run.pgid,
      owner: run.owner ? JSON.stringify(run.owner) : null,
      model: run.model,
      agent_args: run.args.length > 0 ? JSON.stringify(run.args) : null,
      resume_session_id: run.resumeSessionId,
      session_id: run.sessionId,
      result_text: run.resultText,
      usage: run.usage ? JSON.stringify(run.usage) : null,
      cost_usd: run.costUsd,
      num_turns: run.numTurns,
      repo_id: run.repoId,
      ref: run.ref,
      branch: run.branch,
      base_commit: run.baseCommit,
      head_commit: run.headCommit,
      auto_commit: run.autoCommit ? 1 : 0,
      changed_files: run.changedFiles ? JSON.stringify(run.changedFiles) : null,
      workspace_of: run.workspaceOf,
      network: run.network ? 1 : 0,
      sandbox: run.sandbox,
      conversation_id: run.conversationId,
      queue: run.queue === DEFAULT_RUN_QUEUE ? null : run.queue,
      retries: run.retries,
      attempt: run.attempt,
      schedule_id: run.scheduleId,
      origin: run.origin,
      kind: run.kind,
      parent_id: run.parentId,
      trace_id: run.traceId,
      trace_span_id: run.traceSpanId,
      agent_permissions: run.agentPermissions,
      permission_denials: run.permissionDenials ? JSON.stringify(run.permissionDenials) : null,
      session_usage: run.sessionUsage ? JSON.stringify(run.sessionUsage) : null,
      session_cost_usd: run.sessionCostUsd,
      error_retry_after_ms: run.errorRetryAfterMs,
      validate_mode: run.validateMode,
      max_fix_rounds: run.maxFixRounds,
      validation: run.validation ? JSON.stringify(run.validation) : null,
      fix_rounds: run.fixRounds,
      trigger_id: run.triggerId,
      callback_format: run.callbackFormat === 'patchbay' ? null : run.callbackFormat,
      reply_to: run.replyTo ? JSON.stringify(run.replyTo) : null,
      deliver: run.deliver === 'none' ? null : run.deliver,
      delivery_error: run.deliveryError,
    })
    .execute();
}
