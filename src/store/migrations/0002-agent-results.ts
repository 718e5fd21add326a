import type { Kysely } from 'kysely';

const columns: [string, 'text' | 'real' | 'integer'][] = [
  ['model', 'text'],
  ['agent_args', 'text'],
  ['resume_session_id', 'text'],
  ['session_id', 'text'],
  ['result_text', 'text'],
  ['usage', 'text'],
  ['cost_usd', 'real'],
  ['num_turns', 'integer'],
];

// What agent runs ask for (model, extra flags, a session to resume) and what they report.
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, type] of columns) {
    await db.schema.alterTable('runs').addColumn(name, type).execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE drops one at a time.
  for (const [name] of [...columns].reverse()) {
    await db.schema.alterTable('runs').dropColumn(name).execute();
  }
}
