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
  createConversationRepository,
  type ConversationRepository,
} from './conversations-repository.js';
import { openDatabase, type DatabaseHandle, type Dialect } from './db.js';
import { createEventRepository, type EventRepository } from './events-repository.js';
import { createJobRepository, type JobRepository } from './jobs-repository.js';
import { migrateToLatest } from './migrator.js';
import { createRepoRepository, type RepoRepository } from './repos-repository.js';
import { createRunRepository, type RunRepository } from './runs-repository.js';
import { createWorkerRepository, type WorkerRepository } from './workers-repository.js';
import { createScheduleRepository, type ScheduleRepository } from './schedules-repository.js';
import type { SecretBox } from './secret-box.js';

export interface Store {
  readonly dialect: Dialect;
  readonly location: string;
  readonly handle: DatabaseHandle;
  readonly runs: RunRepository;
  readonly events: EventRepository;
  readonly callbacks: CallbackRepository;
  readonly repos: RepoRepository;
  readonly conversations: ConversationRepository;
  readonly jobs: JobRepository;
  readonly workers: WorkerRepository;
  readonly budgets: BudgetRepository;
  readonly schedules: ScheduleRepository;
  readonly artifacts: ArtifactRepository;
  readonly proposals: ProposalRepository;
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
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const handle = await openDatabase(options.databaseUrl);
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(handle.db as never);
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
    repos: createRepoRepository(handle.db),
    conversations: createConversationRepository(handle.db),
    jobs: createJobRepository(handle.db),
    workers: createWorkerRepository(handle.db),
    budgets: createBudgetRepository(handle.db),
    schedules: createScheduleRepository(handle.db, options.secrets),
    artifacts: createArtifactRepository(handle.db),
    proposals: createProposalRepository(handle.db),
    async ping() {
      try {
        await sql`select 1`.execute(handle.db);
      } catch (err) {
        throw new PatchbayError('STORE_UNAVAILABLE', undefined, undefined, { cause: err });
      }
    },
    async close() {
      await handle.db.destroy();
    },
  };
}
