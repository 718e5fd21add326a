import type { AgentContext } from '../../agents/index.js';
import { llmChildEnv, type ResolvedConfig } from '../../config/index.js';
import { PatchbayError } from '../../contracts/index.js';
import type { SupervisedProcess } from '../../exec/index.js';
import type { ErrorReporter, Logger, Metrics, Tracing } from '../../observability/index.js';
import type { JobQueue } from '../../queue/index.js';
import type { EventWriter, RunOwner, RunRecord, Store } from '../../store/index.js';
import type { DomainEvents } from '../domain-events.js';
import type { EventBus } from '../event-bus.js';
import type { KeyedLock } from '../keyed-lock.js';
import { selfArgv } from '../optimizations.js';

/** A run this process holds: its process (once spawned) and what was asked of it. */
export interface ActiveRun {
  proc: SupervisedProcess | undefined;
  /** Asks the agent to end its turn over stdin; false when that channel is not open. */
  softInterrupt?: () => boolean;
  cancelRequested: boolean;
  interruptRequested: boolean;
  shuttingDown: boolean;
  /** Drained: the process is stopped and the run queued again instead of ended. */
  requeueRequested: boolean;
  /** Paused between its claim and its spawn: the process is stopped as soon as it starts. */
  pausePending?: boolean;
  done: Promise<void>;
}

/** Cancelled, drained or shutting down: a process that starts now is stopped at once. */
export const stopRequested = (entry: ActiveRun): boolean =>
  entry.cancelRequested || entry.shuttingDown || entry.requeueRequested;

/**
 * What every system of the engine shares, handed to each in its options (never a global):
 * the store, the job queue, the live event bus and writer, the domain events, configuration,
 * logging, metrics and tracing, this process's identity, and the runs it holds.
 */
export interface EngineResources {
  readonly config: ResolvedConfig;
  readonly store: Store;
  readonly queue: JobQueue;
  /** Live events of runs (the per-run stream), published once stored. */
  readonly bus: EventBus;
  readonly writer: EventWriter;
  /** Facts about runs' lives, for the rest of the process (domain-events.ts). */
  readonly events: DomainEvents;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly tracing: Tracing;
  readonly reporter: ErrorReporter;
  readonly version: string;
  readonly instanceId: string;
  /** This process as a run's owner (recovery tells dead owners from live ones with it). */
  readonly owner: RunOwner;
  /** Serialises status changes of one run so status events match the stored order. */
  readonly withRunLock: KeyedLock;
  /** Runs this process holds now. */
  readonly active: Map<string, ActiveRun>;
  /** Run queues seen here, so /health/queue reports their depth even with no worker here. */
  readonly knownQueues: Set<string>;
  /** Set once the engine stops: nothing new starts. */
  readonly lifecycle: { stopping: boolean };
}

export const now = (): string => new Date().toISOString();

export async function getRecord(
  res: Pick<EngineResources, 'store'>,
  id: string,
): Promise<RunRecord> {
  const record = await res.store.runs.get(id);
  if (!record) throw new PatchbayError('RUN_NOT_FOUND', `no run ${id}`, { id });
  return record;
}

/** Numbers this run's events from the stored last seq (another process may have written). */
export async function ensureTracked(
  res: Pick<EngineResources, 'store' | 'writer'>,
  runId: string,
): Promise<void> {
  if (res.writer.lastSeq(runId) === undefined) {
    res.writer.track(runId, await res.store.events.maxSeq(runId));
  }
}

/** What an adapter needs to know of this server to validate and launch a run. */
export function agentContext(config: ResolvedConfig, env: Record<string, string>): AgentContext {
  return {
    allowedCommands: config.allowedCommands,
    childPath: { ...config.childEnvBase, ...env }.PATH,
    bins: {
      claude: config.agentClaudeBin,
      cursor: config.agentCursorBin,
      codex: config.agentCodexBin,
      gemini: config.agentGeminiBin,
    },
    // Looked up only by the llm agent: the package's place is found on first use.
    llm: {
      get self() {
        return selfArgv();
      },
      env: llmChildEnv(config),
    },
  };
}

export function notActive(record: RunRecord, action: string): PatchbayError {
  return new PatchbayError(
    'RUN_NOT_ACTIVE',
    `cannot ${action} run ${record.id}: it is ${record.status}`,
    { id: record.id, status: record.status },
  );
}
