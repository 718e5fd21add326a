import type { Kysely } from 'kysely';

// The cursor-runner compatibility layer (src/server/compat/cursor-runner): its conversations
// (each mapped onto one Patchbay conversation per workspace), the "last conversation" of each
// queue, the voice agent's conversations (stored messages only) and the task list.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Which compatibility layer made a run: its reaction (the next turn, the callback) follows
  // the run's end.
  await db.schema.alterTable('runs').addColumn('origin', 'text').execute();
  await db.schema
    .createTable('cursor_runner_conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // `conversation` (runs prompts) or `agent` (the voice agent's: messages only)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('queue_type', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('title', 'text')
    .addColumn('status', 'text')
    .addColumn('metadata', 'text')
    .addColumn('messages', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_accessed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('cursor_runner_links')
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('patchbay_conversation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cursor_runner_links_pk', ['conversation_id', 'workspace'])
    .execute();
  await db.schema
    .createIndex('cursor_runner_links_patchbay_idx')
    .on('cursor_runner_links')
    .columns(['patchbay_conversation_id'])
    .execute();
  await db.schema
    .createTable('cursor_runner_last_conversations')
    .addColumn('queue_type', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('cursor_runner_tasks')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('sort_order', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('uuid', 'text')
    .addColumn('run_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // A request in flight: its current run, and what it needs once that run ends.
  await db.schema
    .createTable('cursor_runner_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('iterations', 'integer', (c) => c.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('callback_secret', 'text')
    .addColumn('task_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema
    .createIndex('cursor_runner_requests_run_idx')
    .on('cursor_runner_requests')
    .columns(['run_id'])
    .execute();
  await db.schema
    .createIndex('cursor_runner_tasks_ready_idx')
    .on('cursor_runner_tasks')
    .columns(['status', 'sort_order', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cursor_runner_requests').execute();
  await db.schema.dropTable('cursor_runner_tasks').execute();
  await db.schema.dropTable('cursor_runner_last_conversations').execute();
  await db.schema.dropTable('cursor_runner_links').execute();
  await db.schema.dropTable('cursor_runner_conversations').execute();
  await db.schema.alterTable('runs').dropColumn('origin').execute();
}
