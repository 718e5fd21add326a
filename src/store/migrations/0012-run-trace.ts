import type { Kysely } from 'kysely';

// W3C trace context of a run: the trace it belongs to and the span that created it, so the
// process that executes the run (maybe another machine) continues the same trace.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('trace_id', 'text').execute();
  await db.schema.alterTable('runs').addColumn('trace_span_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('trace_span_id').execute();
  await db.schema.alterTable('runs').dropColumn('trace_id').execute();
}
