import { isTerminalStatus, type RunStatus, type TerminalStatus } from '../../contracts/index.js';
import { toRun, type RunPatch, type RunRecord } from '../../store/index.js';
import type { Conversations } from '../conversations.js';
import type { Dispatcher } from '../dispatcher.js';
import type { ReactionRunner } from '../reactions/runner.js';
import type { Schedules } from '../schedules.js';
import { ensureTracked, getRecord, now, type EngineResources } from './resources.js';

export interface FinishOutcome {
  status: RunStatus;
  errorCode: string | null;
  errorMessage: string | null;
  /** AGENT_RATE_LIMITED: when the provider said to try again. */
  retryAfterMs?: number | undefined;
}

export interface ExitSummary {
  exitCode: number | null;
  signal: string | null;
  outputBytes: number;
  droppedBytes: number;
}

/**
 * Finishing: every way a run leaves `running`, `paused` or `queued`. The terminal transition,
 * its status event and the outbox rows of its reactions are one transaction; then its
 * conversation and schedule learn of it, live subscribers get the event, and `runFinished`
 * is announced. A run queued again (lost worker, drain) goes back through here too.
 */
export function createFinishingSystem(
  res: EngineResources,
  deps: {
    conversations: Conversations;
    schedules: () => Schedules;
    dispatcher: Dispatcher;
    reactions: ReactionRunner;
  },
) {
  const { store, writer, tracing, metrics, log } = res;
  const { conversations, dispatcher, reactions } = deps;

  /**
   * The terminal transition of `runId` from one of `from`, with its event and its reactions
   * in one transaction; false when the run was no longer in `from` (another process ended it).
   */
  async function commitEnd(
    runId: string,
    from: RunStatus[],
    patch: RunPatch & { status: TerminalStatus },
    data: Record<string, unknown>,
  ): Promise<RunRecord | null> {
    await ensureTracked(res, runId);
    const before = await getRecord(res, runId);
    const outbox = reactions.plan(before, patch.status);
    const event = await writer.commit(runId, 'status', data, (e) =>
      store.runs.transitionWithEvent(runId, from, patch, e, outbox),
    );
    writer.untrack(runId);
    if (!event) return null;
    // The conversation has its answer before the end goes out to live subscribers.
    await conversationEnded(runId);
    const record = await getRecord(res, runId);
    await deps.schedules().runEnded(record);
    writer.publish([event]);
    await reactions.dispatch(outbox);
    return record;
  }

  function announce(record: RunRecord): void {
    const run = toRun(record);
    if (isTerminalStatus(run.status)) res.events.emit('runFinished', { run, status: run.status });
  }

  /**
   * Ends a run that has no process of ours (still queued, or left running by a dead server).
   * `owner` is recorded so this process, not a recovery elsewhere, is the one that ended it.
   */
  async function endWithoutProcess(
    runId: string,
    from: RunStatus[],
    status: TerminalStatus,
    error: { code: string; message: string },
  ): Promise<boolean> {
    const record = await commitEnd(
      runId,
      from,
      {
        status,
        owner: res.owner,
        finishedAt: now(),
        errorCode: error.code,
        errorMessage: error.message,
      },
      { status, error },
    );
    if (!record) return false;
    metrics.runsFinished.inc({ status });
    announce(record);
    return true;
  }

  /** Ends a run whose process this process ran, with what the process and its agent said. */
  async function finalize(
    runId: string,
    outcome: FinishOutcome,
    exit?: ExitSummary,
    reported?: RunPatch,
  ): Promise<void> {
    const attributes = { 'patchbay.run.id': runId, 'patchbay.run.status': outcome.status };
    await tracing.inSpan('run.finish', { attributes }, () =>
      finishRun(runId, outcome, exit, reported),
    );
  }

  async function finishRun(
    runId: string,
    outcome: FinishOutcome,
    exit: ExitSummary | undefined,
    reported: RunPatch | undefined,
  ): Promise<void> {
    const record = await res.withRunLock(runId, () =>
      commitEnd(
        runId,
        ['running', 'paused'],
        {
          finishedAt: now(),
          exitCode: exit?.exitCode ?? null,
          signal: exit?.signal ?? null,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          errorRetryAfterMs: outcome.retryAfterMs ?? null,
          outputBytes: exit?.outputBytes ?? 0,
          droppedBytes: exit?.droppedBytes ?? 0,
          ...reported,
          status: outcome.status as TerminalStatus,
        },
        {
          status: outcome.status,
          exitCode: exit?.exitCode ?? null,
          signal: exit?.signal ?? null,
          error: outcome.errorCode
            ? {
                code: outcome.errorCode,
                message: outcome.errorMessage,
                ...(outcome.retryAfterMs !== undefined && { retryAfterMs: outcome.retryAfterMs }),
              }
            : null,
        },
      ),
    );
    if (!record) return;
    const run = toRun(record);
    metrics.runsFinished.inc({ status: run.status });
    if (run.durationMs !== null)
      metrics.runDuration.observe({ status: run.status }, run.durationMs / 1000);
    log.info(
      {
        runId,
        status: run.status,
        exitCode: run.exitCode,
        durationMs: run.durationMs,
        error: run.error?.code,
      },
      'run finished',
    );
    announce(record);
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
      .catch((err: unknown) => log.error({ err, runId }, 'could not update the conversation'));
  }

  /**
   * Queues a run that was running again, as its next attempt: compare-and-set back to
   * `queued`, a `queued` status event saying why, and a job of its own.
   */
  async function requeueRun(runId: string, why: string): Promise<boolean> {
    const record = await getRecord(res, runId);
    const attempt = record.attempt + 1;
    const event = await res.withRunLock(runId, async () => {
      await ensureTracked(res, runId);
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
    log.warn({ runId, attempt, why }, 'run queued again');
    res.events.emit('runRequeued', { run: toRun(await getRecord(res, runId)), reason: why });
    return true;
  }

  return { endWithoutProcess, finalize, requeueRun };
}

export type FinishingSystem = ReturnType<typeof createFinishingSystem>;
