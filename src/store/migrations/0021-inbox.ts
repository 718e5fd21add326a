import type { Kysely } from 'kysely';

// The task inbox (src/intake): connectors with their sealed credentials and sync cursors, the
// OAuth states of connects in progress, tasks (normalised, scored, triaged), every source item
// of a task, the identifiers that make two items one task, merges (undoable), an audit event
// per change, edges of the graph, learned sender affinities and source priors, and the
// similarity thresholds calibrated per embedder.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbox_connectors')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    // connected | error | disconnected
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    // AES-256-GCM of the JSON credentials under key `key_id`, the row's identity as AAD.
    .addColumn('credentials', 'text')
    .addColumn('key_id', 'text')
    .addColumn('cursor', 'text')
    .addColumn('last_sync_at', 'text')
    .addColumn('next_sync_at', 'text')
    .addColumn('blocked_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('inbox_oauth_states')
    .addColumn('state', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('inbox_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('source_ref', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('snippet', 'text', (c) => c.notNull())
    // JSON ItemPerson[], string[], identifiers, string[]
    .addColumn('people', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('identifiers', 'text', (c) => c.notNull())
    .addColumn('mentions', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('priority', 'text')
    .addColumn('asks_user', 'integer', (c) => c.notNull())
    .addColumn('waiting_on_user', 'integer', (c) => c.notNull())
    .addColumn('source_created_at', 'text', (c) => c.notNull())
    .addColumn('source_updated_at', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    // JSON ScoreInputs: what the score was made of.
    .addColumn('score_inputs', 'text', (c) => c.notNull())
    .addColumn('horizon_proposed', 'text', (c) => c.notNull())
    .addColumn('horizon_override', 'text')
    // todo | accepted | snoozed | duplicate | declined | done
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('snoozed_until', 'text')
    .addColumn('duplicate_of', 'text')
    // JSON of the triage fields before the last change (undo restores them exactly).
    .addColumn('previous', 'text')
    .addColumn('suggested_duplicate_of', 'text')
    .addColumn('suggested_similarity', 'double precision')
    .addColumn('archived', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('pr_url', 'text')
    .addColumn('complete_on_success', 'integer', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbox_tasks_state').on('inbox_tasks').column('state').execute();
  await db.schema.createIndex('inbox_tasks_run').on('inbox_tasks').column('run_id').execute();
  await db.schema
    .createTable('inbox_task_sources')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull())
    // JSON SourceItem as last synced.
    .addColumn('item', 'text', (c) => c.notNull())
    .addColumn('removed', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_task_sources_pk', ['kind', 'ref'])
    .execute();
  await db.schema
    .createIndex('inbox_task_sources_task')
    .on('inbox_task_sources')
    .column('task_id')
    .execute();
  await db.schema
    .createTable('inbox_identifiers')
    // `thread:<kind>:<id>`, `msg:<id>`, `issue:<KEY>`, `url:<normalised url>`
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_identifiers_pk', ['value', 'kind', 'ref'])
    .execute();
  await db.schema
    .createIndex('inbox_identifiers_source')
    .on('inbox_identifiers')
    .columns(['kind', 'ref'])
    .execute();
  await db.schema
    .createTable('inbox_merges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('into_task_id', 'text', (c) => c.notNull())
    .addColumn('from_task_id', 'text', (c) => c.notNull())
    // identifier | similarity | manual
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('similarity', 'double precision')
    // JSON: the merged task's row and the source refs it had, to restore on undo.
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('undone_at', 'text')
    .execute();
  await db.schema
    .createTable('inbox_audit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text')
    .addColumn('detail', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbox_audit_task').on('inbox_audit').column('task_id').execute();
  await db.schema
    .createTable('inbox_edges')
    .addColumn('from_task_id', 'text', (c) => c.notNull())
    .addColumn('to_task_id', 'text', (c) => c.notNull())
    // reply | issue_link | mention
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_edges_pk', ['from_task_id', 'to_task_id', 'kind'])
    .execute();
  await db.schema
    .createTable('inbox_affinity')
    // sender | source
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('weight', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_affinity_pk', ['scope', 'key'])
    .execute();
  await db.schema
    .createTable('inbox_thresholds')
    .addColumn('embedder', 'text', (c) => c.primaryKey())
    .addColumn('merge_threshold', 'double precision', (c) => c.notNull())
    .addColumn('suggest_threshold', 'double precision', (c) => c.notNull())
    .addColumn('pairs', 'integer', (c) => c.notNull())
    .addColumn('calibrated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'inbox_thresholds',
    'inbox_affinity',
    'inbox_edges',
    'inbox_audit',
    'inbox_merges',
    'inbox_identifiers',
    'inbox_task_sources',
    'inbox_tasks',
    'inbox_oauth_states',
    'inbox_connectors',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
