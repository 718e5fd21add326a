import type { Kysely } from 'kysely';

// Budgets per scope ('global' or a repository id), shared by every API node through the store,
// and the indexes the usage queries of a budget check need (runs created since midnight, per
// repository or all).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('budgets')
    .addColumn('scope', 'text', (c) => c.primaryKey())
    .addColumn('max_concurrent_runs', 'integer')
    .addColumn('max_runs_per_day', 'integer')
    .addColumn('max_agent_minutes_per_day', 'double precision')
    .addColumn('max_usd_per_day', 'double precision')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('runs_created_idx').on('runs').columns(['created_at']).execute();
  await db.schema
    .createIndex('runs_repo_created_idx')
    .on('runs')
    .columns(['repo_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_repo_created_idx').execute();
  await db.schema.dropIndex('runs_created_idx').execute();
  await db.schema.dropTable('budgets').execute();
}
