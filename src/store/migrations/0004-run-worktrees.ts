import type { Kysely } from 'kysely';

const columns: [string, 'text' | 'integer'][] = [
  ['repo_id', 'text'],
  ['ref', 'text'],
  ['branch', 'text'],
  ['base_commit', 'text'],
  ['head_commit', 'text'],
  ['auto_commit', 'integer'],
  ['changed_files', 'text'],
];

// Runs on a repository: their worktree branch, base and head commits, and what changed.
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, type] of columns)
    await db.schema.alterTable('runs').addColumn(name, type).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of [...columns].reverse())
    await db.schema.alterTable('runs').dropColumn(name).execute();
}
