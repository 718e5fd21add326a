import {
  PatchbayError,
  type OptimizeRequest,
  type OptimizeStage,
  type Run,
} from '../../contracts/index.js';
import { configuredProviders } from '../../llm/index.js';
import type { Logger } from '../../observability/index.js';
import { DEFAULT_RUN_QUEUE, newRunRecord, toRun, type RunRecord } from '../../store/index.js';
import {
  assertOptimizerAllowed,
  LLM_FLAG,
  nextStage,
  stageCommand,
  stageKind,
  stageOf,
} from '../optimizations.js';
import type { CreationSystem } from './creation.js';
import type { FinishingSystem } from './finishing.js';
import { getRecord, type EngineResources } from './resources.js';

/** Stalled stages older than this are left alone (their optimization is abandoned). */
const STALLED_WINDOW_MS = 24 * 3_600_000;

/**
 * Optimization stages: an optimization is a chain of stage runs (detect, baseline, scan,
 * patch, validate, propose) in one directory; each stage that succeeds queues the next, and a
 * heartbeat queues the next stage of one whose process died between its end and the queueing.
 */
export function createOptimizationSystem(
  res: EngineResources,
  deps: { creation: CreationSystem; finishing: FinishingSystem },
) {
  const { config, store, log: baseLog } = res;
  const { creation, finishing } = deps;

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
    if (res.lifecycle.stopping) throw new PatchbayError('SERVER_SHUTTING_DOWN');
    assertOptimizerAllowed(config.allowedCommands);
    // Refused now, not three stages later: the model half needs a configured provider.
    if (request.llm && configuredProviders(config).length === 0) {
      throw new PatchbayError(
        'LLM_NOT_CONFIGURED',
        'llm: true needs a model provider: set PATCHBAY_LLM_PROVIDER and its key (docs/llm.md)',
      );
    }
    const { repo, ref, sha } = await creation.assertRef(repoId, request.ref);
    // Every stage gets the whole budget of minutes plus its own budget and a margin: the stage
    // stops itself at its budget with OPTIMIZE_STAGE_TIMEOUT (stage-budget.ts) before the run
    // timeout would kill it without a word. Validate stops taking candidates at maxMinutes.
    const timeoutMs = Math.max(
      config.runTimeoutMs,
      request.maxMinutes * 60_000 + config.optimizeStageTimeoutMs + 15 * 60_000,
    );
    const record = stageRecord(
      'detect',
      { repoId, queue: request.queue ?? DEFAULT_RUN_QUEUE, ref, workspaceOf: null },
      stageCommand('detect', { source: repo.path, ref: sha, request }),
      timeoutMs,
    );
    record.parentId = record.id;
    return creation.enqueueNew(record);
  }

  /** After a stage succeeded: the next stage, in the same directory (none after propose). */
  async function continueOptimization(runId: string, log: Logger): Promise<void> {
    const done = await getRecord(res, runId);
    const stage = stageOf(done);
    if (stage === 'propose' && done.status === 'succeeded') {
      res.events.emit('proposalCreated', {
        optimizationId: done.parentId ?? done.id,
        run: toRun(done),
      });
    }
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
      stageCommand(next, undefined, done.command?.includes(LLM_FLAG) === true),
      done.timeoutMs,
    );
    record.parentId = done.parentId ?? done.id;
    record.retries = done.retries;
    await creation.enqueueNew(record).catch(async (err: unknown) => {
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
    await finishing.endWithoutProcess(record.id, ['queued'], 'failed', {
      code: err.code,
      message,
    });
    log.warn({ stage: record.kind, reason: err.message }, 'optimization ended by its budget');
  }

  /**
   * Stages that succeeded more than a lease ago without their next stage queued: the process
   * that ran them died between the end and the queueing. The unique (parent_id, kind) index
   * makes sure only one process queues it.
   */
  async function resumeStalledOptimizations(): Promise<void> {
    const stalled = await store.runs.listStalledStages(
      new Date(Date.now() - STALLED_WINDOW_MS).toISOString(),
      new Date(Date.now() - config.runLeaseMs).toISOString(),
    );
    for (const run of stalled) {
      baseLog.warn({ runId: run.id, kind: run.kind }, 'queueing the stage after a stalled one');
      await continueOptimization(run.id, baseLog.child({ runId: run.id }));
    }
  }

  // Each stage that ends here queues the next (a stage that failed or was cancelled queues
  // nothing; continueOptimization reads the stored status).
  res.events.on('runFinished', ({ run }) =>
    run.kind !== 'agent'
      ? continueOptimization(run.id, baseLog.child({ runId: run.id }))
      : undefined,
  );

  return { startOptimization, resumeStalledOptimizations };
}
