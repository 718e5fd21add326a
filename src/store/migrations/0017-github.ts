import type { Kysely } from 'kysely';

// GitHub delivery and triggers. A run says what to deliver (`deliver`) and carries the last
// delivery failure (`delivery_error`); what a delivery already did (branch pushed, pull request
// opened, status comment) is kept per run in `run_deliveries`, so a retried try continues
// rather than repeats. Webhook deliveries are remembered by id for dedupe. Repositories may
// name their GitHub counterpart.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('deliver', 'text').execute();
  await db.schema.alterTable('runs').addColumn('delivery_error', 'text').execute();
  await db.schema.alterTable('repos').addColumn('github', 'text').execute();
  await db.schema.alterTable('repos').addColumn('github_id', 'bigint').execute();
  await db.schema.alterTable('repos').addColumn('github_installation_id', 'bigint').execute();
  await db.schema
    .createTable('run_deliveries')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    // JSON DeliveryState: the trigger it came from, what was pushed and opened.
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    // The delivery as acknowledged, until it is handled: a failed handling or a process that
    // died after the acknowledgement is retried from here (src/server/github-intake.ts).
    .addColumn('payload', 'text')
    .addColumn('handled_at', 'text')
    .addColumn('claimed_until', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('run_deliveries').execute();
  await db.schema.alterTable('repos').dropColumn('github_installation_id').execute();
  await db.schema.alterTable('repos').dropColumn('github_id').execute();
  await db.schema.alterTable('repos').dropColumn('github').execute();
  await db.schema.alterTable('runs').dropColumn('delivery_error').execute();
  await db.schema.alterTable('runs').dropColumn('deliver').execute();
}
