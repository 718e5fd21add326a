import type { Kysely } from 'kysely';

// Inbound triggers: generic triggers (a run template fired by a Standard Webhooks signed POST,
// each delivery kept once per webhook-id: the replay guard) and Telegram chats (which
// conversation a chat is in, the updates seen, the answer parts sent). Runs record the trigger
// that started them, their callback format, and where their answer goes (`reply_to`, JSON).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('triggers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    // Sealed like a run's env values: the key signatures are checked with.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('run_request', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('trigger_deliveries')
    .addColumn('trigger_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    // pending | started | refused
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addPrimaryKeyConstraint('trigger_deliveries_pk', ['trigger_id', 'webhook_id'])
    .execute();
  await db.schema
    .createIndex('trigger_deliveries_received')
    .on('trigger_deliveries')
    .columns(['trigger_id', 'received_at'])
    .execute();
  await db.schema
    .createTable('telegram_chats')
    .addColumn('bot', 'text', (c) => c.notNull())
    .addColumn('chat_id', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('telegram_chats_pk', ['bot', 'chat_id'])
    .execute();
  await db.schema
    .createTable('telegram_updates')
    .addColumn('bot', 'text', (c) => c.notNull())
    .addColumn('update_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('telegram_updates_pk', ['bot', 'update_id'])
    .execute();
  await db.schema
    .createTable('telegram_sent')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('part', 'integer', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('telegram_sent_pk', ['run_id', 'part'])
    .execute();
  await db.schema.alterTable('runs').addColumn('trigger_id', 'text').execute();
  await db.schema.alterTable('runs').addColumn('callback_format', 'text').execute();
  await db.schema.alterTable('runs').addColumn('reply_to', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['reply_to', 'callback_format', 'trigger_id']) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
  for (const table of [
    'telegram_sent',
    'telegram_updates',
    'telegram_chats',
    'trigger_deliveries',
    'triggers',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
