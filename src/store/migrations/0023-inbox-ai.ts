import type { Kysely } from 'kysely';

// The inbox's optional LLM pass (issue 19): a model's summary and labels of a task, kept as
// one JSON column apart from the source's own fields, and written only by that pass, so a
// task saved by a sync never loses or forges it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('inbox_tasks').addColumn('ai', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('inbox_tasks').dropColumn('ai').execute();
}
