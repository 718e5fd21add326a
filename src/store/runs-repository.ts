import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import type {
  AgentName,
  AgentPermissions,
  GateResult,
  CallbackFormat,
  Deliver,
  OutputPolicy,
  PermissionDenial,
  RunEvent,
  RunKind,
  RunStatus,
  ValidateMode,
} from '../contracts/index.js';
import type { Dialect } from './db.js';
import { eventRow } from './events-repository.js';
import { insertReactions, type ReactionRecord } from './reactions-repository.js';
import { sumLlmUsdSince } from './llm-calls-repository.js';
import {
  DEFAULT_RUN_QUEUE,
  type ChangedFile,
  type ReplyTarget,
  type RunOwner,
  type RunRecord,
  type RunUsage,
} from './records.js';
import type { Database, RunsTable } from './schema.js';
import { openEnv, plainSecretBox, sealEnv, type SecretBox } from './secret-box.js';

export interface ListRunsOptions {
  statuses?: RunStatus[];
  limit: number;
  /** Return runs created before this id (ids sort by creation). */
  before?: string;
  /** Only runs this schedule started. */
  scheduleId?: string;
  /** Only runs this trigger started. */
  triggerId?: string;
  repoId?: string;
  kind?: RunKind;
  parentId?: string;
  conversationId?: string;
  agent?: AgentName;
  /** ISO instants (UTC, as stored): created at or after, and before. */
  createdAfter?: string;
  createdBefore?: string;
}

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

/** What budgets read of a run: when it ran and what it cost. */
export type RunUsageRow = Pick<
  RunRecord,
  'id' | 'agent' | 'model' | 'createdAt' | 'startedAt' | 'finishedAt' | 'costUsd' | 'usage'
>;

/** The reads a budget check makes, inside the transaction that inserts the run. */
export interface RunUsageReader {
  /** Runs queued, running or paused (of one repository, or all). */
  countActive(repoId?: string): Promise<number>;
  /** Runs created at or after `since` (ISO), of one repository or all. */
  listUsageSince(since: string, repoId?: string): Promise<RunUsageRow[]>;
  /**
   * USD of the model calls in the ledger made at or after `since` that no run's reported cost
   * covers (see sumLlmUsdSince), of one repository or all.
   */
  llmUsdSince(since: string, repoId?: string): Promise<number>;
}

const activeStatuses: RunStatus[] = ['queued', 'running', 'paused'];

const num = (v: number | string): number => (typeof v === 'string' ? Number(v) : v);

function fromRow(row: Selectable<RunsTable>, box: SecretBox): RunRecord {
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

function patchToRow(patch: RunPatch): Updateable<RunsTable> {
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

export interface RunRepository extends RunUsageReader {
  insert(run: RunRecord): Promise<void>;
  /**
   * Inserts `run` only if `check` passes, check and insert in one transaction, so that two
   * processes checking at the same moment cannot both take the last slot of a limit. On
   * PostgreSQL the transaction first takes an advisory lock per `lockKeys` (in sorted order,
   * so two callers never deadlock); SQLite's `begin immediate` serialises every writer.
   * `check` must read through the reader it is given (the transaction's connection).
   */
  insertChecked(
    run: RunRecord,
    lockKeys: string[],
    check: (reader: RunUsageReader) => Promise<void>,
  ): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  /**
   * The last run of `agent` that ended reporting session `sessionId`, other than `exceptId`:
   * the run a resumed one continues (its session figures are the base of the new run's share).
   */
  lastOfSession(
    agent: AgentName,
    sessionId: string,
    exceptId: string,
  ): Promise<RunRecord | undefined>;
  list(options: ListRunsOptions): Promise<RunRecord[]>;
  /** Runs in any of these statuses, oldest first. */
  listByStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  /**
   * Optimization stages that succeeded within (after, before) and have no later stage: the
   * next stage was never queued (the process that ran it died in between).
   */
  listStalledStages(finishedAfter: string, finishedBefore: string): Promise<RunRecord[]>;
  update(id: string, patch: RunPatch): Promise<void>;
  /**
   * Updates only when the run is currently in one of `from`: the compare-and-set that keeps
   * two writers (a finishing run and a cancel, say) from both deciding the outcome.
   */
  transition(id: string, from: RunStatus[], patch: RunPatch): Promise<boolean>;
  /**
   * `transition` and the status event that announces it, in one transaction: a process killed
   * at any moment leaves both or neither (a run that ended always has its terminal event).
   * Every earlier event of the run must be stored already; `event.seq` becomes `last_seq`.
   */
  /**
   * Compare-and-set with the event it announces, in one transaction; with `reactions`, the
   * outbox rows of what is to be done because of it are written in the same transaction.
   */
  transitionWithEvent(
    id: string,
    from: RunStatus[],
    patch: RunPatch,
    event: RunEvent,
    reactions?: readonly ReactionRecord[],
  ): Promise<boolean>;
  countByStatus(): Promise<Partial<Record<RunStatus, number>>>;
  /** Finished runs that ended before `cutoff` and still name a workdir, oldest first. */
  listFinishedBefore(cutoff: string): Promise<RunRecord[]>;
  /** The runs of a conversation, oldest first. */
  listByConversation(conversationId: string): Promise<RunRecord[]>;
  /** Runs continuing in the workspace of `rootId` (workspaceOf). */
  listByWorkspace(rootId: string): Promise<RunRecord[]>;
  /** Finished runs with a callback URL that ended at or after `since`, oldest first. */
  listFinishedWithCallback(since: string): Promise<RunRecord[]>;
}

async function insertRun(db: Kysely<Database>, run: RunRecord, box: SecretBox): Promise<void> {
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

export function createRunRepository(
  db: Kysely<Database>,
  dialect: Dialect,
  box: SecretBox = plainSecretBox,
): RunRepository {
  const toRecord = (row: Selectable<RunsTable>): RunRecord => fromRow(row, box);
  return {
    insert: (run) => insertRun(db, run, box),
    async insertChecked(run, lockKeys, check) {
      // Kysely's transaction() cannot say `begin immediate`: a deferred SQLite transaction
      // that reads and then writes fails with SQLITE_BUSY when another process wrote between.
      await db.connection().execute(async (conn) => {
        await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
        try {
          if (dialect === 'postgres') {
            for (const key of [...new Set(lockKeys)].sort()) {
              const lock = sql`select pg_advisory_xact_lock(hashtext('patchbay.runs'), hashtext(${key}))`;
              await lock.execute(conn);
            }
          }
          await check(createRunRepository(conn, dialect));
          await insertRun(conn, run, box);
          await sql.raw('commit').execute(conn);
        } catch (err) {
          await sql.raw('rollback').execute(conn);
          throw err;
        }
      });
    },
    async countActive(repoId) {
      let q = db
        .selectFrom('runs')
        .select(db.fn.countAll<number | string>().as('n'))
        .where('status', 'in', activeStatuses);
      if (repoId !== undefined) q = q.where('repo_id', '=', repoId);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
    llmUsdSince(since, repoId) {
      return sumLlmUsdSince(db, since, repoId);
    },
    async listUsageSince(since, repoId) {
      let q = db
        .selectFrom('runs')
        .select([
          'id',
          'agent',
          'model',
          'created_at',
          'started_at',
          'finished_at',
          'cost_usd',
          'usage',
        ])
        .where('created_at', '>=', since);
      if (repoId !== undefined) q = q.where('repo_id', '=', repoId);
      return (await q.execute()).map((r) => ({
        id: r.id,
        agent: r.agent as AgentName,
        model: r.model,
        createdAt: r.created_at,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        costUsd: r.cost_usd === null ? null : Number(r.cost_usd),
        usage: r.usage ? (JSON.parse(r.usage) as RunUsage) : null,
      }));
    },
    async get(id) {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async lastOfSession(agent, sessionId, exceptId) {
      const row = await db
        .selectFrom('runs')
        .selectAll()
        .where('session_id', '=', sessionId)
        .where('agent', '=', agent)
        .where('id', '!=', exceptId)
        .where('finished_at', 'is not', null)
        .orderBy('finished_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async list(options) {
      const { statuses, limit, before, scheduleId, triggerId, repoId, kind, parentId } = options;
      let q = db.selectFrom('runs').selectAll().orderBy('id', 'desc').limit(limit);
      if (options.conversationId) q = q.where('conversation_id', '=', options.conversationId);
      if (options.agent) q = q.where('agent', '=', options.agent);
      if (options.createdAfter) q = q.where('created_at', '>=', options.createdAfter);
      if (options.createdBefore) q = q.where('created_at', '<', options.createdBefore);
      if (statuses && statuses.length > 0) q = q.where('status', 'in', statuses);
      if (before) q = q.where('id', '<', before);
      if (scheduleId) q = q.where('schedule_id', '=', scheduleId);
      if (triggerId) q = q.where('trigger_id', '=', triggerId);
      if (repoId) q = q.where('repo_id', '=', repoId);
      if (kind === 'agent')
        q = q.where((eb) => eb.or([eb('kind', 'is', null), eb('kind', '=', kind)]));
      else if (kind) q = q.where('kind', '=', kind);
      if (parentId) q = q.where('parent_id', '=', parentId);
      return (await q.execute()).map(toRecord);
    },
    async listStalledStages(finishedAfter, finishedBefore) {
      const rows = await db
        .selectFrom('runs as r')
        .selectAll('r')
        .where('r.kind', 'like', 'optimize.%')
        .where('r.kind', '!=', 'optimize.propose')
        .where('r.status', '=', 'succeeded')
        .where('r.finished_at', '>', finishedAfter)
        .where('r.finished_at', '<', finishedBefore)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('runs as c')
                .select('c.id')
                .whereRef('c.parent_id', '=', 'r.parent_id')
                .whereRef('c.id', '>', 'r.id'),
            ),
          ),
        )
        .orderBy('r.id', 'asc')
        .execute();
      return rows.map(toRecord);
    },
    async listByStatus(statuses) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('status', 'in', statuses)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRecord);
    },
    async update(id, patch) {
      const row = patchToRow(patch);
      if (Object.keys(row).length === 0) return;
      await db.updateTable('runs').set(row).where('id', '=', id).execute();
    },
    async transitionWithEvent(id, from, patch, event, reactions) {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('runs')
          .set({ ...patchToRow(patch), last_seq: event.seq })
          .where('id', '=', id)
          .where('status', 'in', from)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return false;
        await trx.insertInto('run_events').values(eventRow(event)).execute();
        if (reactions && reactions.length > 0) await insertReactions(trx, reactions);
        return true;
      });
    },
    async transition(id, from, patch) {
      const result = await db
        .updateTable('runs')
        .set(patchToRow(patch))
        .where('id', '=', id)
        .where('status', 'in', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async listByConversation(conversationId) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRecord);
    },
    async listFinishedBefore(cutoff) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('finished_at', '<', cutoff)
        .where('workdir', 'is not', null)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRecord);
    },
    async listByWorkspace(rootId) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('workspace_of', '=', rootId)
        .execute();
      return rows.map(toRecord);
    },
    async listFinishedWithCallback(since) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('callback_url', 'is not', null)
        .where('finished_at', '>=', since)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRecord);
    },
    async countByStatus() {
      const rows = await db
        .selectFrom('runs')
        .select(['status', db.fn.countAll<number | string>().as('n')])
        .groupBy('status')
        .execute();
      const out: Partial<Record<RunStatus, number>> = {};
      for (const r of rows) out[r.status as RunStatus] = Number(r.n);
      return out;
    },
  };
}
