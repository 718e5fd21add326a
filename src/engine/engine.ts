import { hostname } from 'node:os';
import { getAgent } from '../agents/index.js';
import type { ResolvedConfig } from '../config/index.js';
import type {
  CallbackDelivery,
  ChangedFile,
  Conversation,
  ConversationWithMessages,
  CreateConversationRequest,
  ListConversationsQuery,
  ListRunsQuery,
  OptimizeRequest,
  ParsedCreateRunRequest,
  PostMessageRequest,
  Run,
  RunEventList,
  RunReaction,
} from '../contracts/index.js';
import { currentBootId } from '../exec/index.js';
import {
  reportingOff,
  tracingOff,
  type ErrorReporter,
  type Logger,
  type Metrics,
  type Tracing,
} from '../observability/index.js';
import { createGithubClient, type GithubClient } from '../github/index.js';
import { createEmbeddedQueue, type JobQueue } from '../queue/index.js';
import { EventWriter, ulid, type Store, type WorkerRole } from '../store/index.js';
import { createBudgets } from './budgets.js';
import type { RemoteControl } from './control-redis.js';
import { createConversations } from './conversations.js';
import { createDispatcher, type RunQueueCounts } from './dispatcher.js';
import { createDomainEvents, type DomainEvents } from './domain-events.js';
import { relayLiveEvents } from './live-events.js';
import {
  createLocalEventBus,
  type Broadcast,
  type EventBus,
  type EventListener,
} from './event-bus.js';
import type { EventCursor, EventCursorOptions } from './event-cursor.js';
import { createKeyedLock } from './keyed-lock.js';
import { callbackReaction } from './reactions/callback.js';
import { githubCommitAuthorship, githubDeliveryReaction } from './reactions/github-delivery.js';
import { inboxTaskReaction } from './reactions/inbox-task.js';
import { createReactionRunner } from './reactions/runner.js';
import type { Reaction } from './reactions/types.js';
import { telegramReplyReaction } from './reactions/telegram-reply.js';
import { createTelegram, type Telegram } from './telegram/updates.js';
import { createRunLauncher } from './run-containment.js';
import { createRunWorkspaces } from './run-workspaces.js';
import { createSchedules, type RunOrigin, type Schedules } from './schedules.js';
import { createTriggers, type Triggers } from './triggers/triggers.js';
import { createControlSystem } from './systems/control.js';
import { createCreationSystem } from './systems/creation.js';
import { createExecutionSystem } from './systems/execution.js';
import { createFinishingSystem } from './systems/finishing.js';
import { createOptimizationSystem } from './systems/optimization.js';
import { createQueries } from './systems/queries.js';
import { createRecoverySystem, type WorkerInfo } from './systems/recovery.js';
import { createValidationSystem } from './systems/validation.js';
import { agentContext, type ActiveRun, type EngineResources } from './systems/resources.js';

export type { WorkerInfo };

/** How often an idle worker looks for runs queued by another process on the same store. */
const RUN_POLL_MS = 250;

export interface EngineOptions {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  metrics: Metrics;
  version: string;
  bus?: EventBus;
  /**
   * Pick up runs other processes left `queued` at start (default true). The embedded CLI
   * sets false: those runs belong to the server's queue, not to a one-shot `patchbay run`.
   */
  adoptQueuedRuns?: boolean;
  /** Where runs wait for a slot; default the embedded queue on `store`. */
  queue?: JobQueue;
  /** Carries control verbs to the server holding a run (several servers on one store). */
  control?: RemoteControl;
  /**
   * What this process is (default `server`: API and runs): `api` takes no runs, `worker` has
   * no HTTP. Every role registers itself and heartbeats (see PATCHBAY_RUN_LEASE_MS) unless
   * `adoptQueuedRuns` is false (the one-shot embedded CLI).
   */
  role?: WorkerRole;
  /** Run queues it takes runs from (default PATCHBAY_QUEUES; none for `api`). */
  queues?: string[];
  /** Runs of each queue it runs at once (default PATCHBAY_MAX_CONCURRENT_RUNS). */
  concurrency?: number;
  /** Spans of the run lifecycle (default off). */
  tracing?: Tracing;
  /** Where unexpected failures of runs are reported (default nowhere). */
  reporter?: ErrorReporter;
  /**
   * Reactions beyond the engine's own (the callback), e.g. a compatibility layer's. Every process
   * sharing the store must be given the same ones: any of them may take a reaction's row.
   */
  reactions?: readonly Reaction[];
  /** GitHub as configured (default: from `config`). */
  github?: GithubClient;
}

export interface QueueStats {
  running: number;
  waiting: number;
  limit: number;
}

/** The run lifecycle, as the server, the WebSocket layer and the embedded CLI see it. */
export interface Engine {
  readonly instanceId: string;
  /** The job queue runs wait in; other work of the process (inbox syncs) queues there too. */
  readonly queue: JobQueue;
  /** GitHub as this server is configured to reach it (deliveries, webhooks). */
  readonly github: GithubClient;
  /** Facts about runs' lives (created, started, finished, …) for the rest of the process. */
  readonly events: Pick<DomainEvents, 'on'>;
  /** The channel every process hears, when the bus spans processes (Redis); else undefined. */
  readonly broadcast: Broadcast | undefined;
  /** Schedules and the clock that fires them (running once the engine has started). */
  readonly schedules: Schedules;
  /** Generic triggers: run templates fired by Standard Webhooks signed POSTs. */
  readonly triggers: Triggers;
  /** Telegram bots: their updates start or continue conversations. */
  readonly telegram: Telegram;
  createRun(request: ParsedCreateRunRequest, origin?: RunOrigin): Promise<Run>;
  /**
   * Starts an optimization of a registered repository: queues its first stage run
   * (`optimize.detect`); each stage that succeeds queues the next. Returns the first run,
   * whose id is the optimization's id (every stage run's `parentId`).
   */
  optimize(repoId: string, request: OptimizeRequest): Promise<Run>;
  getRun(id: string): Promise<Run>;
  listRuns(query: ListRunsQuery): Promise<{ runs: Run[]; nextCursor: string | null }>;
  listEvents(id: string, after: number, limit: number): Promise<RunEventList>;
  /** Follows a run's events from `after` to the end (see EventCursor). */
  openCursor(id: string, after: number, options?: EventCursorOptions): Promise<EventCursor>;
  subscribe(runId: string, listener: EventListener): () => void;
  /** The unified diff of a finished repository run against its base commit. */
  getDiff(id: string): Promise<string>;
  /** Files a finished repository run changed, with added/removed line counts. */
  getChangedFiles(id: string): Promise<ChangedFile[]>;
  /** Every recorded attempt to deliver the run's callback, oldest first. */
  listDeliveries(id: string): Promise<CallbackDelivery[]>;
  /** What was done because the run ended (reactions), each with its tries. */
  listReactions(id: string): Promise<RunReaction[]>;
  cancelRun(id: string): Promise<Run>;
  pauseRun(id: string): Promise<Run>;
  resumeRun(id: string): Promise<Run>;
  /**
   * Ends the agent's current turn (SIGINT to the group), keeping its session for a later
   * `resumeSessionId`; escalates to cancel when the process does not stop within the grace.
   */
  interruptRun(id: string): Promise<Run>;
  /** Resolves with the run once it reaches a terminal status. */
  waitForRun(id: string, signal?: AbortSignal): Promise<Run>;
  queueStats(): Promise<QueueStats>;
  refreshMetrics(): Promise<void>;
  /**
   * Removes workspaces whose runs all ended more than PATCHBAY_WORKSPACE_TTL_MS ago: run
   * worktrees (with their branch unless it was pushed) and fresh run directories. A workdir the
   * user gave is never removed. Runs at start and hourly; returns the run ids swept.
   */
  sweepWorkspaces(): Promise<string[]>;
  createConversation(request: CreateConversationRequest): Promise<Conversation>;
  listConversations(
    query: ListConversationsQuery,
  ): Promise<{ conversations: Conversation[]; nextCursor: string | null }>;
  getConversation(id: string): Promise<ConversationWithMessages>;
  /** Starts the conversation's next run: same agent session, same workspace. */
  postMessage(conversationId: string, request: PostMessageRequest): Promise<Run>;
  /** Recovers runs left behind by a dead process, then starts dispatching. */
  start(): Promise<void>;
  /** Stops accepting runs, interrupts the running ones, flushes events. */
  stop(): Promise<void>;
  /**
   * Stops taking runs, lets the running ones finish for up to `graceMs`, then stops the rest
   * and queues them again (attempt + 1) for another worker; then stops like `stop`.
   */
  drain(graceMs: number): Promise<void>;
  /** The registry: processes heard from in the last hour or not stopped, newest first. */
  listWorkers(): Promise<WorkerInfo[]>;
  /** Per run queue: jobs waiting, delayed, active and failed, across every process. */
  queueCounts(): Promise<Record<string, RunQueueCounts>>;
}

/**
 * The run engine: small systems (systems/) sharing one resources object, composed here.
 * Creation stores and queues runs; execution claims, prepares and runs them; finishing ends
 * them, with their reactions in the same transaction; control pauses, resumes, cancels and
 * interrupts; recovery and the registry take over what dead processes left; optimization
 * chains stage runs. See src/engine/AGENTS.md for where new run-lifecycle logic goes.
 */
export function createEngine(options: EngineOptions): Engine {
  const { config, store, metrics } = options;
  const log = options.log;
  const role: WorkerRole = options.role ?? 'server';
  const registered = options.adoptQueuedRuns !== false;
  const instanceId = `inst_${ulid()}`;
  const bus = options.bus ?? createLocalEventBus();
  // The embedded CLI runs its own run in a queue of its own: the server's queued runs are not
  // its to take.
  const ownQueue = options.queue === undefined;
  const queue =
    options.queue ??
    createEmbeddedQueue({ store, log, leaseMs: config.runLeaseMs, pollMs: RUN_POLL_MS });
  const res: EngineResources = {
    config,
    store,
    queue,
    bus,
    writer: new EventWriter({
      repository: store.events,
      log,
      flushMs: config.eventFlushMs,
      onFlushed: (events) => {
        metrics.eventsWritten.inc(events.length);
        bus.publish(events);
      },
    }),
    events: createDomainEvents(log),
    log,
    metrics,
    tracing: options.tracing ?? tracingOff,
    reporter: options.reporter ?? reportingOff,
    version: options.version,
    instanceId,
    owner: { instanceId, hostname: hostname(), pid: process.pid, bootId: currentBootId() },
    withRunLock: createKeyedLock(),
    active: new Map<string, ActiveRun>(),
    knownQueues: new Set<string>(['default']),
    lifecycle: { stopping: false },
  };
  const { writer, active, lifecycle } = res;
  // With scale-out, every process (API node or worker) tells the others' live feeds what its
  // runs do (see live-events.ts).
  if (res.bus.broadcast) relayLiveEvents(res.events, res.bus.broadcast, instanceId);

  const concurrency = options.concurrency ?? config.maxConcurrentRuns;
  const dispatcher = createDispatcher({
    queue,
    consumes: role === 'api' ? [] : (options.queues ?? config.queues),
    known: () => [...res.knownQueues],
    ...(registered ? {} : { privateSuffix: instanceId }),
    limit: concurrency,
    start: async (runId) => {
      if (lifecycle.stopping) throw new Error('the server is stopping: the run stays queued');
      await execution.executeRun(runId);
    },
    onChange: ({ running }) => metrics.queueRunning.set(running),
  });

  const budgets = createBudgets({ store, config, metrics });
  const conversations = createConversations({
    store,
    log,
    workspaceRoots: config.workspaceRoots,
    summaryMessages: config.conversationSummaryMessages,
  });
  const github =
    options.github ??
    createGithubClient({ config, log, installationOf: (name) => store.repos.installationOf(name) });
  const authorship = githubCommitAuthorship(res, github);
  const workspaces = createRunWorkspaces({ config, store, log, authorship });
  const launcher = createRunLauncher({ config, store, log });
  // Its runs and conversations are made by systems composed below, once an update comes.
  const telegram = createTelegram({
    store,
    log,
    bots: config.telegramBots,
    apiUrl: config.telegramApiUrl,
    createRun: (request, origin) => creation.createRun(request, origin),
    createConversation: (request) => engine.createConversation(request),
  });
  const reactions = createReactionRunner(res, [
    callbackReaction(res),
    telegramReplyReaction(res, telegram),
    githubDeliveryReaction(res, github, authorship),
    inboxTaskReaction(res),
    ...(options.reactions ?? []),
  ]);
  const creation = createCreationSystem(res, {
    budgets,
    conversations,
    dispatcher,
    gitOptions: workspaces.gitOptions,
  });
  const schedules = createSchedules({
    store,
    log,
    queue,
    createRun: creation.createRun,
    validateRun: creation.validateRun,
  });
  const triggers = createTriggers({
    store,
    log,
    createRun: creation.createRun,
    validateRun: creation.validateRun,
    toleranceMs: config.triggerToleranceMs,
    publicUrl: config.publicUrl,
  });
  const finishing = createFinishingSystem(res, {
    conversations,
    schedules: () => schedules,
    dispatcher,
    reactions,
  });
  const validation = createValidationSystem(res, {
    launcher,
    gitOptions: workspaces.gitOptions,
  });
  const execution = createExecutionSystem(res, {
    conversations,
    workspaces,
    launcher,
    finishing,
    validation,
  });
  const optimization = createOptimizationSystem(res, { creation, finishing });
  const control = createControlSystem(res, { dispatcher, finishing, remote: options.control });
  let draining = false;
  const recovery = createRecoverySystem(res, {
    dispatcher,
    finishing,
    reactions,
    resumeStalledOptimizations: optimization.resumeStalledOptimizations,
    role,
    concurrency,
    registered,
    draining: () => draining,
  });
  const queries = createQueries(res, {
    dispatcher,
    workspaces,
    listWorkers: recovery.listWorkers,
  });

  let started = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  /** Once: a drain's hard stop (second signal) and its own final stop share one. */
  let stopped: Promise<void> | undefined;
  function stopEngine(): Promise<void> {
    stopped ??= stopOnce();
    return stopped;
  }

  async function stopOnce(): Promise<void> {
    // First: no tick is claimed that could then only be skipped as SERVER_SHUTTING_DOWN.
    await schedules.stop();
    lifecycle.stopping = true;
    clearInterval(sweepTimer);
    clearInterval(heartbeatTimer);
    const closing = dispatcher.close();
    const running = [...active.values()];
    for (const a of running) {
      a.shuttingDown = true;
      a.proc?.cancel();
    }
    await Promise.all(running.map((a) => a.done));
    await closing;
    await res.events.settled();
    await reactions.close();
    await writer.close();
    if (registered && started) await recovery.leave();
    if (ownQueue) await queue.close();
  }

  const engine: Engine = {
    instanceId,
    queue,
    github,
    events: res.events,
    broadcast: res.bus.broadcast,
    schedules,
    triggers,
    telegram,
    createRun: creation.createRun,
    optimize: optimization.startOptimization,
    getRun: queries.getRun,
    listRuns: queries.listRuns,
    listEvents: queries.listEvents,
    openCursor: queries.openCursor,
    subscribe: queries.subscribe,
    getDiff: queries.getDiff,
    getChangedFiles: queries.getChangedFiles,
    listDeliveries: queries.listDeliveries,
    listReactions: queries.listReactions,
    cancelRun: control.cancelRun,
    interruptRun: control.interruptRun,
    pauseRun: control.pauseRun,
    resumeRun: control.resumeRun,
    waitForRun: control.waitForRun,
    queueStats: () => dispatcher.stats(),
    queueCounts: () => dispatcher.queueCounts(),
    listWorkers: recovery.listWorkers,
    refreshMetrics: queries.refreshMetrics,
    sweepWorkspaces: workspaces.sweepWorkspaces,
    async createConversation(request) {
      // Every run of the conversation needs its agent: refuse now, not at the first message.
      await getAgent(request.agent).assertInstalled?.(agentContext(config, {}));
      return conversations.create(request);
    },
    listConversations: (query) => conversations.list(query),
    getConversation: (id) => conversations.getWithMessages(id),
    async postMessage(conversationId, request) {
      await conversations.get(conversationId);
      return creation.createRun({ ...request, conversationId });
    },
    async start() {
      if (started) return;
      started = true;
      // Fail closed: a server told to sandbox (or contain) runs must not run them without.
      const containment = await launcher.start();
      log.info({ containment: containment.kind }, containment.detail);
      if (registered) {
        await recovery.register();
        const every = Math.max(250, Math.floor(config.runLeaseMs / 3));
        heartbeatTimer = setInterval(() => void recovery.tick(), every);
        heartbeatTimer.unref();
      }
      await recovery.recover();
      dispatcher.start();
      reactions.start();
      // The embedded CLI's engine runs one run; schedules are the server's.
      if (registered) await schedules.start();
      void workspaces.sweepWorkspaces();
      sweepTimer = setInterval(() => void workspaces.sweepWorkspaces(), 3_600_000);
      sweepTimer.unref();
    },
    stop: stopEngine,
    async drain(graceMs) {
      if (stopped || draining) return stopEngine();
      draining = true;
      await recovery.heartbeat().catch(() => undefined);
      // No new runs from here on; the ones running go on for the grace.
      const closing = dispatcher.close();
      const running = [...active.values()];
      log.info({ running: running.length, graceMs }, 'draining: no new runs');
      const finished = Promise.all(running.map((a) => a.done));
      const inTime = await Promise.race([
        finished.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!inTime) {
        for (const a of active.values()) {
          a.requeueRequested = true;
          a.proc?.cancel();
        }
        log.warn({ runs: [...active.keys()] }, 'drain grace over: queueing the rest again');
      }
      await closing;
      await stopEngine();
    },
  };
  return engine;
}
