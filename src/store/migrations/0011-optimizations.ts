import type { Kysely } from 'kysely';

// Optimizations: each stage is a run (`kind` optimize.<stage>) pointing at the first stage run
// (`parent_id`); the files stages produce and the proposals they prove have their own tables.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('kind', 'text').execute();
  await db.schema.alterTable('runs').addColumn('parent_id', 'text').execute();
  await db.schema.createIndex('runs_repo_idx').on('runs').columns(['repo_id', 'id']).execute();
  // One run per stage of an optimization (NULLs are distinct: agent runs are not affected), so
  // the stage that queues the next and a recovery doing it for a dead process cannot both win.
  await db.schema
    .createIndex('runs_parent_kind_idx')
    .unique()
    .on('runs')
    .columns(['parent_id', 'kind'])
    .execute();
  await db.schema
    .createTable('artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('repo_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('artifacts_run_idx')
    .on('artifacts')
    .columns(['run_id', 'name'])
    .execute();
  await db.schema
    .createIndex('artifacts_parent_idx')
    .on('artifacts')
    .columns(['parent_id', 'name'])
    .execute();
  await db.schema
    .createTable('proposals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.notNull())
    .addColumn('repo_id', 'text')
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('speedup', 'double precision', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('proposals_repo_idx')
    .on('proposals')
    .columns(['repo_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('proposals').execute();
  await db.schema.dropTable('artifacts').execute();
  await db.schema.dropIndex('runs_parent_kind_idx').execute();
  await db.schema.dropIndex('runs_repo_idx').execute();
  await db.schema.alterTable('runs').dropColumn('parent_id').execute();
  await db.schema.alterTable('runs').dropColumn('kind').execute();
}
