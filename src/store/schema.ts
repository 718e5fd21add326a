import type { ColumnType } from 'kysely';
import type {
  InboxAffinityTable,
  InboxAuditTable,
  InboxConnectorsTable,
  InboxEdgesTable,
  InboxIdentifiersTable,
  InboxMergesTable,
  InboxOauthStatesTable,
  InboxTaskSourcesTable,
  InboxTasksTable,
  InboxThresholdsTable,
} from './schema-inbox.js';

/**
 * Database tables as Kysely sees them. Everything is dialect-neutral: JSON lives in text
 * columns, timestamps are ISO-8601 text (sortable), booleans are 0/1 integers, and bigint
 * columns may come back as strings from PostgreSQL (the repositories normalise them).
 */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface RunsTable {
  id: string;
  agent: string;
  status: string;
  command: string | null;
  prompt: string | null;
  workdir: string | null;
  env: string | null;
  pty: number;
  timeout_ms: BigIntColumn;
  idle_timeout_ms: BigIntColumn;
  max_output_bytes: BigIntColumn;
  output_policy: string;
  callback_url: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  signal: string | null;
  error_code: string | null;
  error_message: string | null;
  output_bytes: BigIntColumn;
  dropped_bytes: BigIntColumn;
  last_seq: number;
  pid: number | null;
  pgid: number | null;
  /** JSON of RunOwner: which process holds the run (for crash recovery). */
  owner: string | null;
  model: string | null;
  /** JSON string[]: extra CLI flags. */
  agent_args: string | null;
  resume_session_id: string | null;
  session_id: string | null;
  result_text: string | null;
  /** JSON TokenUsage. */
  usage: string | null;
  cost_usd: number | null;
  num_turns: number | null;
  repo_id: string | null;
  ref: string | null;
  branch: string | null;
  base_commit: string | null;
  head_commit: string | null;
  auto_commit: number | null;
  /** JSON ChangedFile[] of a repository run, once it ended. */
  changed_files: string | null;
  workspace_of: string | null;
  network: number | null;
  sandbox: string | null;
  conversation_id: string | null;
  /** The run queue it waits in; null means `default`. */
  queue: string | null;
  /** Times it may start again after its worker was lost (0: it ends `interrupted`). */
  retries: number;
  /** 1 for the first start; +1 per retry after a lost worker or a drain. */
  attempt: number;
  schedule_id: string | null;
  /** The compatibility layer that made the run (migration 0019). */
  origin: string | null;
  /** `agent`, or `optimize.<stage>`; null in rows from before migration 0011 means `agent`. */
  kind: string | null;
  parent_id: string | null;
  /** W3C trace id (32 hex) and the id of the span that created the run (16 hex). */
  trace_id: string | null;
  trace_span_id: string | null;
  /** `edit` (null in rows from before migration 0013), `full` or `read-only`. */
  agent_permissions: string | null;
  /** JSON PermissionDenial[] once the run ended. */
  permission_denials: string | null;
  /** JSON TokenUsage and cost the CLI reported for its whole session (see RunRecord). */
  session_usage: string | null;
  session_cost_usd: number | null;
  error_retry_after_ms: number | null;
  /** `off`, `report` or `fix` as the request asked; null: `.patchbay.json`, else `report`. */
  validate_mode: string | null;
  max_fix_rounds: number | null;
  /** JSON GateResult[] once validated. */
  validation: string | null;
  fix_rounds: number | null;
  /** The generic trigger that started the run. */
  trigger_id: string | null;
  /** `patchbay` (null in rows from before migration 0018) or `standard-webhooks`. */
  callback_format: string | null;
  /** JSON ReplyTarget: the channel the run's answer is sent back to (Telegram). */
  reply_to: string | null;
  /** What the run delivers at its end: none (null), branch, draft_pr, pr, ready_pr, actions. */
  deliver: string | null;
  /** The last failure of its delivery (cleared once it succeeds). */
  delivery_error: string | null;
}

/** A file an optimizer stage produced, copied out of its workspace into the data dir. */
export interface ArtifactsTable {
  id: string;
  run_id: string;
  /** The optimization it belongs to (its first stage run), null for a run's own artifacts. */
  parent_id: string | null;
  repo_id: string | null;
  name: string;
  /** Relative to `<dataDir>/artifacts`. */
  path: string;
  bytes: number;
  sha256: string;
  content_type: string;
  created_at: string;
}

/** A proven speedup, one per accepted candidate of an optimization. */
export interface ProposalsTable {
  id: string;
  run_id: string;
  parent_id: string;
  repo_id: string | null;
  rule: string;
  file: string;
  speedup: number;
  /** The whole proposal as JSON. */
  data: string;
  created_at: string;
}

export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: string;
  ts: string;
  data: string;
  raw: string | null;
}

export interface CallbackDeliveriesTable {
  id: string;
  run_id: string;
  url: string;
  attempt: number;
  outcome: string;
  http_status: number | null;
  error: string | null;
  created_at: string;
}

export interface ReposTable {
  id: string;
  name: string;
  url: string | null;
  path: string;
  default_branch: string;
  managed: number;
  created_at: string;
  /** The repository's own model choice (null: the server's default). */
  llm_provider: string | null;
  llm_model: string | null;
  /** `owner/name` on GitHub, its numeric id and the App installation that reaches it. */
  github: string | null;
  github_id: BigIntColumn | null;
  github_installation_id: BigIntColumn | null;
}

/** What a run's delivery has done so far (JSON DeliveryState), one row per run. */
export interface RunDeliveriesTable {
  run_id: string;
  state: string;
  updated_at: string;
}

/** Inbound webhook deliveries seen (dedupe on the sender's delivery id). */
export interface WebhookDeliveriesTable {
  id: string;
  source: string;
  event: string;
  received_at: string;
  /** The delivery's JSON payload, kept until it is handled. */
  payload: string | null;
  handled_at: string | null;
  /** While a process handles it: until when (a lease). */
  claimed_until: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
}

export interface ConversationsTable {
  id: string;
  agent: string;
  title: string | null;
  model: string | null;
  repo_id: string | null;
  ref: string | null;
  workdir: string | null;
  /** The conversation's first run: its workspace is where every later run continues. */
  workspace_run_id: string | null;
  session_id: string | null;
  /** Set when the context window overflowed: seeds the next (fresh) session. */
  summary: string | null;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export interface ConversationMessagesTable {
  conversation_id: string;
  seq: number;
  role: string;
  content: string;
  run_id: string | null;
  run_status: string | null;
  created_at: string;
}

export interface JobsTable {
  id: string;
  queue: string;
  name: string;
  /** JSON of the job's data. */
  data: string;
  /** waiting | active | completed | failed */
  state: string;
  priority: number;
  seq: string;
  /** Not before this time (delays and retry backoff). */
  run_at: string;
  attempts_made: number;
  max_attempts: number;
  backoff_ms: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface WorkersTable {
  id: string;
  /** server (API + worker) | api (API only) | worker */
  role: string;
  hostname: string;
  pid: number;
  version: string;
  /** JSON string[] */
  queues: string;
  concurrency: number;
  /** active | draining | stopped */
  state: string;
  /** JSON string[]: runs it holds. */
  running: string;
  started_at: string;
  heartbeat_at: string;
  stopped_at: string | null;
}

/** One model call (src/llm): the usage and cost ledger. */
export interface LlmCallsTable {
  id: string;
  run_id: string | null;
  repo_id: string | null;
  purpose: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number | null;
  latency_ms: number;
  attempts: number;
  /** `succeeded` or an error code. */
  outcome: string;
  /** JSON: the provider's usage object as it came. */
  raw_usage: string | null;
  created_at: string;
}

export interface BudgetsTable {
  /** 'global', or the repository id the budget applies to. */
  scope: string;
  max_concurrent_runs: number | null;
  max_runs_per_day: number | null;
  max_agent_minutes_per_day: number | null;
  max_usd_per_day: number | null;
  updated_at: string;
}

export interface SchedulesTable {
  id: string;
  name: string | null;
  cron: string;
  timezone: string;
  /** JSON of the run request (ScheduleRunRequest). */
  run_request: string;
  enabled: number;
  max_consecutive_failures: number;
  consecutive_failures: number;
  paused_reason: string | null;
  /** Ticks at or before this are never fired (set on create, enable and cron change). */
  active_since: string;
  /** The latest tick fired. */
  last_tick: string | null;
  created_at: string;
  updated_at: string;
}

export interface ScheduleFiresTable {
  schedule_id: string;
  /** ISO time of the cron tick; with schedule_id the primary key (the fire lock). */
  tick: string;
  fired_at: string;
  /** pending | started | skipped */
  outcome: string;
  run_id: string | null;
  error_code: string | null;
  error_message: string | null;
  run_status: string | null;
}

/** cursor-runner compat: a conversation as its clients know it (src/server/compat/cursor-runner). */
export interface CursorRunnerConversationsTable {
  id: string;
  /** `conversation` (prompts run through Patchbay conversations) or `agent` (messages only). */
  kind: string;
  queue_type: string | null;
  agent_id: string | null;
  title: string | null;
  status: string | null;
  /** JSON object. */
  metadata: string | null;
  /** JSON AgentMessage[] of an `agent` conversation. */
  messages: string | null;
  created_at: string;
  last_accessed_at: string;
}

/** The Patchbay conversation a cursor-runner conversation uses in one workspace. */
export interface CursorRunnerLinksTable {
  conversation_id: string;
  /** `repo:<id>`, `dir:<path>` or `none`. */
  workspace: string;
  patchbay_conversation_id: string;
  created_at: string;
}

export interface CursorRunnerLastConversationsTable {
  queue_type: string;
  conversation_id: string;
}

export interface CursorRunnerTasksTable {
  id: number;
  prompt: string;
  sort_order: number;
  /** 0 ready, 1 complete, 2 archived, 3 backlogged, 4 in progress. */
  status: number;
  uuid: string | null;
  /** The run the task operator started for it, last. */
  run_id: string | null;
  created_at: string;
  updated_at: string;
}

/** A cursor-runner request in flight or done: its current run and what follows its end. */
export interface CursorRunnerRequestsTable {
  id: string;
  /** The client's `id`, or one made up as cursor-runner did. */
  request_id: string;
  /** The run of its current turn. */
  run_id: string;
  /** JSON RequestParams (compat/cursor-runner/requests.ts). */
  params: string;
  iterations: number;
  callback_url: string | null;
  /** Sealed with the store's secret box. */
  callback_secret: string | null;
  task_id: number | null;
  /** running | done */
  status: string;
  /** JSON of the answer (cursor-runner's body and status) once done. */
  outcome: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface Database {
  inbox_connectors: InboxConnectorsTable;
  inbox_oauth_states: InboxOauthStatesTable;
  inbox_tasks: InboxTasksTable;
  inbox_task_sources: InboxTaskSourcesTable;
  inbox_identifiers: InboxIdentifiersTable;
  inbox_merges: InboxMergesTable;
  inbox_audit: InboxAuditTable;
  inbox_edges: InboxEdgesTable;
  inbox_affinity: InboxAffinityTable;
  inbox_thresholds: InboxThresholdsTable;
  cursor_runner_requests: CursorRunnerRequestsTable;
  cursor_runner_conversations: CursorRunnerConversationsTable;
  cursor_runner_links: CursorRunnerLinksTable;
  cursor_runner_last_conversations: CursorRunnerLastConversationsTable;
  cursor_runner_tasks: CursorRunnerTasksTable;
  artifacts: ArtifactsTable;
  proposals: ProposalsTable;
  workers: WorkersTable;
  budgets: BudgetsTable;
  llm_calls: LlmCallsTable;
  schedules: SchedulesTable;
  schedule_fires: ScheduleFiresTable;
  jobs: JobsTable;
  conversations: ConversationsTable;
  conversation_messages: ConversationMessagesTable;
  repos: ReposTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  callback_deliveries: CallbackDeliveriesTable;
  reactions: ReactionsTable;
  reaction_attempts: ReactionAttemptsTable;
  triggers: TriggersTable;
  trigger_deliveries: TriggerDeliveriesTable;
  telegram_chats: TelegramChatsTable;
  telegram_updates: TelegramUpdatesTable;
  telegram_sent: TelegramSentTable;
  run_deliveries: RunDeliveriesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  dashboard_sessions: DashboardSessionsTable;
}

/** A dashboard login (migration 0020): the hash of the cookie's session id, never the id. */
export interface DashboardSessionsTable {
  id_hash: string;
  /** Fingerprint of the API token the session was made with. */
  identity: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: string;
  expires_at: string;
}

/** A generic trigger: a run template started by a signed POST. */
export interface TriggersTable {
  id: string;
  name: string | null;
  /** The `whsec_…` signing secret, sealed with the secrets key. */
  secret: string;
  /** JSON of the run template (env values sealed). */
  run_request: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

/** One accepted (signed, fresh) delivery of a trigger; (trigger_id, webhook_id) is the replay guard. */
export interface TriggerDeliveriesTable {
  trigger_id: string;
  webhook_id: string;
  received_at: string;
  /** pending | started | refused */
  outcome: string;
  run_id: string | null;
  error_code: string | null;
  error_message: string | null;
}

/** The conversation a Telegram chat is in (null after `/new`). */
export interface TelegramChatsTable {
  bot: string;
  chat_id: string;
  conversation_id: string | null;
  updated_at: string;
}

/** Updates already handled, so a redelivered one starts nothing twice. */
export interface TelegramUpdatesTable {
  bot: string;
  update_id: string;
  received_at: string;
}

/** Parts of a run's answer already sent to its chat (a retry sends only the rest). */
export interface TelegramSentTable {
  run_id: string;
  part: number;
  message_id: string;
  sent_at: string;
}

/** Something done because a run reached a state, one row per (run, reaction): the outbox. */
export interface ReactionsTable {
  id: string;
  run_id: string;
  name: string;
  /** pending, running, succeeded or failed. */
  status: string;
  attempts: number;
  /** The process trying it now, and until when its claim holds. */
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** One try of a reaction. */
export interface ReactionAttemptsTable {
  id: string;
  reaction_id: string;
  attempt: number;
  /** succeeded, retrying or failed. */
  outcome: string;
  error: string | null;
  owner: string;
  started_at: string;
  finished_at: string;
}
