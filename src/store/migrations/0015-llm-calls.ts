import type { Kysely } from 'kysely';

// The ledger of model calls (src/llm): one row per call, whatever its outcome, with the tokens
// of each kind the provider reported, its price and the provider's raw usage object. Budgets
// sum its USD per day (globally and per repository); a run's calls are found by run id.
// Repositories may choose their own provider and model (`llm_provider`, `llm_model`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('llm_calls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text')
    .addColumn('repo_id', 'text')
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input_tokens', 'integer', (c) => c.notNull())
    .addColumn('output_tokens', 'integer', (c) => c.notNull())
    .addColumn('cache_read_tokens', 'integer', (c) => c.notNull())
    .addColumn('cache_write_tokens', 'integer', (c) => c.notNull())
    .addColumn('reasoning_tokens', 'integer', (c) => c.notNull())
    // Null when the price table does not know the model.
    .addColumn('cost_usd', 'double precision')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    // `succeeded`, or the error code the call ended with (LLM_RATE_LIMITED…).
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('raw_usage', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('llm_calls_created').on('llm_calls').column('created_at').execute();
  await db.schema
    .createIndex('llm_calls_repo_created')
    .on('llm_calls')
    .columns(['repo_id', 'created_at'])
    .execute();
  await db.schema.createIndex('llm_calls_run').on('llm_calls').column('run_id').execute();
  await db.schema.alterTable('repos').addColumn('llm_provider', 'text').execute();
  await db.schema.alterTable('repos').addColumn('llm_model', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('repos').dropColumn('llm_model').execute();
  await db.schema.alterTable('repos').dropColumn('llm_provider').execute();
  await db.schema.dropTable('llm_calls').execute();
}
