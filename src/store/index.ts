export type {
  CallbackDelivery,
  CallbackRepository,
  DeliveryOutcome,
} from './callbacks-repository.js';
export {
  isPostgresUrl,
  maskUrlPassword,
  retryConnect,
  openDatabase,
  type DatabaseHandle,
  type Dialect,
} from './db.js';
export { EventWriter, type EventWriterOptions } from './event-writer.js';
export type { EventRepository } from './events-repository.js';
export {
  newConversationId,
  newRepoId,
  newRunId,
  newScheduleId,
  newTriggerId,
  ulid,
} from './ids.js';
export type { TriggerPatch, TriggerRecord, TriggerRepository } from './triggers-repository.js';
export type { TelegramRepository } from './telegram-repository.js';
export type {
  ConversationPatch,
  ConversationRepository,
  NewMessage,
} from './conversations-repository.js';
export {
  migrateDown,
  migrateToLatest,
  migrationLockFile,
  migrations,
  migrationStatus,
  type MigrationStatus,
} from './migrator.js';
export {
  DEFAULT_RUN_QUEUE,
  newRunRecord,
  toRun,
  type NewRunFields,
  type ReplyTarget,
  type RunOwner,
  type RunRecord,
  type RunUsage,
} from './records.js';
export type {
  ListRunsOptions,
  RunPatch,
  RunRepository,
  RunUsageReader,
  RunUsageRow,
} from './runs-repository.js';
export type { BudgetRecord, BudgetRepository } from './budgets-repository.js';
export type { SessionRecord, SessionRepository } from './sessions-repository.js';
export { openStore, type OpenStoreOptions, type Store } from './store.js';
export {
  createSecretBox,
  plainSecretBox,
  readOrCreateKeyFile,
  secretBoxFor,
  UNREADABLE_SECRET,
  type SecretBox,
} from './secret-box.js';
export type { RepoRepository } from './repos-repository.js';
export {
  newReaction,
  type ReactionAttempt,
  type ReactionOutcome,
  type ReactionRecord,
  type ReactionRepository,
  type ReactionStatus,
} from './reactions-repository.js';
export type { JobCounts, JobRecord, JobRepository, JobState } from './jobs-repository.js';
export type {
  WorkerRecord,
  WorkerRepository,
  WorkerRole,
  WorkerState,
} from './workers-repository.js';
export type {
  FireResult,
  ScheduleClockRow,
  SchedulePatch,
  ScheduleRecord,
  ScheduleRepository,
} from './schedules-repository.js';
export type {
  ArtifactRecord,
  ArtifactRepository,
  ProposalRecord,
  ProposalRepository,
} from './artifacts-repository.js';
export type { LlmCallRecord, LlmCallRepository } from './llm-calls-repository.js';
export type {
  CursorRunnerConversationRecord,
  CursorRunnerRequestRecord,
  CursorRunnerRepository,
  CursorRunnerTaskRecord,
} from './cursor-runner-repository.js';
export type {
  DeliveryRepository,
  DeliveryState,
  WebhookDeliveryRepository,
} from './github-repository.js';
export type {
  EdgeKind,
  MergeRecord,
  TaskIdentifiers,
  TaskAiSuggestion,
  TaskRecord,
  TaskRepository,
  TaskSourceRecord,
} from './inbox-repository.js';
export type { LearnedStep, TriageFields, TriageSnapshot } from './inbox-history.js';
export { pushHistory, HISTORY_LIMIT } from './inbox-history.js';
export type {
  ConnectorPatch,
  ConnectorRecord,
  ConnectorRepository,
  ConnectorStatus,
} from './connectors-repository.js';
export { createKeyring, DEFAULT_KEY_ID, keyringFor, type Keyring } from './keyring.js';
