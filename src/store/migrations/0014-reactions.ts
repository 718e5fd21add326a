import type { Kysely } from 'kysely';

// Reactions: what is done because a run reached a state (its callback, later a pull request or
// a reply on a channel). A row is written in the same transaction as the run's transition (a
// transactional outbox), one per (run, reaction); each try of it is recorded.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // pending → running → succeeded | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema
    .createIndex('reactions_run_name')
    .on('reactions')
    .columns(['run_id', 'name'])
    .unique()
    .execute();
  await db.schema
    .createIndex('reactions_open')
    .on('reactions')
    .columns(['status', 'created_at'])
    .execute();
  await db.schema
    .createTable('reaction_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reaction_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    // succeeded | retrying | failed
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('reaction_attempts_reaction')
    .on('reaction_attempts')
    .column('reaction_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reaction_attempts').execute();
  await db.schema.dropTable('reactions').execute();
}
