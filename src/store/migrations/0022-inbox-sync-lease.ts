import type { Kysely } from 'kysely';

// Inbox syncs run as queue jobs in any process sharing the store: the process syncing a
// connector holds a lease on its row (owner and until, renewed while it syncs), so two
// processes never sync one connector at once, and a dead one's lease runs out.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('inbox_connectors').addColumn('sync_owner', 'text').execute();
  await db.schema.alterTable('inbox_connectors').addColumn('sync_lease_until', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('inbox_connectors').dropColumn('sync_lease_until').execute();
  await db.schema.alterTable('inbox_connectors').dropColumn('sync_owner').execute();
}
