import type { Kysely } from 'kysely';

// What an agent may do unasked (`agentPermissions`), the tool uses it was refused, and the
// usage its CLI reported for the whole session when it reports cumulatively: the run's own
// `usage` and `cost_usd` then hold only its share.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('agent_permissions', 'text').execute();
  await db.schema.alterTable('runs').addColumn('permission_denials', 'text').execute();
  await db.schema.alterTable('runs').addColumn('session_usage', 'text').execute();
  await db.schema.alterTable('runs').addColumn('session_cost_usd', 'double precision').execute();
  // AGENT_RATE_LIMITED: when the provider said to try again.
  await db.schema.alterTable('runs').addColumn('error_retry_after_ms', 'integer').execute();
  // A resumed run looks up the run it continues by session.
  await db.schema.createIndex('runs_session').on('runs').column('session_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_session').execute();
  for (const column of [
    'error_retry_after_ms',
    'session_cost_usd',
    'session_usage',
    'permission_denials',
    'agent_permissions',
  ]) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
}
