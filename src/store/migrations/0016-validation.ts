import type { Kysely } from 'kysely';

// Validation gates of repository runs: the mode the request asked for (null: the repository's
// `.patchbay.json`, else `report`), the fix rounds it allows, each gate's result (JSON) and the
// follow-up turns the agent got to fix them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('validate_mode', 'text').execute();
  await db.schema.alterTable('runs').addColumn('max_fix_rounds', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('validation', 'text').execute();
  await db.schema.alterTable('runs').addColumn('fix_rounds', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['fix_rounds', 'validation', 'max_fix_rounds', 'validate_mode']) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
}
