import type { Kysely } from 'kysely';

// Browser sessions of the dashboard: a cookie exchanged for an API token at login. Only the
// SHA-256 of the session id is kept, so the table alone cannot be replayed as cookies; the
// token itself is never stored, only its fingerprint (the identity the session acts as).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dashboard_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('identity', 'text', (c) => c.notNull())
    // JSON array: what the session may do (every token may do everything today: ["*"]).
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('dashboard_sessions_expires_idx')
    .on('dashboard_sessions')
    .columns(['expires_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dashboard_sessions').execute();
}
