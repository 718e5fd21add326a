import { sql } from 'kysely';
import { PatchbayError } from '../contracts/index.js';
import {
  createArtifactRepository,
  createProposalRepository,
  type ArtifactRepository,
  type ProposalRepository,
} from './artifacts-repository.js';
import { createBudgetRepository, type BudgetRepository } from './budgets-repository.js';
import { createCallbackRepository, type CallbackRepository } from './callbacks-repository.js';
import {
  createCursorRunnerRepository,
  type CursorRunnerRepository,
} from './cursor-runner-repository.js';
import { createReactionRepository, type ReactionRepository } from './reactions-repository.js';
import {
  createConversationRepository,
  type ConversationRepository,
} from './conversations-repository.js';
import {
  maskUrlPassword,
  openDatabase,
  retryConnect,
  type DatabaseHandle,
  type Dialect,
} from './db.js';
import { createConnectorRepository, type ConnectorRepository } from './connectors-repository.js';
import { createTaskRepository, type TaskRepository } from './inbox-repository.js';
import type { Keyring } from './keyring.js';
import { createEventRepository, type EventRepository } from './events-repository.js';
import {
  createDeliveryRepository,
  createWebhookDeliveryRepository,
  type DeliveryRepository,
  type WebhookDeliveryRepository,
} from './github-repository.js';
import { createJobRepository, type JobRepository } from './jobs-repository.js';
import { createLlmCallRepository, type LlmCallRepository } from './llm-calls-repository.js';
import { migrateToLatest, migrationLockFile } from './migrator.js';
import { createRepoRepository, type RepoRepository } from './repos-repository.js';
import { createRunRepository, type RunRepository } from './runs-repository.js';
import { createWorkerRepository, type WorkerRepository } from './workers-repository.js';
import { createScheduleRepository, type ScheduleRepository } from './schedules-repository.js';
import { createSessionRepository, type SessionRepository } from './sessions-repository.js';
import type { SecretBox } from './secret-box.js';
import { createTelegramRepository, type TelegramRepository } from './telegram-repository.js';
import { createTriggerRepository, type TriggerRepository } from './triggers-repository.js';

export interface Store {
  readonly dialect: Dialect;
  readonly location: string;
  readonly handle: DatabaseHandle;
  readonly runs: RunRepository;
  readonly events: EventRepository;
  readonly callbacks: CallbackRepository;
  readonly reactions: ReactionRepository;
  readonly repos: RepoRepository;
  readonly conversations: ConversationRepository;
  readonly jobs: JobRepository;
  readonly workers: WorkerRepository;
  readonly budgets: BudgetRepository;
  readonly schedules: ScheduleRepository;
  readonly artifacts: ArtifactRepository;
  readonly proposals: ProposalRepository;
  /** The ledger of model calls: usage and cost of each. */
  readonly llmCalls: LlmCallRepository;
  /** The cursor-runner compatibility layer's conversations, queues and tasks. */
  readonly cursorRunner: CursorRunnerRepository;
  /** Generic triggers and their accepted deliveries. */
  readonly triggers: TriggerRepository;
  /** Telegram chats' conversations, updates seen and answer parts sent. */
  readonly telegram: TelegramRepository;
  /** What each run's GitHub delivery has done (see DeliveryState). */
  readonly deliveries: DeliveryRepository;
  /** Inbound webhook delivery ids seen (dedupe). */
  readonly webhookDeliveries: WebhookDeliveryRepository;
  /** Dashboard login sessions (hashed ids, expiry). */
  readonly sessions: SessionRepository;
  /** Inbox tasks, their sources, merges, audit, edges and learned weights. */
  readonly tasks: TaskRepository;
  /** Inbox connectors with their sealed credentials and cursors. */
  readonly connectors: ConnectorRepository;
  /** Resolves when the database answers a trivial query; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  databaseUrl: string;
  /** Apply pending migrations on open (the server does; `patchbay migrate` does not). */
  migrate?: boolean;
  /** Seals secrets at rest (runs' env values); default: stored as given. */
  secrets?: SecretBox;
  /** Seals inbox connector credentials (null or unset: credentials are refused). */
  keyring?: Keyring | null;
  /**
   * PostgreSQL: how long to keep trying to reach the server before giving up with
   * STORE_UNAVAILABLE (default: one try). SQLite opens a file and needs no wait.
   */
  connectTimeoutMs?: number;
}

/** How long between two attempts while waiting for PostgreSQL at open. */
const CONNECT_RETRY_MS = 250;

/**
 * Waits for PostgreSQL to answer `select 1`, so that an unreachable server is one clear
 * refusal rather than a failed migration. An error PostgreSQL itself answered (bad password,
 * no such database) is final at once.
 * @throws PatchbayError STORE_UNAVAILABLE naming the URL (password masked) and what to check.
 */
async function awaitPostgres(
  handle: DatabaseHandle,
  url: string,
  timeoutMs: number,
): Promise<void> {
  const failure = await retryConnect(
    async () => {
      await sql`select 1`.execute(handle.db);
    },
    {
      timeoutMs,
      retryMs: CONNECT_RETRY_MS,
      // The server answered with an error of its own (it has a severity): waiting won't help.
      isAnswer: (err) => (err as { severity?: unknown }).severity !== undefined,
    },
  );
  if (!failure) return;
  const { reason, answered } = failure;
  const shown = maskUrlPassword(url);
  throw new PatchbayError(
    'STORE_UNAVAILABLE',
    `PostgreSQL at ${shown} (PATCHBAY_DATABASE_URL) ${answered ? 'refused the connection' : `did not answer${timeoutMs > 0 ? ` within ${(timeoutMs / 1000).toFixed(1)}s` : ''}`}: ${reason}. Check that PostgreSQL is running and reachable from this machine, and the URL's host, port, user, password and database; or unset PATCHBAY_DATABASE_URL to use the SQLite file in the data dir.`,
    { url: shown, setting: 'PATCHBAY_DATABASE_URL' },
  );
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const handle = await openDatabase(options.databaseUrl);
  if (handle.dialect === 'postgres') {
    try {
      await awaitPostgres(handle, options.databaseUrl, options.connectTimeoutMs ?? 0);
    } catch (err) {
      await handle.db.destroy();
      throw err;
    }
  }
  if (options.migrate ?? true) {
    try {
      const lockFile = migrationLockFile(handle);
      await migrateToLatest(handle.db as never, lockFile ? { lockFile } : {});
    } catch (err) {
      await handle.db.destroy();
      throw err;
    }
  }
  return {
    dialect: handle.dialect,
    location: handle.location,
    handle,
    runs: createRunRepository(handle.db, handle.dialect, options.secrets),
    events: createEventRepository(handle.db),
    callbacks: createCallbackRepository(handle.db),
    reactions: createReactionRepository(handle.db),
    repos: createRepoRepository(handle.db),
    conversations: createConversationRepository(handle.db),
    jobs: createJobRepository(handle.db),
    workers: createWorkerRepository(handle.db),
    budgets: createBudgetRepository(handle.db),
    schedules: createScheduleRepository(handle.db, options.secrets),
    artifacts: createArtifactRepository(handle.db),
    proposals: createProposalRepository(handle.db),
    llmCalls: createLlmCallRepository(handle.db),
    cursorRunner: createCursorRunnerRepository(handle.db, options.secrets),
    triggers: createTriggerRepository(handle.db, options.secrets),
    telegram: createTelegramRepository(handle.db),
    deliveries: createDeliveryRepository(handle.db, options.secrets),
    webhookDeliveries: createWebhookDeliveryRepository(handle.db),
    sessions: createSessionRepository(handle.db),
    tasks: createTaskRepository(handle.db),
    connectors: createConnectorRepository(handle.db, options.keyring ?? null),
    async ping() {
      try {
        await sql`select 1`.execute(handle.db);
      } catch (err) {
        throw new PatchbayError(
          'STORE_UNAVAILABLE',
          `the store (${handle.location}) does not answer: ${(err as Error).message || String(err)}`,
          undefined,
          { cause: err },
        );
      }
    },
    async close() {
      await handle.db.destroy();
    },
  };
}
