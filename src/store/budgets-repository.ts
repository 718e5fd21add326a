import type { Kysely, Selectable } from 'kysely';
import type { Database, BudgetsTable } from './schema.js';

/** A budget as stored: the limits of one scope ('global' or a repository id); null = none. */
export interface BudgetRecord {
  scope: string;
  maxConcurrentRuns: number | null;
  maxRunsPerDay: number | null;
  maxAgentMinutesPerDay: number | null;
  maxUsdPerDay: number | null;
  updatedAt: string;
}

const numOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

function fromRow(row: Selectable<BudgetsTable>): BudgetRecord {
  return {
    scope: row.scope,
    maxConcurrentRuns: numOrNull(row.max_concurrent_runs),
    maxRunsPerDay: numOrNull(row.max_runs_per_day),
    maxAgentMinutesPerDay: numOrNull(row.max_agent_minutes_per_day),
    maxUsdPerDay: numOrNull(row.max_usd_per_day),
    updatedAt: row.updated_at,
  };
}

export interface BudgetRepository {
  /** Every budget, the global one first, then by scope. */
  list(): Promise<BudgetRecord[]>;
  /** The budgets of these scopes that exist. */
  getMany(scopes: string[]): Promise<BudgetRecord[]>;
  /** Creates or replaces the budget of `budget.scope`. */
  put(budget: BudgetRecord): Promise<void>;
  delete(scope: string): Promise<boolean>;
}

export function createBudgetRepository(db: Kysely<Database>): BudgetRepository {
  return {
    async list() {
      const rows = await db.selectFrom('budgets').selectAll().orderBy('scope', 'asc').execute();
      const all = rows.map(fromRow);
      return [
        ...all.filter((b) => b.scope === 'global'),
        ...all.filter((b) => b.scope !== 'global'),
      ];
    },
    async getMany(scopes) {
      if (scopes.length === 0) return [];
      const rows = await db
        .selectFrom('budgets')
        .selectAll()
        .where('scope', 'in', scopes)
        .execute();
      return rows.map(fromRow);
    },
    async put(budget) {
      const values = {
        max_concurrent_runs: budget.maxConcurrentRuns,
        max_runs_per_day: budget.maxRunsPerDay,
        max_agent_minutes_per_day: budget.maxAgentMinutesPerDay,
        max_usd_per_day: budget.maxUsdPerDay,
        updated_at: budget.updatedAt,
      };
      await db
        .insertInto('budgets')
        .values({ scope: budget.scope, ...values })
        .onConflict((oc) => oc.column('scope').doUpdateSet(values))
        .execute();
    },
    async delete(scope) {
      const result = await db.deleteFrom('budgets').where('scope', '=', scope).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
