import type { Kysely } from 'kysely';

// Scale-out: the registry of server and worker processes (heartbeats tell live from lost), and
// per run the queue it waits in, how often it may be retried after its worker is lost, and
// which attempt it is on.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    // JSON string[]: the run queues this process takes runs from (empty for an API node).
    .addColumn('queues', 'text', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    // JSON string[]: ids of the runs it holds right now.
    .addColumn('running', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('stopped_at', 'text')
    .execute();
  await db.schema.alterTable('runs').addColumn('queue', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('runs')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('attempt').execute();
  await db.schema.alterTable('runs').dropColumn('retries').execute();
  await db.schema.alterTable('runs').dropColumn('queue').execute();
  await db.schema.dropTable('workers').execute();
}
