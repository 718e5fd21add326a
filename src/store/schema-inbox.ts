/** Inbox tables (migration 0021): see src/store/migrations/0021-inbox.ts. */
export interface InboxConnectorsTable {
  kind: string;
  status: string;
  message: string | null;
  credentials: string | null;
  key_id: string | null;
  cursor: string | null;
  last_sync_at: string | null;
  next_sync_at: string | null;
  blocked_until: string | null;
  /** Migration 0022: who syncs the connector now, and until when (a lease). */
  sync_owner: string | null;
  sync_lease_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface InboxOauthStatesTable {
  state: string;
  kind: string;
  code_verifier: string;
  created_at: string;
}

export interface InboxTasksTable {
  id: string;
  kind: string;
  source_ref: string;
  url: string | null;
  title: string;
  snippet: string;
  people: string;
  labels: string;
  identifiers: string;
  mentions: string;
  due_at: string | null;
  priority: string | null;
  asks_user: number;
  waiting_on_user: number;
  source_created_at: string;
  source_updated_at: string;
  score: number;
  score_inputs: string;
  horizon_proposed: string;
  horizon_override: string | null;
  state: string;
  snoozed_until: string | null;
  duplicate_of: string | null;
  previous: string | null;
  suggested_duplicate_of: string | null;
  suggested_similarity: number | null;
  archived: number;
  run_id: string | null;
  pr_url: string | null;
  complete_on_success: number;
  /** Migration 0023: the LLM pass's suggestion (JSON TaskAiSuggestion), null until one. */
  ai: string | null;
  done_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface InboxTaskSourcesTable {
  kind: string;
  ref: string;
  task_id: string;
  item: string;
  removed: number;
  updated_at: string;
}

export interface InboxIdentifiersTable {
  value: string;
  kind: string;
  ref: string;
}

export interface InboxMergesTable {
  id: string;
  into_task_id: string;
  from_task_id: string;
  method: string;
  similarity: number | null;
  snapshot: string;
  created_at: string;
  undone_at: string | null;
}

export interface InboxAuditTable {
  id: string;
  task_id: string;
  action: string;
  from_state: string | null;
  to_state: string | null;
  detail: string | null;
  at: string;
}

export interface InboxEdgesTable {
  from_task_id: string;
  to_task_id: string;
  kind: string;
  created_at: string;
}

export interface InboxAffinityTable {
  scope: string;
  key: string;
  weight: number;
  updated_at: string;
}

export interface InboxThresholdsTable {
  embedder: string;
  merge_threshold: number;
  suggest_threshold: number;
  pairs: number;
  calibrated_at: string;
}
