import type { Kysely } from 'kysely';

// Runs record the sandbox they ran in and whether they had network; conversations chain runs
// of one agent session in one workspace and keep their messages.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('network', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('sandbox', 'text').execute();
  await db.schema.alterTable('runs').addColumn('conversation_id', 'text').execute();
  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('model', 'text')
    .addColumn('repo_id', 'text')
    .addColumn('ref', 'text')
    .addColumn('workdir', 'text')
    .addColumn('workspace_run_id', 'text')
    .addColumn('session_id', 'text')
    .addColumn('summary', 'text')
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('conversation_messages')
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('run_status', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversation_messages_pk', ['conversation_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('runs_conversation_idx')
    .on('runs')
    .columns(['conversation_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_conversation_idx').execute();
  await db.schema.dropTable('conversation_messages').execute();
  await db.schema.dropTable('conversations').execute();
  await db.schema.alterTable('runs').dropColumn('conversation_id').execute();
  await db.schema.alterTable('runs').dropColumn('sandbox').execute();
  await db.schema.alterTable('runs').dropColumn('network').execute();
}
