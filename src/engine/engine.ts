import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import {
  assertCommandAllowed,
  getAgent,
  StderrTail,
  type AgentContext,
  type LaunchPlan,
} from '../agents/index.js';
import type { ResolvedConfig } from '../config/index.js';
import {
  invalidBodyField,
  isPatchbayError,
  isTerminalStatus,
  PatchbayError,
  type CallbackDelivery,
  type ChangedFile,
  type Conversation,
  type ConversationWithMessages,
  type CreateConversationRequest,
  type ListConversationsQuery,
  type PostMessageRequest,
  type ListRunsQuery,
  type OptimizeRequest,
  type OptimizeStage,
  type ParsedCreateRunRequest,
  type Run,
  type RunEvent,
  type RunEventList,
  type RunStatus,
  type TerminalStatus,
} from '../contracts/index.js';
import {
  currentBootId,
  isProcessAlive,
  loadPty,
  requirePty,
  signalGroup,
  supervise,
  type SupervisedProcess,
} from '../exec/index.js';
import {
  reportingOff,
  tracingOff,
  type ErrorReporter,
  type Logger,
  type Metrics,
  type Tracing,
} from '../observability/index.js';
import {
  DEFAULT_RUN_QUEUE,
  EventWriter,
  newRunRecord,
  toRun,
  ulid,
  UNREADABLE_SECRET,
  type RunOwner,
  type RunPatch,
  type RunRecord,
  type Store,
  type WorkerRecord,
  type WorkerRole,
  type WorkerState,
} from '../store/index.js';
import { createRunDirectory, git, resolveTrustedWorkdir } from '../workspaces/index.js';
import { createAgentStream } from './agent-stream.js';
import { createBudgets } from './budgets.js';
import { createConversations } from './conversations.js';
import { createRunLauncher } from './run-containment.js';
import { createRunWorkspaces } from './run-workspaces.js';
import { createKeyedLock } from './keyed-lock.js';
import { assertSafeCallbackUrl } from './callback-target.js';
import { createCallbackScheduler } from './callbacks.js';
import type { ControlAction, RemoteControl } from './control-redis.js';
import {
  createDispatcher,
  MAX_RECOVERY_JOBS,
  type Dispatcher,
  type RunQueueCounts,
} from './dispatcher.js';
import { createEmbeddedQueue, type JobQueue } from '../queue/index.js';
import { createLocalEventBus, type EventBus, type EventListener } from './event-bus.js';
import { EventCursor, isTerminalEvent, type EventCursorOptions } from './event-cursor.js';
import { explainAgentExit, outcomeOf } from './outcome.js';
import { usageShare } from './usage-share.js';
import { runAttributes, startRunSpans, traceFields } from './run-tracing.js';
import {
  assertOptimizerAllowed,
  createStageParser,
  nextStage,
  stageArgv,
  stageCommand,
  stageKind,
  stageOf,
  storeStageOutputs,
} from './optimizations.js';
import { createSchedules, type RunOrigin, type Schedules } from './schedules.js';

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
}

/** A process in the registry as the API shows it: `lost` when its heartbeat expired. */
export type WorkerInfo = Omit<WorkerRecord, 'state'> & { state: WorkerState | 'lost' };

export interface QueueStats {
  running: number;
  waiting: number;
  limit: number;
}

/** The run lifecycle, as the server, the WebSocket layer and the embedded CLI see it. */
export interface Engine {
  readonly instanceId: string;
  /** Schedules and the clock that fires them (running once the engine has started). */
  readonly schedules: Schedules;
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

interface ActiveRun {
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
const stopRequested = (entry: ActiveRun): boolean =>
  entry.cancelRequested || entry.shuttingDown || entry.requeueRequested;

const now = (): string => new Date().toISOString();

/** How often an idle worker looks for runs queued by another process on the same store. */
const RUN_POLL_MS = 250;
/** The registry lists processes heard from within this window (and any not stopped). */
const WORKER_LIST_WINDOW_MS = 3_600_000;
/** Queued runs whose job a heartbeat checks, at most once a lease (see recoverQueuedRuns). */
const SWEEP_LIMIT = 100;
/** Registry rows of processes silent this long are deleted. */
const WORKER_PURGE_MS = 24 * 3_600_000;

const LIST_EVENTS_MAX_BYTES = 4 * 1024 * 1024;

export function createEngine(options: EngineOptions): Engine {
  const { config, store, metrics } = options;
  const tracing = options.tracing ?? tracingOff;
  const reporter = options.reporter ?? reportingOff;
  const baseLog = options.log;
  const bus = options.bus ?? createLocalEventBus();
  const instanceId = `inst_${ulid()}`;
  const role: WorkerRole = options.role ?? 'server';
  const registered = options.adoptQueuedRuns !== false;
  const leaseMs = config.runLeaseMs;
  const owner: RunOwner = {
    instanceId,
    hostname: hostname(),
    pid: process.pid,
    bootId: currentBootId(),
  };
  const active = new Map<string, ActiveRun>();
  let stopping = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let started = false;
  let startedAt: string | undefined;
  let draining = false;
  let lastQueuedSweep = 0;
  /** Run queues seen here, so /health/queue reports their depth even with no worker here. */
  const knownQueues = new Set<string>(['default']);

  const writer = new EventWriter({
    repository: store.events,
    log: baseLog,
    flushMs: config.eventFlushMs,
    onFlushed: (events) => {
      metrics.eventsWritten.inc(events.length);
      bus.publish(events);
    },
  });

  // The embedded CLI runs its own run in a queue of its own: the server's queued runs are not
  // its to take.
  const ownQueue = options.queue === undefined;
  const queue =
    options.queue ?? createEmbeddedQueue({ store, log: baseLog, leaseMs, pollMs: RUN_POLL_MS });
  const concurrency = options.concurrency ?? config.maxConcurrentRuns;
  const consumes = role === 'api' ? [] : (options.queues ?? config.queues);
  const dispatcher: Dispatcher = createDispatcher({
    queue,
    consumes,
    known: () => [...knownQueues],
    ...(options.adoptQueuedRuns === false ? { privateSuffix: instanceId } : {}),
    limit: concurrency,
    start: async (runId) => {
      if (stopping) throw new Error('the server is stopping: the run stays queued');
      await executeRun(runId);
    },
    onChange: ({ running }) => metrics.queueRunning.set(running),
  });

  /** Serialises status changes of one run so status events match the stored order. */
  const withRunLock = createKeyedLock();

  async function getRecord(id: string): Promise<RunRecord> {
    const record = await store.runs.get(id);
    if (!record) throw new PatchbayError('RUN_NOT_FOUND', `no run ${id}`, { id });
    return record;
  }

  async function ensureTracked(runId: string): Promise<void> {
    if (writer.lastSeq(runId) === undefined) writer.track(runId, await store.events.maxSeq(runId));
  }

  /**
   * Right before its process starts, every run passes PATCHBAY_ALLOWED_COMMANDS (it may have
   * been set since the run was queued), and its sealed env must open with this process's key.
   */
  async function assertLaunchAllowed(record: RunRecord): Promise<void> {
    const unreadable = Object.keys(record.env).filter((k) => record.env[k] === UNREADABLE_SECRET);
    if (unreadable.length > 0) {
      throw new PatchbayError('RUN_SECRETS_UNREADABLE', undefined, { envKeys: unreadable });
    }
    if (!config.allowedCommands) return;
    if (stageOf(record)) assertOptimizerAllowed(config.allowedCommands);
    else if (record.agent === 'shell' && record.command?.[0]) {
      await assertCommandAllowed(record.command[0], agentContext(record.env));
    }
  }

  function agentContext(env: Record<string, string>): AgentContext {
    return {
      allowedCommands: config.allowedCommands,
      childPath: { ...config.childEnvBase, ...env }.PATH,
      bins: {
        claude: config.agentClaudeBin,
        cursor: config.agentCursorBin,
        codex: config.agentCodexBin,
        gemini: config.agentGeminiBin,
      },
    };
  }

  /** Every path that creates a run stores it through here: the budget check (budgets.ts). */
  const budgets = createBudgets({ store, config, metrics });

  const conversations = createConversations({
    store,
    log: baseLog,
    workspaceRoots: config.workspaceRoots,
    summaryMessages: config.conversationSummaryMessages,
  });

  function createRun(request: ParsedCreateRunRequest, origin: RunOrigin = {}): Promise<Run> {
    if (stopping) throw new PatchbayError('SERVER_SHUTTING_DOWN');
    const { conversationId } = request;
    return conversationId
      ? conversations.createRun({ ...request, conversationId }, (r) => insertRun(r, origin))
      : insertRun(request, origin);
  }

  /**
   * Every check a run request passes before it is stored: the agent's own (its CLI installed,
   * the command allowed, a prompt), the workspace (the run it follows, repo and ref, a trusted
   * workdir), pty and the callback URL policy. Budgets are not checked here: they depend on
   * the moment the run is created. Returns what the checks resolved.
   */
  async function checkRunRequest(request: ParsedCreateRunRequest) {
    const adapter = getAgent(request.agent ?? 'shell');
    await adapter.validate(request, agentContext(request.env ?? {}));
    let follow: RunRecord | undefined;
    if (request.workspaceOf) {
      if (request.workdir || request.repo) {
        throw invalidBodyField(
          'workspaceOf',
          'not with workdir or repo',
          'workspaceOf takes the workspace of that run: give no workdir or repo',
        );
      }
      follow = await getRecord(request.workspaceOf);
      // A run still queued gets its workspace when it starts; the follow-up waits for it.
      if (!follow.workdir && follow.status !== 'queued') {
        throw new PatchbayError(
          'WORKSPACE_UNAVAILABLE',
          `run ${follow.id} never got a workspace (it is ${follow.status})`,
          { id: follow.id, status: follow.status },
        );
      }
    }
    if (request.repo) {
      if (request.workdir) {
        throw invalidBodyField('workdir', 'not with repo', 'give either repo or workdir, not both');
      }
      await assertRef(request.repo, request.ref);
    }
    const workdir = request.workdir
      ? await resolveTrustedWorkdir(request.workdir, config.workspaceRoots)
      : null;
    if (request.pty) await requirePty();
    if (request.callbackUrl) {
      await assertSafeCallbackUrl(request.callbackUrl, {
        allowPrivate: config.allowPrivateCallbackUrls,
      });
    }
    return { adapter, follow, workdir };
  }

  /**
   * Validates a run request exactly as createRun would, without storing anything: for what
   * starts runs later (schedules), so a request every tick would refuse is refused once, now.
   * A conversation's request is checked as the conversation would complete it.
   */
  async function validateRun(request: ParsedCreateRunRequest): Promise<void> {
    const { conversationId } = request;
    await checkRunRequest(
      conversationId ? (await conversations.plan({ ...request, conversationId })).planned : request,
    );
  }

  async function insertRun(request: ParsedCreateRunRequest, origin: RunOrigin): Promise<Run> {
    const { adapter, follow, workdir } = await checkRunRequest(request);
    const record = newRunRecord({
      agent: adapter.name,
      command: request.command ?? null,
      prompt: request.prompt ?? null,
      workdir,
      env: request.env ?? {},
      pty: request.pty ?? false,
      timeoutMs: request.timeoutMs ?? config.runTimeoutMs,
      idleTimeoutMs: request.idleTimeoutMs ?? config.idleTimeoutMs,
      maxOutputBytes: request.maxOutputBytes ?? config.maxOutputBytes,
      outputPolicy: request.outputPolicy ?? config.outputPolicy,
      callbackUrl: request.callbackUrl ?? null,
      model: request.model ?? null,
      args: request.args ?? [],
      resumeSessionId: request.resumeSessionId ?? null,
      agentPermissions: request.agentPermissions ?? 'edit',
      repoId: request.repo ?? null,
      ref: request.ref ?? null,
      autoCommit: request.autoCommit ?? true,
      network: request.network ?? false,
      conversationId: request.conversationId ?? null,
      ...(request.queue ? { queue: request.queue } : {}),
      retries: request.retries ?? 0,
      scheduleId: origin.scheduleId ?? null,
      ...(follow && {
        workdir: follow.workdir,
        repoId: follow.repoId,
        branch: follow.branch,
        workspaceOf: follow.workspaceOf ?? follow.id,
      }),
    });
    return enqueueNew(record);
  }

  /** Stores a new run (within the budgets), its `queued` event, and queues it. */
  function enqueueNew(created: RunRecord): Promise<Run> {
    // The span the run is created in (a child of the request's) is stored with it, so the
    // process that runs it continues the same trace.
    return tracing.inSpan('run.create', { attributes: runAttributes(created) }, (span) =>
      storeAndQueue({ ...created, ...traceFields(span) }),
    );
  }

  async function storeAndQueue(record: RunRecord): Promise<Run> {
    await budgets.insertRun(record);
    writer.track(record.id, 0);
    writer.append(record.id, 'status', { status: 'queued' });
    // Stored before any worker can take the run, and no longer numbered here: the process that
    // runs it (this one or another sharing the store) continues the seq from the store.
    await writer.flush();
    writer.untrack(record.id);
    baseLog.info({ runId: record.id, agent: record.agent, kind: record.kind }, 'run queued');
    knownQueues.add(record.queue);
    await tracing.inSpan('queue.enqueue', { kind: 'producer' }, () => dispatcher.enqueue(record));
    return toRun(record);
  }

  async function assertRef(repoId: string, requested: string | undefined) {
    const repo = await store.repos.get(repoId);
    if (!repo) throw new PatchbayError('REPO_NOT_FOUND', `no repository ${repoId}`);
    const ref = requested ?? repo.defaultBranch;
    const sha = await git(
      ['rev-parse', '--verify', '-q', `${ref}^{commit}`],
      repo.path,
      gitOptions,
    ).catch(() => {
      throw new PatchbayError('REPO_REF_NOT_FOUND', `${ref} is not a commit of ${repo.name}`, {
        ref,
      });
    });
    return { repo, ref, sha: sha.trim() };
  }

  /** A stage run's fields: `optimize-stage` in the optimization's directory, no agent limits. */
  function stageRecord(
    stage: OptimizeStage,
    from: { repoId: string; queue: string; ref: string | null; workspaceOf: string | null },
    command: string[],
    timeoutMs: number,
  ): RunRecord {
    return newRunRecord({
      agent: 'shell',
      kind: stageKind(stage),
      command,
      prompt: null,
      workdir: null,
      env: {},
      pty: false,
      timeoutMs,
      // A stage prints progress only between steps, and an install or a test suite may be
      // silent for long: the stage's own limits (max minutes) and the run timeout apply.
      idleTimeoutMs: timeoutMs,
      maxOutputBytes: config.maxOutputBytes,
      outputPolicy: 'truncate',
      callbackUrl: null,
      repoId: from.repoId,
      ref: from.ref,
      autoCommit: false,
      // Installs fetch packages; with PATCHBAY_SANDBOX=bwrap a stage still needs the network.
      network: true,
      queue: from.queue,
      ...(from.workspaceOf ? { workspaceOf: from.workspaceOf } : {}),
    });
  }

  async function startOptimization(repoId: string, request: OptimizeRequest): Promise<Run> {
    if (stopping) throw new PatchbayError('SERVER_SHUTTING_DOWN');
    assertOptimizerAllowed(config.allowedCommands);
    const { repo, ref, sha } = await assertRef(repoId, request.ref);
    // Every stage gets the whole budget of minutes plus an hour for install and build; the
    // validate stage stops taking candidates at maxMinutes from the start.
    const timeoutMs = Math.max(config.runTimeoutMs, (request.maxMinutes + 60) * 60_000);
    const record = stageRecord(
      'detect',
      { repoId, queue: request.queue ?? DEFAULT_RUN_QUEUE, ref, workspaceOf: null },
      stageCommand('detect', { source: repo.path, ref: sha, request }),
      timeoutMs,
    );
    record.parentId = record.id;
    return enqueueNew(record);
  }

  /** After a stage succeeded: the next stage, in the same directory (none after propose). */
  async function continueOptimization(runId: string, log: Logger): Promise<void> {
    const done = await getRecord(runId);
    const stage = stageOf(done);
    const next = stage && done.status === 'succeeded' ? nextStage(stage) : null;
    if (!next || !done.repoId) return;
    const record = stageRecord(
      next,
      {
        repoId: done.repoId,
        queue: done.queue,
        ref: done.ref,
        workspaceOf: done.workspaceOf ?? done.id,
      },
      stageCommand(next),
      done.timeoutMs,
    );
    record.parentId = done.parentId ?? done.id;
    record.retries = done.retries;
    await enqueueNew(record).catch(async (err: unknown) => {
      // Lost a race with a recovery (or the other way round): the stage is queued once.
      const queued = await store.runs.list({
        limit: 1,
        parentId: record.parentId!,
        kind: record.kind,
      });
      if (queued.length > 0) return;
      if (err instanceof PatchbayError && err.code === 'BUDGET_EXCEEDED') {
        await stageRefused(record, err, log);
        return;
      }
      log.error({ err, stage: next }, 'could not queue the next stage of the optimization');
    });
  }

  /**
   * A budget refused the next stage. A concurrency limit frees up: the heartbeat's recovery
   * queues the stage once the repository's other runs end. A per-day limit would hold the
   * optimization until tomorrow, on a baseline measured today: the stage is recorded as a
   * failed run with the refusal instead, so the optimization ends where its runs show it.
   */
  async function stageRefused(record: RunRecord, err: PatchbayError, log: Logger): Promise<void> {
    if ((err.details as { resetAt?: string | null } | undefined)?.resetAt == null) {
      log.info({ stage: record.kind, reason: err.message }, 'next stage waits for the budget');
      return;
    }
    await store.runs.insert(record);
    const message = `${record.kind} was not started: ${err.message}`;
    await endWithoutProcess(record.id, ['queued'], 'failed', { code: err.code, message });
    log.warn({ stage: record.kind, reason: err.message }, 'optimization ended by its budget');
  }

  /**
   * Stages that succeeded more than a lease ago without their next stage queued: the process
   * that ran them died between the end and the queueing. The unique (parent_id, kind) index
   * makes sure only one process queues it.
   */
  async function resumeStalledOptimizations(): Promise<void> {
    const stalled = await store.runs.listStalledStages(
      new Date(Date.now() - WORKER_PURGE_MS).toISOString(),
      new Date(Date.now() - leaseMs).toISOString(),
    );
    for (const run of stalled) {
      baseLog.warn({ runId: run.id, kind: run.kind }, 'queueing the stage after a stalled one');
      await continueOptimization(run.id, baseLog.child({ runId: run.id }));
    }
  }

  async function executeRun(runId: string): Promise<void> {
    const log = baseLog.child({ runId });
    let finishedResolve!: () => void;
    const entry: ActiveRun = {
      proc: undefined,
      cancelRequested: false,
      interruptRequested: false,
      shuttingDown: false,
      requeueRequested: false,
      done: new Promise<void>((r) => (finishedResolve = r)),
    };
    const pre = await store.runs.get(runId).catch(() => undefined);
    const spans = pre && tracing.enabled ? startRunSpans(tracing, pre) : undefined;
    try {
      // One writer per workspace: a follow-up run waits (still queued) for the runs before it.
      const execute = () =>
        withWorkspaceLock(pre?.workspaceOf ?? runId, () => claimAndRun(runId, entry, log));
      await (spans ? tracing.withSpan(spans.running, execute) : execute());
    } catch (err) {
      log.error({ err }, 'run failed unexpectedly');
      reporter.report(err, { tags: { runId, code: 'INTERNAL_ERROR' } });
      await finalize(runId, {
        status: 'failed',
        errorCode: 'INTERNAL_ERROR',
        errorMessage: (err as Error).message,
      }).catch((e: unknown) => log.error({ err: e }, 'could not record failure'));
    } finally {
      active.delete(runId);
      finishedResolve();
      if (spans) {
        const status = (await store.runs.get(runId).catch(() => undefined))?.status;
        if (status) spans.run.setAttribute('patchbay.run.status', status);
        spans.running.end();
        spans.run.end();
      }
    }
  }

  /** One writer per workspace: follow-up runs queue behind the runs before them. */
  const withWorkspaceLock = createKeyedLock();

  async function claimAndRun(runId: string, entry: ActiveRun, log: Logger): Promise<void> {
    const claimed = await withRunLock(runId, async () => {
      const record = await store.runs.get(runId);
      if (!record || record.status !== 'queued') return null;
      let worktree: { workdir: string; branch: string; baseCommit: string } | null = null;
      let workdir: string;
      try {
        await assertLaunchAllowed(record);
        if (record.workspaceOf) {
          // A follow-up continues in the workspace of the run that made it (read now: that
          // run may not have started when this one was created), on its branch, from where
          // the last run left it.
          const leader = await store.runs.get(record.workspaceOf);
          if (!leader?.workdir || !existsSync(leader.workdir)) {
            throw new PatchbayError(
              'WORKSPACE_UNAVAILABLE',
              `the workspace of run ${record.workspaceOf} does not exist (${leader?.workdir ? 'it expired' : 'that run never started'})`,
              { workspaceOf: record.workspaceOf },
            );
          }
          workdir = leader.workdir;
          if (leader.branch) {
            worktree = {
              workdir,
              branch: leader.branch,
              baseCommit: (await git(['rev-parse', 'HEAD'], workdir, gitOptions)).trim(),
            };
          }
        } else if (record.repoId && record.kind === 'agent') {
          worktree = await createRunWorktree(record);
          workdir = worktree.workdir;
        } else {
          workdir = record.workdir ?? (await createRunDirectory(config.workspaceRoots[0]!, runId));
        }
      } catch (err) {
        await failQueued(runId, err);
        return null;
      }
      const prepared = record.conversationId ? await conversations.beforeStart(record) : {};
      const sandbox = config.sandbox;
      const ok = await store.runs.transition(runId, ['queued'], {
        status: 'running',
        startedAt: now(),
        owner,
        workdir,
        sandbox,
        ...(worktree ? { branch: worktree.branch, baseCommit: worktree.baseCommit } : {}),
        ...prepared,
      });
      if (!ok) return null;
      active.set(runId, entry);
      await ensureTracked(runId);
      return { ...record, workdir, sandbox, ...worktree, ...prepared };
    });
    if (!claimed) return;
    await runProcess(claimed, entry, log);
  }

  async function runProcess(record: RunRecord, entry: ActiveRun, log: Logger): Promise<void> {
    const runId = record.id;
    const adapter = getAgent(record.agent);
    const stage = stageOf(record);
    const plan: LaunchPlan = stage
      ? { argv: stageArgv(record), stdin: 'ignore' }
      : adapter.plan(record, agentContext(record.env));
    const parser = stage ? createStageParser() : adapter.createParser?.();
    const pty = record.pty ? await loadPty() : undefined;
    if (record.pty && !pty) {
      await finalize(runId, {
        status: 'failed',
        errorCode: 'PTY_UNAVAILABLE',
        errorMessage: 'node-pty is not installed on this server',
      });
      return;
    }
    let lastDropped = 0;
    let markResult = (): void => undefined;
    // A coding agent's stderr end: its own words when it exits without a result.
    const stderrTail = !stage && record.agent !== 'shell' ? new StderrTail() : undefined;
    const agentStream = parser
      ? createAgentStream(
          parser,
          (event) => writer.append(runId, event.type, event.data, event.raw),
          // The agent reported its final result: from now on the post-result grace runs.
          () => markResult(),
        )
      : undefined;
    // An agent's provider credentials (PATCHBAY_AGENT_CREDENTIALS) sit between the clean base and
    // the run's own env, which wins; shell runs and optimizer stages never get them.
    const credentials =
      !stage && record.agent in config.agentCredentialValues
        ? config.agentCredentialValues[record.agent as keyof typeof config.agentCredentialValues]
        : {};
    const env = { ...config.childEnvBase, ...credentials, ...record.env };
    const { argv, wrapped } = await launcher.argvFor(record, plan.argv, env, adapter);
    const procSpan = tracing.startSpan('agent.process', {
      attributes: { 'patchbay.run.id': runId, 'process.executable.name': plan.argv[0]! },
    });
    const proc = supervise(
      {
        argv,
        cwd: record.workdir!,
        env,
        stdin: plan.stdin,
        pty: pty ?? undefined,
        wrapped,
      },
      {
        timeoutMs: record.timeoutMs,
        idleTimeoutMs: record.idleTimeoutMs,
        resultGraceMs: config.resultGraceMs,
        killGraceMs: config.killGraceMs,
        maxOutputBytes: record.maxOutputBytes,
        outputPolicy: record.outputPolicy,
        tailBytes: config.outputTailBytes,
        dropRateBytesPerSecond: config.outputDropRate,
      },
      {
        output(stream, text, tail) {
          if (stream === 'stderr') stderrTail?.push(text);
          if (agentStream && stream === 'stdout') agentStream.push(text, tail);
          else
            writer.append(runId, 'output', tail ? { stream, text, tail: true } : { stream, text });
        },
        dropped(droppedBytes, final) {
          metrics.droppedBytes.inc(droppedBytes - lastDropped);
          lastDropped = droppedBytes;
          writer.append(runId, 'dropped', { reason: 'output_limit', droppedBytes, final });
        },
        get saturated() {
          return writer.saturated;
        },
        onDrain: (cb) => writer.onDrain(cb),
      },
      log,
    );
    entry.proc = proc;
    const stdin = plan.stdin === 'pipe' ? proc.stdin : null;
    if (stdin) {
      // A CLI that exits before reading its input (or after the interrupt) must not crash us.
      stdin.on('error', (err: Error) => log.debug({ err }, 'agent stdin closed early'));
      if (plan.input) stdin.write(plan.input);
      const interruptInput = plan.interruptInput;
      if (interruptInput) {
        entry.softInterrupt = () => {
          if (stdin.writableEnded || stdin.destroyed) return false;
          stdin.write(interruptInput());
          return true;
        };
      }
    }
    markResult = () => {
      proc.markResult();
      // The agent answered: with stdin closed it has nothing more to wait for, and exits.
      stdin?.end();
    };
    if (proc.pid !== undefined) {
      await withRunLock(runId, async () => {
        await store.runs.update(runId, { pid: proc.pid!, pgid: proc.pgid! });
        const stopping = stopRequested(entry) || entry.interruptRequested;
        const paused = entry.pausePending === true && !stopping && proc.pause();
        if (entry.pausePending && !paused) {
          await store.runs.transition(runId, ['paused'], { status: 'running' });
        }
        writer.append(runId, 'status', { status: paused ? 'paused' : 'running', pid: proc.pid });
      });
      log.info({ pid: proc.pid, argv0: plan.argv[0] }, 'run started');
      if (stopRequested(entry)) proc.cancel();
      // Interrupted before it existed: the agent never saw its turn, so no control request.
      else if (entry.interruptRequested) proc.interrupt();
    }
    if (proc.pid !== undefined) procSpan.setAttribute('process.pid', proc.pid);
    const exit = await proc.exited;
    if (exit.exitCode !== null) procSpan.setAttribute('process.exit.code', exit.exitCode);
    if (exit.signal !== null) procSpan.setAttribute('process.exit.signal', exit.signal);
    procSpan.end();
    agentStream?.end();
    if (entry.requeueRequested && !entry.cancelRequested) {
      await requeueRun(record.id, `the worker on ${owner.hostname} was drained`);
      return;
    }
    const facts = parser?.facts;
    const outcome = explainAgentExit(
      outcomeOf(exit, {
        shuttingDown: entry.shuttingDown,
        interrupted: entry.interruptRequested,
        maxOutputBytes: record.maxOutputBytes,
        agent: facts,
      }),
      exit,
      {
        agent: record.agent,
        facts,
        stderr: stderrTail?.lines() ?? [],
        ...(adapter.classifyExit ? { classify: adapter.classifyExit } : {}),
      },
    );
    const changes = record.baseCommit ? await recordChanges(record, log) : {};
    if (stage) await storeStageArtifacts(record, log);
    // A CLI that reports for its whole session: this run's share against the run it resumed.
    const previous =
      facts?.usageScope === 'session' && record.resumeSessionId
        ? await store.runs.lastOfSession(record.agent, record.resumeSessionId, runId)
        : undefined;
    await finalize(runId, outcome, exit, {
      ...changes,
      ...(facts && {
        sessionId: facts.sessionId ?? null,
        resultText: facts.resultText ?? null,
        ...usageShare(facts, previous),
        numTurns: facts.numTurns ?? null,
        permissionDenials: facts.permissionDenials ?? [],
        ...(facts.model ? { model: facts.model } : {}),
      }),
    });
    if (stage) await continueOptimization(runId, log);
  }

  const workspaces = createRunWorkspaces({ config, store, log: baseLog });
  const launcher = createRunLauncher({ config, store, log: baseLog });
  const { gitOptions, createRunWorktree, recordChanges, sweepWorkspaces } = workspaces;

  /**
   * A stage's files, stored before its end is (a client that saw the end can fetch them), each
   * announced by an `artifact` event. A failure to store them is logged, not the run's failure.
   */
  async function storeStageArtifacts(record: RunRecord, log: Logger): Promise<void> {
    try {
      const stored = await storeStageOutputs(record, { store, dataDir: config.dataDir });
      for (const a of stored) {
        writer.append(record.id, 'artifact', { id: a.id, name: a.name, bytes: a.bytes });
      }
    } catch (err) {
      log.error({ err }, 'could not store the stage artifacts');
    }
  }

  /** A queued run that cannot start (its worktree could not be made) fails at once. */
  async function failQueued(runId: string, err: unknown): Promise<void> {
    const pe = isPatchbayError(err)
      ? err
      : new PatchbayError('REPO_REF_NOT_FOUND', (err as Error).message);
    await endWithoutProcess(runId, ['queued'], 'failed', { code: pe.code, message: pe.message });
  }

  /**
   * Ends a run that has no process of ours (still queued, or left running by a dead server):
   * compare-and-set to the terminal status, its conversation, the terminal event, the callback.
   * `owner` is recorded so this process, not a recovery elsewhere, delivers the callback.
   */
  async function endWithoutProcess(
    runId: string,
    from: RunStatus[],
    status: TerminalStatus,
    error: { code: string; message: string },
  ): Promise<boolean> {
    await ensureTracked(runId);
    const event = await writer.commit(runId, 'status', { status, error }, (e) =>
      store.runs.transitionWithEvent(
        runId,
        from,
        { status, owner, finishedAt: now(), errorCode: error.code, errorMessage: error.message },
        e,
      ),
    );
    writer.untrack(runId);
    if (!event) return false;
    await conversationEnded(runId);
    await schedules.runEnded(await getRecord(runId));
    writer.publish([event]);
    metrics.runsFinished.inc({ status });
    scheduleCallback(toRun(await getRecord(runId)));
    return true;
  }

  async function finalize(
    runId: string,
    outcome: { status: RunStatus; errorCode: string | null; errorMessage: string | null },
    exit?: {
      exitCode: number | null;
      signal: string | null;
      outputBytes: number;
      droppedBytes: number;
    },
    reported?: RunPatch,
  ): Promise<void> {
    const attributes = { 'patchbay.run.id': runId, 'patchbay.run.status': outcome.status };
    await tracing.inSpan('run.finish', { attributes }, () =>
      finishRun(runId, outcome, exit, reported),
    );
  }

  async function finishRun(
    runId: string,
    outcome: Parameters<typeof finalize>[1],
    exit: Parameters<typeof finalize>[2],
    reported?: RunPatch,
  ): Promise<void> {
    const record = await withRunLock(runId, async () => {
      const patch: RunPatch = {
        status: outcome.status,
        finishedAt: now(),
        exitCode: exit?.exitCode ?? null,
        signal: exit?.signal ?? null,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
        outputBytes: exit?.outputBytes ?? 0,
        droppedBytes: exit?.droppedBytes ?? 0,
        ...reported,
      };
      const data = {
        status: outcome.status,
        exitCode: exit?.exitCode ?? null,
        signal: exit?.signal ?? null,
        error: outcome.errorCode
          ? { code: outcome.errorCode, message: outcome.errorMessage }
          : null,
      };
      // The end and its event in one transaction: a crash cannot leave one without the other.
      const event = await writer.commit(runId, 'status', data, (e) =>
        store.runs.transitionWithEvent(runId, ['running', 'paused'], patch, e),
      );
      writer.untrack(runId);
      if (!event) return null;
      // The conversation has its answer before the end goes out to live subscribers.
      await conversationEnded(runId);
      await schedules.runEnded(await getRecord(runId));
      writer.publish([event]);
      return getRecord(runId);
    });
    if (!record) return;
    const run = toRun(record);
    metrics.runsFinished.inc({ status: run.status });
    if (run.durationMs !== null)
      metrics.runDuration.observe({ status: run.status }, run.durationMs / 1000);
    baseLog.info(
      {
        runId,
        status: run.status,
        exitCode: run.exitCode,
        durationMs: run.durationMs,
        error: run.error?.code,
      },
      'run finished',
    );
    scheduleCallback(run);
  }

  /**
   * A run of a conversation has just been stored as ended: the conversation gets its answer
   * (and session, or summary) before the terminal event goes out, so a client that saw the
   * run end reads a conversation that includes it.
   */
  async function conversationEnded(runId: string): Promise<void> {
    const record = await store.runs.get(runId);
    if (!record?.conversationId) return;
    await conversations
      .afterEnd(record)
      .catch((err: unknown) => baseLog.error({ err, runId }, 'could not update the conversation'));
  }

  const callbacks = createCallbackScheduler({
    options: {
      secret: config.webhookSecret,
      maxAttempts: config.callbackMaxAttempts,
      backoffMs: config.callbackBackoffMs,
      timeoutMs: config.callbackTimeoutMs,
      userAgent: `patchbay/${options.version}`,
      allowPrivate: config.allowPrivateCallbackUrls,
    },
    store,
    log: baseLog,
    metrics,
    tracing,
  });
  const scheduleCallback = (run: Run): void => callbacks.schedule(run);

  const schedules = createSchedules({ store, log: baseLog, queue, createRun, validateRun });

  async function cancelQueued(runId: string): Promise<void> {
    await dispatcher.remove(await getRecord(runId));
    await endWithoutProcess(runId, ['queued'], 'cancelled', {
      code: 'RUN_CANCELLED',
      message: 'The run was cancelled before it started.',
    });
  }

  function notActive(record: RunRecord, action: string): PatchbayError {
    return new PatchbayError(
      'RUN_NOT_ACTIVE',
      `cannot ${action} run ${record.id}: it is ${record.status}`,
      { id: record.id, status: record.status },
    );
  }

  /** Pause (SIGSTOP) or resume (SIGCONT) a run this process holds, with its status event. */
  function freezeOrThaw(id: string, action: 'pause' | 'resume'): Promise<Run> {
    const [from, to] =
      action === 'pause' ? (['running', 'paused'] as const) : (['paused', 'running'] as const);
    return withRunLock(id, async () => {
      const record = await getRecord(id);
      const entry = active.get(id);
      const proc = entry?.proc;
      if (!entry || record.status !== from) throw notActive(record, action);
      // Claimed but not yet spawned: the pause (or its undoing) takes effect at the spawn.
      if (!proc) entry.pausePending = action === 'pause';
      else if (!(action === 'pause' ? proc.pause() : proc.resume())) {
        throw notActive(record, action);
      }
      await store.runs.transition(id, [from], { status: to });
      writer.append(
        id,
        'status',
        to === 'running' ? { status: to, pid: proc?.pid ?? null } : { status: to },
      );
      baseLog.info({ runId: id }, action === 'pause' ? 'run paused' : 'run resumed');
      return toRun(await getRecord(id));
    });
  }

  async function waitForRun(id: string, signal?: AbortSignal): Promise<Run> {
    let resolveEnd!: () => void;
    const ended = new Promise<void>((r) => (resolveEnd = r));
    const unsubscribe = bus.subscribe(id, (events) => {
      if (events.some(isTerminalEvent)) resolveEnd();
    });
    const onAbort = (): void => resolveEnd();
    signal?.addEventListener('abort', onAbort);
    try {
      const record = await getRecord(id);
      if (!isTerminalStatus(record.status)) await ended;
      return toRun(await getRecord(id));
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Tells live owners from dead ones, from one look at the registry: a registered process is
   * alive while its heartbeat is younger than the lease and it has not stopped; an unregistered
   * one (the embedded CLI) by its pid on this host, and taken for alive on another host.
   */
  async function ownerLiveness(): Promise<(o: RunOwner | null) => boolean> {
    const cutoff = Date.now() - leaseMs;
    const since = new Date(Date.now() - WORKER_LIST_WINDOW_MS).toISOString();
    const known = new Map((await store.workers.list(since)).map((w) => [w.id, w]));
    return (o) => {
      if (!o) return false;
      if (o.instanceId === instanceId) return true;
      const w = known.get(o.instanceId);
      if (w) {
        if (w.state === 'stopped' || Date.parse(w.heartbeatAt) < cutoff) return false;
        if (w.hostname !== owner.hostname) return true;
      } else if (o.hostname !== owner.hostname) {
        return true;
      }
      if (o.bootId && owner.bootId && o.bootId !== owner.bootId) return false;
      return isProcessAlive(o.pid);
    };
  }

  /**
   * Runs held by a process that died (kill -9, machine lost, lease expired): their process
   * group is killed when it is on this machine, then each starts again when its `retries`
   * allow, or ends `interrupted`. Compare-and-set makes one process do it, however many look.
   */
  async function reapLostRuns(known?: (o: RunOwner | null) => boolean): Promise<void> {
    const alive = known ?? (await ownerLiveness());
    const stale = await store.runs.listByStatus(['running', 'paused']);
    for (const record of stale) {
      if (active.has(record.id) || alive(record.owner)) continue;
      const o = record.owner;
      const sameBoot = !o?.bootId || o.bootId === owner.bootId;
      if (record.pgid && sameBoot && o?.hostname === owner.hostname) {
        if (signalGroup(record.pgid, 'SIGKILL')) {
          baseLog.warn({ runId: record.id, pgid: record.pgid }, 'killed process group of dead run');
        }
      }
      const who = o ? `${o.hostname} pid ${o.pid}` : 'an unknown process';
      if (record.attempt <= record.retries) {
        await requeueRun(record.id, `its worker (${who}) was lost`);
        continue;
      }
      const ended = await endWithoutProcess(record.id, ['running', 'paused'], 'interrupted', {
        code: 'RUN_INTERRUPTED',
        message: `The process running this run (${who}) stopped before it finished.`,
      });
      if (ended) baseLog.warn({ runId: record.id, owner: o }, 'run of a lost process interrupted');
    }
  }

  /**
   * Queues a run that was running again, as its next attempt: compare-and-set back to
   * `queued`, a `queued` status event saying why, and a job of its own.
   */
  async function requeueRun(runId: string, why: string): Promise<boolean> {
    const record = await getRecord(runId);
    const attempt = record.attempt + 1;
    const event = await withRunLock(runId, async () => {
      await ensureTracked(runId);
      const data = {
        status: 'queued',
        attempt,
        reason: { code: 'RUN_REQUEUED', message: `Queued again (attempt ${attempt}): ${why}.` },
      };
      const stored = await writer.commit(runId, 'status', data, (e) =>
        store.runs.transitionWithEvent(
          runId,
          ['running', 'paused'],
          { status: 'queued', owner: null, pid: null, pgid: null, startedAt: null, attempt },
          e,
        ),
      );
      writer.untrack(runId);
      return stored;
    });
    if (!event) return false;
    writer.publish([event]);
    await dispatcher.enqueue({ ...record, attempt });
    metrics.runsRequeued.inc();
    baseLog.warn({ runId, attempt, why }, 'run queued again');
    return true;
  }

  async function recover(): Promise<void> {
    const alive = await ownerLiveness();
    // First, so runs this recovery interrupts (and schedules callbacks for) are not counted.
    await callbacks.resume(alive);
    await reapLostRuns(alive);
    if (options.adoptQueuedRuns === false) return;
    await recoverQueuedRuns(0);
  }

  /**
   * Queued runs whose job ended without starting them get a new one (Dispatcher.ensureQueued):
   * the process that claimed the job died between the claim and the run's start (its workspace
   * being made, or a follow-up waiting for its workspace), so the run would stay `queued` for
   * ever, counted against every concurrency budget. At start every queued run is looked at;
   * once a lease, so a surviving process recovers them too, the `limit` oldest created more
   * than `minAgeMs` ago (a run just created by the one-shot embedded CLI is in that CLI's own
   * queue). Oldest first: a claimed run was at the head of its queue. Each look is a job
   * lookup (two Redis round trips with BullMQ), hence the limit and the pace.
   * A run that lost MAX_RECOVERY_JOBS claims ends `interrupted` instead.
   */
  async function recoverQueuedRuns(minAgeMs: number, limit = Infinity): Promise<void> {
    lastQueuedSweep = Date.now();
    const bornBefore = new Date(Date.now() - minAgeMs).toISOString();
    let requeued = 0;
    const queued = await store.runs.listByStatus(['queued']);
    for (const record of queued) knownQueues.add(record.queue);
    const candidates = queued.filter((r) => r.createdAt <= bornBefore).slice(0, limit);
    for (const record of candidates) {
      const outcome = await dispatcher.ensureQueued(record, async () => {
        const now = await store.runs.get(record.id);
        return now?.status === 'queued' && now.attempt === record.attempt;
      });
      if (outcome === 'added') {
        requeued++;
        baseLog.warn({ runId: record.id }, 'queued run had no live job: queued it again');
      } else if (outcome === 'exhausted') {
        await endWithoutProcess(record.id, ['queued'], 'interrupted', {
          code: 'RUN_INTERRUPTED',
          message: `Every process that took this run stopped before starting it (${MAX_RECOVERY_JOBS} times).`,
        });
      }
    }
    if (requeued > 0) baseLog.info({ count: requeued }, 're-queued waiting runs');
  }

  /** This process in the registry: registered at start, renewed every third of the lease. */
  function registryRecord(state: WorkerState): WorkerRecord {
    const at = now();
    return {
      id: instanceId,
      role,
      hostname: owner.hostname,
      pid: owner.pid,
      version: options.version,
      queues: [...consumes],
      concurrency: consumes.length > 0 ? concurrency : 0,
      state,
      running: [...active.keys()],
      startedAt: startedAt ?? at,
      heartbeatAt: at,
      stoppedAt: null,
    };
  }

  async function heartbeat(): Promise<void> {
    const state: WorkerState = draining ? 'draining' : 'active';
    const renewed = await store.workers.heartbeat(instanceId, {
      state,
      running: [...active.keys()],
      at: now(),
    });
    // Purged while this process was frozen for a day, say: register again.
    if (!renewed) await store.workers.register(registryRecord(state));
  }

  async function tick(): Promise<void> {
    try {
      await heartbeat();
      await reapLostRuns();
      if (Date.now() - lastQueuedSweep >= leaseMs) await recoverQueuedRuns(leaseMs, SWEEP_LIMIT);
      await resumeStalledOptimizations();
      if (Math.random() < 0.01) {
        await store.workers.purge(new Date(Date.now() - WORKER_PURGE_MS).toISOString());
      }
    } catch (err) {
      baseLog.error({ err }, 'registry heartbeat failed');
    }
  }

  async function cancelLocal(id: string): Promise<Run> {
    const entry = await withRunLock(id, async () => {
      const record = await getRecord(id);
      if (isTerminalStatus(record.status)) throw notActive(record, 'cancel');
      if (record.status === 'queued') {
        await cancelQueued(id);
        return null;
      }
      const a = active.get(id);
      if (!a) throw notActive(record, 'cancel (it is held by another process)');
      a.cancelRequested = true;
      a.proc?.cancel();
      return a;
    });
    if (entry) {
      // Answer with the final state when it comes within the kill grace.
      await Promise.race([
        entry.done,
        new Promise((r) => setTimeout(r, config.killGraceMs + 2000).unref()),
      ]);
    }
    return toRun(await getRecord(id));
  }

  async function interruptLocal(id: string): Promise<Run> {
    const entry = await withRunLock(id, async () => {
      const record = await getRecord(id);
      const a = active.get(id);
      if (record.status !== 'running' || !a) throw notActive(record, 'interrupt');
      a.interruptRequested = true;
      // The agent's own control request where it has one, SIGINT to the group otherwise;
      // claimed but not yet spawned, SIGINT at the spawn.
      if (a.proc && !a.softInterrupt?.()) a.proc.interrupt();
      baseLog.info({ runId: id }, 'run interrupted');
      return a;
    });
    const ended = await Promise.race([
      entry.done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), config.killGraceMs).unref()),
    ]);
    if (!ended) entry.proc?.cancel();
    return toRun(await getRecord(id));
  }

  /**
   * A control verb for a run held by another server goes to that server (when servers share a
   * store and a control channel); otherwise it is handled here.
   */
  async function controlled(
    action: ControlAction,
    id: string,
    local: (id: string) => Promise<Run>,
  ): Promise<Run> {
    const control = options.control;
    if (control && !active.has(id)) {
      const record = await getRecord(id);
      if (record.status === 'running' || record.status === 'paused') {
        const timeout =
          action === 'cancel' || action === 'interrupt' ? config.killGraceMs + 5000 : 5000;
        const reply = await control.request(action, id, timeout);
        if (!reply) throw notActive(record, `${action} (no server holds it)`);
        if (!reply.ok) {
          throw new PatchbayError(
            (reply.code ?? 'RUN_NOT_ACTIVE') as 'RUN_NOT_ACTIVE',
            reply.message ?? `cannot ${action} run ${id}`,
            { id },
          );
        }
        return toRun(await getRecord(id));
      }
    }
    return local(id);
  }
  // Requests from other servers for runs this one holds.
  options.control?.serve(async (action, runId) => {
    if (!active.has(runId)) return null;
    const local = {
      cancel: cancelLocal,
      interrupt: interruptLocal,
      pause: (id: string) => freezeOrThaw(id, 'pause'),
      resume: (id: string) => freezeOrThaw(id, 'resume'),
    }[action];
    try {
      await local(runId);
      return { ok: true };
    } catch (err) {
      return isPatchbayError(err)
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, message: (err as Error).message };
    }
  });

  async function listWorkers(): Promise<WorkerInfo[]> {
    const since = new Date(Date.now() - WORKER_LIST_WINDOW_MS).toISOString();
    const cutoff = Date.now() - leaseMs;
    return (await store.workers.list(since)).map((w) => ({
      ...w,
      state: w.state !== 'stopped' && Date.parse(w.heartbeatAt) < cutoff ? 'lost' : w.state,
    }));
  }

  /** Once: a drain's hard stop (second signal) and its own final stop share one. */
  let stopped: Promise<void> | undefined;
  function stopEngine(): Promise<void> {
    stopped ??= stopOnce();
    return stopped;
  }

  async function stopOnce(): Promise<void> {
    // First: no tick is claimed that could then only be skipped as SERVER_SHUTTING_DOWN.
    await schedules.stop();
    stopping = true;
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
    await callbacks.close();
    await writer.close();
    if (registered && started) {
      await store.workers
        .markStopped(instanceId, now())
        .catch((err: unknown) => baseLog.error({ err }, 'could not leave the registry'));
    }
    if (ownQueue) await queue.close();
  }

  return {
    instanceId,
    schedules,
    createRun,
    async getRun(id) {
      return toRun(await getRecord(id));
    },
    optimize: startOptimization,
    async listRuns(query) {
      const statuses = query.status;
      const records = await store.runs.list({
        statuses,
        limit: query.limit + 1,
        before: query.cursor,
        scheduleId: query.scheduleId,
        kind: query.kind,
        parentId: query.parentId,
        repoId: query.repoId,
      });
      const page = records.slice(0, query.limit);
      return {
        runs: page.map(toRun),
        nextCursor: records.length > query.limit ? page[page.length - 1]!.id : null,
      };
    },
    async listEvents(id, after, limit) {
      const record = await getRecord(id);
      // A page stops at `limit` events or ~4 MiB of text, whichever comes first: 5 000
      // output events of 64 KiB would otherwise make a 300 MB response.
      const events: RunEvent[] = [];
      let bytes = 0;
      let cursor = after;
      let cut = false;
      while (events.length < limit) {
        const page = await store.events.list(id, cursor, Math.min(100, limit - events.length));
        for (const e of page) {
          const size = typeof e.data.text === 'string' ? e.data.text.length : 0;
          if (events.length > 0 && bytes + size > LIST_EVENTS_MAX_BYTES) {
            cut = true;
            break;
          }
          events.push(e);
          bytes += size;
        }
        if (cut || page.length === 0) break;
        cursor = page[page.length - 1]!.seq;
      }
      const lastSeq = events.length > 0 ? events[events.length - 1]!.seq : after;
      const done =
        isTerminalStatus(record.status) &&
        (events.some(isTerminalEvent) ||
          (!cut && events.length < limit && lastSeq >= record.lastSeq));
      return { events, lastSeq, done };
    },
    async openCursor(id, after, cursorOptions) {
      const record = await getRecord(id);
      // A client resuming at (or past) the terminal event, like an EventSource reconnecting
      // after the server closed the stream, must get an ended stream, not a silent wait.
      let ended = false;
      if (after > 0 && isTerminalStatus(record.status)) {
        const [atResume] = await store.events.list(id, after - 1, 1);
        ended = after >= record.lastSeq || (atResume !== undefined && isTerminalEvent(atResume));
      }
      return new EventCursor(
        { bus, read: (runId, a, limit) => store.events.list(runId, a, limit) },
        id,
        after,
        { ...cursorOptions, ended },
      );
    },
    subscribe: (runId, listener) => bus.subscribe(runId, listener),
    async getDiff(id) {
      const record = await getRecord(id);
      if (!record.changedFiles)
        throw new PatchbayError('RUN_DIFF_NOT_AVAILABLE', undefined, { id });
      return readFile(workspaces.diffPath(id), 'utf8');
    },
    async getChangedFiles(id) {
      const record = await getRecord(id);
      if (!record.changedFiles)
        throw new PatchbayError('RUN_DIFF_NOT_AVAILABLE', undefined, { id });
      return record.changedFiles;
    },
    async listDeliveries(id) {
      await getRecord(id);
      return store.callbacks.listForRun(id);
    },
    cancelRun: (id) => controlled('cancel', id, cancelLocal),
    interruptRun: (id) => controlled('interrupt', id, interruptLocal),
    pauseRun: (id) => controlled('pause', id, (runId) => freezeOrThaw(runId, 'pause')),
    resumeRun: (id) => controlled('resume', id, (runId) => freezeOrThaw(runId, 'resume')),
    waitForRun,
    queueStats: () => dispatcher.stats(),
    queueCounts: () => dispatcher.queueCounts(),
    listWorkers,
    async refreshMetrics() {
      const counts = await store.runs.countByStatus();
      const queued = await dispatcher.stats();
      metrics.queueRunning.set(queued.running);
      metrics.queueWaiting.set(queued.waiting);
      metrics.runsByStatus.reset();
      for (const [status, n] of Object.entries(counts)) metrics.runsByStatus.set({ status }, n);
      metrics.queueJobs.reset();
      for (const [name, c] of Object.entries(await dispatcher.queueCounts())) {
        for (const [state, n] of Object.entries(c))
          metrics.queueJobs.set({ queue: name, state }, n);
      }
      metrics.workers.reset();
      metrics.workerRuns.reset();
      const byRoleState = new Map<string, number>();
      for (const w of await listWorkers()) {
        const key = `${w.role}\0${w.state}`;
        byRoleState.set(key, (byRoleState.get(key) ?? 0) + 1);
        if (w.state === 'active' || w.state === 'draining') {
          metrics.workerRuns.set({ worker: w.id, hostname: w.hostname }, w.running.length);
        }
      }
      for (const [key, n] of byRoleState) {
        const [r, st] = key.split('\0') as [string, string];
        metrics.workers.set({ role: r, state: st }, n);
      }
    },
    sweepWorkspaces,
    async createConversation(request) {
      // Every run of the conversation needs its agent: refuse now, not at the first message.
      await getAgent(request.agent).assertInstalled?.(agentContext({}));
      return conversations.create(request);
    },
    listConversations: (query) => conversations.list(query),
    getConversation: (id) => conversations.getWithMessages(id),
    async postMessage(conversationId, request) {
      await conversations.get(conversationId);
      return createRun({ ...request, conversationId });
    },
    async start() {
      if (started) return;
      started = true;
      // Fail closed: a server told to sandbox (or contain) runs must not run them without.
      const containment = await launcher.start();
      baseLog.info({ containment: containment.kind }, containment.detail);
      startedAt = now();
      if (registered) {
        await store.workers.register(registryRecord('active'));
        heartbeatTimer = setInterval(() => void tick(), Math.max(250, Math.floor(leaseMs / 3)));
        heartbeatTimer.unref();
      }
      await recover();
      dispatcher.start();
      // The embedded CLI's engine runs one run; schedules are the server's.
      if (options.adoptQueuedRuns !== false) await schedules.start();
      void sweepWorkspaces();
      sweepTimer = setInterval(() => void sweepWorkspaces(), 3_600_000);
      sweepTimer.unref();
    },
    stop: stopEngine,
    async drain(graceMs) {
      if (stopped || draining) return stopEngine();
      draining = true;
      await heartbeat().catch(() => undefined);
      // No new runs from here on; the ones running go on for the grace.
      const closing = dispatcher.close();
      const running = [...active.values()];
      baseLog.info({ running: running.length, graceMs }, 'draining: no new runs');
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
        baseLog.warn({ runs: [...active.keys()] }, 'drain grace over: queueing the rest again');
      }
      await closing;
      await stopEngine();
    },
  };
}
