import { sql, type Kysely, type Selectable } from 'kysely';
import type { AgentName, RunEvent, RunKind, RunStatus } from '../contracts/index.js';
import type { Dialect } from './db.js';
import { eventRow } from './events-repository.js';
import { insertReactions, type ReactionRecord } from './reactions-repository.js';
import { sumLlmUsdSince } from './llm-calls-repository.js';
import type { RunRecord, RunUsage } from './records.js';
import type { Database, RunsTable } from './schema.js';
import { plainSecretBox, type SecretBox } from './secret-box.js';
import { fromRow, insertRun, patchToRow, type RunPatch } from './runs-rows.js';

export type { RunPatch } from './runs-rows.js';

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
