/**
 * The task inbox: connector items normalised into tasks, de-duplicated, ranked, triaged, and
 * drawn as a graph. See docs/inbox.md.
 */
import type {
  Horizon,
  InboxTask,
  TaskDetail,
  TaskGraph,
  TaskListItem,
  TaskState,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { pushHistory, type Store, type TaskRecord } from '../store/index.js';
import { createConnections, type ConnectionOptions } from './connections.js';
import type { ConnectorKind, SyncResult } from './connectors/types.js';
import type { InboxContext } from './context.js';
import { applySync, undoMerge } from './ingest.js';
import { createLlmPass, type LlmPassOptions } from './llm-pass.js';
import { taskPrompt } from './prompt.js';
import { rescoreAll } from './refresh.js';
import { seedDemo } from './seed.js';
import {
  calibrateThresholds,
  createLexicalSimilarity,
  type LabelledPair,
  type Similarity,
  type Thresholds,
} from './similarity.js';
import { getTaskOrThrow, triage, type TriageAction } from './triage.js';
import { graphFilters, listTasks, taskDetail, taskGraph, toInboxTask, type Lane } from './views.js';
import { PatchbayError } from '../contracts/index.js';

export {
  createLexicalSimilarity,
  calibrateThresholds,
  compareTexts,
  itemText,
} from './similarity.js';
export type { LabelledPair, Similarity, SimilarityScores, Thresholds } from './similarity.js';
export {
  createEmbeddingsSimilarity,
  createSimilarity,
  EmbeddingsError,
  withOfflineFallback,
  type EmbeddingsOptions,
  type EmbeddingsProvider,
} from './embeddings.js';
export { calibrateOnCorpus, labelClusters, type Calibration } from './calibration.js';
export { CALIBRATED } from './calibrated.js';
export { UNCALIBRATED } from './context.js';
export type { CreateConnector } from './connections.js';
export { isConnectorKind } from './connections.js';
export { createLlmPass, LLM_PASS_PURPOSE, type LlmPass, type LlmPassReport } from './llm-pass.js';
export { createSyncJobs, INBOX_SYNC_QUEUE, syncJobId } from './sync-jobs.js';
export type { SyncJobs, SyncJobsOptions } from './sync-jobs.js';
export { scoreTask, proposeHorizon } from './ranking.js';
export type { TriageAction } from './triage.js';
export { CONNECTOR_KINDS, ConnectorError } from './connectors/types.js';
export type * from './connectors/types.js';

export interface InboxOptions extends Partial<ConnectionOptions> {
  store: Pick<Store, 'tasks' | 'connectors'>;
  log: Logger;
  similarity?: Similarity;
  now?: () => Date;
  /** The optional LLM pass (PATCHBAY_INBOX_LLM): a model's summary and labels after each sync. */
  llm?: LlmPassOptions;
}

/** The inbox of one process, over the shared store. */
export function createInbox(options: InboxOptions) {
  const ctx: InboxContext = {
    store: options.store,
    similarity: options.similarity ?? createLexicalSimilarity(),
    log: options.log,
    now: options.now ?? (() => new Date()),
  };
  const llmPass = options.llm ? createLlmPass(ctx, options.llm) : undefined;
  const connections = createConnections(ctx, {
    apps: options.apps ?? {},
    createConnector: options.createConnector,
    fetch: options.fetch ?? fetch,
    syncIntervalMs: options.syncIntervalMs ?? 300_000,
    ...(options.maxPagesPerSync ? { maxPagesPerSync: options.maxPagesPerSync } : {}),
    onSynced: (kind) => {
      options.onSynced?.(kind);
      llmPass?.kick();
    },
  });
  return {
    similarity: ctx.similarity,
    connections,
    /** The LLM pass when configured (it follows every sync by itself). */
    llmPass,
    applySync: (kind: ConnectorKind, result: SyncResult) => applySync(ctx, kind, result),
    list: (query: {
      horizon?: Lane;
      limit: number;
      state?: TaskState;
      include?: 'sources';
    }): Promise<TaskListItem[]> => listTasks(ctx, query),
    get: (id: string): Promise<TaskDetail> => taskDetail(ctx, id),
    async triage(id: string, change: TriageAction): Promise<InboxTask> {
      return toInboxTask(await triage(ctx, id, change), ctx.now());
    },
    async undoMerge(mergeId: string): Promise<TaskDetail> {
      const merge = await undoMerge(ctx, mergeId);
      if (!merge)
        throw new PatchbayError('INBOX_MERGE_NOT_FOUND', `no merge ${mergeId} to undo`, {
          mergeId,
        });
      await rescoreAll(ctx);
      return taskDetail(ctx, merge.fromTaskId);
    },
    graph: (query: {
      window: 'week' | 'month';
      kind?: string;
      state?: TaskState;
    }): Promise<TaskGraph> => taskGraph(ctx, query),
    filters: () => graphFilters(ctx),
    /** Recomputes edges and scores (the clock moved, weights were learned). */
    rescore: () => rescoreAll(ctx),
    /** Stores thresholds for the current similarity method from labelled pairs. */
    async calibrate(pairs: readonly LabelledPair[]): Promise<Thresholds> {
      const t = await calibrateThresholds(ctx.similarity, pairs);
      await ctx.store.tasks.saveThreshold(ctx.similarity.name, t);
      return t;
    },
    /** The prompt of a run for a task. */
    async promptFor(id: string, instructions?: string): Promise<string> {
      const task = await getTaskOrThrow(ctx, id);
      return taskPrompt(task, await ctx.store.tasks.listSources(id), instructions);
    },
    /** Links a run to a task; its end updates the task (the engine's inbox reaction). */
    async linkRun(id: string, runId: string, completeOnSuccess: boolean): Promise<void> {
      const task = await getTaskOrThrow(ctx, id);
      await ctx.store.tasks.save({
        ...task,
        runId,
        completeOnSuccess,
        updatedAt: ctx.now().toISOString(),
      });
      await ctx.store.tasks.audit(id, 'run_started', task.state, task.state, {
        runId,
        completeOnSuccess,
      });
    },
    /** What a linked run's end does to its task: PR link; done when it succeeded and was asked to. */
    async runEnded(
      runId: string,
      outcome: { succeeded: boolean; prUrl: string | null },
    ): Promise<TaskRecord | undefined> {
      const task = await ctx.store.tasks.findByRun(runId);
      if (!task) return undefined;
      const now = ctx.now().toISOString();
      const done = outcome.succeeded && task.completeOnSuccess && task.state !== 'done';
      const next: TaskRecord = {
        ...task,
        prUrl: outcome.prUrl ?? task.prUrl,
        ...(done
          ? {
              state: 'done' as const,
              doneAt: now,
              history: pushHistory(task, 'run'),
            }
          : {}),
        updatedAt: now,
      };
      await ctx.store.tasks.save(next);
      await ctx.store.tasks.audit(task.id, 'run_ended', task.state, next.state, {
        runId,
        succeeded: outcome.succeeded,
        prUrl: outcome.prUrl,
      });
      return next;
    },
    seed: () => seedDemo(ctx),
    horizonOf: (t: TaskRecord): Horizon => t.horizonOverride ?? t.horizonProposed,
  };
}

export type Inbox = ReturnType<typeof createInbox>;
