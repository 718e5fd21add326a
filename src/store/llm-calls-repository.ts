import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, LlmCallsTable } from './schema.js';

/** One model call as the ledger keeps it. Token counts are the provider's, per kind. */
export interface LlmCallRecord {
  id: string;
  runId: string | null;
  repoId: string | null;
  /** What the call was for (`agent`, `optimizer.discover`, `test`…), free text. */
  purpose: string;
  provider: string;
  model: string;
  /** Every input token, cached and cache-written ones included. */
  inputTokens: number;
  /** Every output token, reasoning included. */
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Null when the price table does not know the model. */
  costUsd: number | null;
  latencyMs: number;
  attempts: number;
  /** `succeeded` or the error code the call ended with. */
  outcome: string;
  /** The provider's usage object, as it came. */
  rawUsage: unknown;
  createdAt: string;
}

const num = (v: number | string): number => Number(v);

function fromRow(row: Selectable<LlmCallsTable>): LlmCallRecord {
  return {
    id: row.id,
    runId: row.run_id,
    repoId: row.repo_id,
    purpose: row.purpose,
    provider: row.provider,
    model: row.model,
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheReadTokens: num(row.cache_read_tokens),
    cacheWriteTokens: num(row.cache_write_tokens),
    reasoningTokens: num(row.reasoning_tokens),
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
    latencyMs: num(row.latency_ms),
    attempts: num(row.attempts),
    outcome: row.outcome,
    rawUsage: row.raw_usage === null ? null : (JSON.parse(row.raw_usage) as unknown),
    createdAt: row.created_at,
  };
}

export interface LlmCallFilter {
  runId?: string;
  repoId?: string;
  /** Calls made at or after this ISO time. */
  since?: string;
  /** Newest first: calls older than this one (an id, the previous page's last). */
  before?: string;
  limit: number;
}

export interface LlmCallRepository {
  insert(call: LlmCallRecord): Promise<void>;
  /** Calls, newest first, filtered; ids sort by creation (`llm_<ulid>`). */
  list(filter: LlmCallFilter): Promise<LlmCallRecord[]>;
  /** A run's calls, oldest first. */
  listByRun(runId: string): Promise<LlmCallRecord[]>;
  /** USD of a run's calls so far (unpriced calls count 0). */
  sumUsdOfRun(runId: string): Promise<number>;
}

export function createLlmCallRepository(db: Kysely<Database>): LlmCallRepository {
  return {
    async insert(call) {
      await db
        .insertInto('llm_calls')
        .values({
          id: call.id,
          run_id: call.runId,
          repo_id: call.repoId,
          purpose: call.purpose,
          provider: call.provider,
          model: call.model,
          input_tokens: call.inputTokens,
          output_tokens: call.outputTokens,
          cache_read_tokens: call.cacheReadTokens,
          cache_write_tokens: call.cacheWriteTokens,
          reasoning_tokens: call.reasoningTokens,
          cost_usd: call.costUsd,
          latency_ms: call.latencyMs,
          attempts: call.attempts,
          outcome: call.outcome,
          raw_usage: call.rawUsage === undefined ? null : JSON.stringify(call.rawUsage),
          created_at: call.createdAt,
        })
        .execute();
    },
    async list({ runId, repoId, since, before, limit }) {
      let q = db.selectFrom('llm_calls').selectAll();
      if (runId !== undefined) q = q.where('run_id', '=', runId);
      if (repoId !== undefined) q = q.where('repo_id', '=', repoId);
      if (since !== undefined) q = q.where('created_at', '>=', since);
      if (before !== undefined) {
        const cursor = await db
          .selectFrom('llm_calls')
          .select(['created_at', 'id'])
          .where('id', '=', before)
          .executeTakeFirst();
        if (!cursor) return [];
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', cursor.created_at),
            eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)]),
          ]),
        );
      }
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
    async listByRun(runId) {
      const rows = await db
        .selectFrom('llm_calls')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(fromRow);
    },
    async sumUsdOfRun(runId) {
      const row = await db
        .selectFrom('llm_calls')
        .select(sql<number | string | null>`sum(cost_usd)`.as('usd'))
        .where('run_id', '=', runId)
        .executeTakeFirstOrThrow();
      return row.usd === null ? 0 : Number(row.usd);
    },
  };
}

/**
 * USD of the model calls made at or after `since` (of one repository, or all) that no run's
 * own reported cost already covers: calls without a run, and calls of runs that report no
 * `cost_usd` (a run that adds up its calls into its cost is counted once, through the run).
 */
export async function sumLlmUsdSince(
  db: Kysely<Database>,
  since: string,
  repoId?: string,
): Promise<number> {
  let q = db
    .selectFrom('llm_calls')
    .leftJoin('runs', 'runs.id', 'llm_calls.run_id')
    .select(sql<number | string | null>`sum(llm_calls.cost_usd)`.as('usd'))
    .where('llm_calls.created_at', '>=', since)
    .where('runs.cost_usd', 'is', null);
  if (repoId !== undefined) q = q.where('llm_calls.repo_id', '=', repoId);
  const row = await q.executeTakeFirstOrThrow();
  return row.usd === null ? 0 : Number(row.usd);
}
