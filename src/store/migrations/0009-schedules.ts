import type { Kysely } from 'kysely';

// Schedules start runs on a cron. `schedule_fires` is both the history and the lock that makes
// a tick fire once: whoever inserts (schedule_id, tick) first fires it, however many servers
// share the store. Runs name the schedule that started them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('run_request', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('max_consecutive_failures', 'integer', (c) => c.notNull())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused_reason', 'text')
    // Ticks at or before this are not fired: set when the schedule is created, enabled or
    // its cron changes, so a schedule never fires ticks from before it was active.
    .addColumn('active_since', 'text', (c) => c.notNull())
    .addColumn('last_tick', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('schedule_fires')
    .addColumn('schedule_id', 'text', (c) => c.notNull())
    .addColumn('tick', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'text', (c) => c.notNull())
    // 'pending' while the run is being created, then 'started' or 'skipped'.
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('run_status', 'text')
    .addPrimaryKeyConstraint('schedule_fires_pk', ['schedule_id', 'tick'])
    .execute();
  await db.schema.alterTable('runs').addColumn('schedule_id', 'text').execute();
  await db.schema
    .createIndex('runs_schedule_idx')
    .on('runs')
    .columns(['schedule_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_schedule_idx').execute();
  await db.schema.alterTable('runs').dropColumn('schedule_id').execute();
  await db.schema.dropTable('schedule_fires').execute();
  await db.schema.dropTable('schedules').execute();
}
