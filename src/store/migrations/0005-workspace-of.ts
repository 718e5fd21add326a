import type { Kysely } from 'kysely';

// A follow-up run shares the workspace of an earlier run; this names the run that made it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('workspace_of', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('workspace_of').execute();
}
