import { ensureJob, type Job } from '../../queue/index.js';
import type { TerminalStatus } from '../../contracts/index.js';
import {
  newReaction,
  type ReactionOutcome,
  type ReactionRecord,
  type RunRecord,
} from '../../store/index.js';
import { now, type EngineResources } from '../systems/resources.js';
import { ReactionGaveUp, type Reaction } from './types.js';

/** The job queue reactions wait in, shared by every process on the store. */
export const REACTION_QUEUE = 'reactions';
/** Reactions one process tries at once. */
const CONCURRENCY = 8;
/** How far back recovery looks for reactions left open by a dead process. */
const RECOVERY_WINDOW_MS = 24 * 3_600_000;
/** Open reactions one sweep looks at (each is a job lookup). */
const SWEEP_LIMIT = 200;
/** Recovery jobs per try before a reaction is given up. */
const MAX_RECOVERY_JOBS = 20;

interface ReactionJob {
  reactionId: string;
}

/** The job of try `n` of a reaction: the same name in every process (adding it is idempotent). */
const tryJobId = (reactionId: string, n: number): string => `${reactionId}-t${n}`;

/**
 * Runs reactions through the job queue. `plan` gives the outbox rows for a run's end (written
 * by the finishing system in the end's transaction); `dispatch` queues their first try right
 * after the commit; `sweep` (at start and every heartbeat) queues again what a dead process
 * left: a row with no live job, or one claimed under a lease that ran out. A try claims its row
 * (compare-and-set with a lease), so one process does it at a time, however many jobs exist.
 */
export function createReactionRunner(res: EngineResources, reactions: readonly Reaction[]) {
  const { store, queue, log, config } = res;
  const byName = new Map(reactions.map((r) => [r.name, r]));
  const leaseMs = config.runLeaseMs;
  const abort = new AbortController();
  let worker: { close(graceMs?: number): Promise<void> } | undefined;

  function plan(record: RunRecord, status: TerminalStatus): ReactionRecord[] {
    return reactions
      .filter((r) => r.appliesTo(record, status))
      .map((r) => newReaction(record.id, r.name));
  }

  async function queueTry(reactionId: string, n: number, delayMs = 0): Promise<void> {
    await queue.add<ReactionJob>(
      REACTION_QUEUE,
      'reaction',
      { reactionId },
      { jobId: tryJobId(reactionId, n), ...(delayMs > 0 ? { delayMs } : {}) },
    );
  }

  /** Queues the first try of reactions just committed (a failure is left to the sweep). */
  async function dispatch(records: readonly ReactionRecord[]): Promise<void> {
    for (const r of records) {
      await queueTry(r.id, 1).catch((err: unknown) =>
        log.warn(
          { err, reaction: r.name, runId: r.runId },
          'could not queue a reaction: recovery will',
        ),
      );
    }
  }

  async function handle(job: Job<ReactionJob>): Promise<void> {
    const startedAt = now();
    const until = () => new Date(Date.now() + leaseMs).toISOString();
    const claimed = await store.reactions.claim(
      job.data.reactionId,
      res.instanceId,
      startedAt,
      until(),
    );
    // Settled, not yet due, or held by a live process: nothing to do for this job.
    if (!claimed) return;
    const rlog = log.child({
      runId: claimed.runId,
      reaction: claimed.name,
      attempt: claimed.attempts,
    });
    const reaction = byName.get(claimed.name);
    const record = await store.runs.get(claimed.runId);
    let outcome: ReactionOutcome = 'succeeded';
    let error: string | null = null;
    const renew = setInterval(
      () => void store.reactions.renew(claimed.id, res.instanceId, until()).catch(() => undefined),
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    renew.unref();
    try {
      if (!reaction) throw new ReactionGaveUp(`no reaction named ${claimed.name} in this version`);
      if (!record) throw new ReactionGaveUp(`run ${claimed.runId} no longer exists`);
      await reaction.perform({
        record,
        attempt: claimed.attempts,
        signal: abort.signal,
        log: rlog,
      });
    } catch (err) {
      error = (err as Error).message;
      const last =
        err instanceof ReactionGaveUp || claimed.attempts >= (reaction?.maxAttempts ?? 1);
      outcome = last ? 'failed' : 'retrying';
    } finally {
      clearInterval(renew);
    }
    if (abort.signal.aborted && outcome !== 'succeeded') {
      // Stopping: the try did not really end; the lease runs out and another process retries.
      rlog.info('reaction stopped with the process: it will be tried again');
      return;
    }
    const delayMs =
      outcome === 'retrying' && reaction ? reaction.backoffMs * 2 ** (claimed.attempts - 1) : 0;
    const settled = await store.reactions.settle(claimed.id, res.instanceId, {
      attempt: claimed.attempts,
      outcome,
      error,
      startedAt,
      ...(delayMs > 0 ? { retryAt: new Date(Date.now() + delayMs).toISOString() } : {}),
    });
    if (!settled) {
      rlog.warn('lost the reaction’s lease before it settled: another process took it over');
      return;
    }
    res.metrics.reactions.inc({ reaction: claimed.name, outcome });
    if (outcome === 'retrying') {
      rlog.info({ error, retryInMs: delayMs }, 'reaction failed; retrying');
      await queueTry(claimed.id, claimed.attempts + 1, delayMs);
    } else if (outcome === 'failed') {
      rlog.warn({ error }, 'reaction failed; giving up');
    }
    res.events.emit('reactionSettled', {
      runId: claimed.runId,
      reaction: claimed.name,
      attempt: claimed.attempts,
      outcome,
    });
  }

  /**
   * Queues again the open reactions whose job is gone: the process that committed them died
   * before queueing, or the one trying them died (its lease ran out). Oldest first, at most
   * SWEEP_LIMIT per look.
   */
  async function sweep(): Promise<void> {
    const since = new Date(Date.now() - RECOVERY_WINDOW_MS).toISOString();
    const cutoff = now();
    for (const r of await store.reactions.listOpen(since, SWEEP_LIMIT)) {
      // A try under a live lease, or a retry not yet due, has its job.
      if (r.leaseUntil && r.leaseUntil > cutoff) continue;
      const next = r.status === 'running' ? r.attempts + 1 : r.attempts + 1;
      const outcome = await ensureJob<ReactionJob>(
        queue,
        {
          queue: REACTION_QUEUE,
          name: 'reaction',
          baseId: tryJobId(r.id, next),
          data: { reactionId: r.id },
          maxRecoveries: MAX_RECOVERY_JOBS,
        },
        async () => {
          const current = await store.reactions.get(r.id);
          return current?.status === r.status && current.attempts === r.attempts;
        },
      );
      if (outcome === 'added')
        log.warn({ runId: r.runId, reaction: r.name }, 'reaction had no live job: queued it again');
    }
  }

  return {
    plan,
    dispatch,
    sweep,
    /** Starts taking reactions from the queue (not for the one-shot embedded CLI). */
    start(): void {
      worker ??= queue.process<ReactionJob>(REACTION_QUEUE, (job) => handle(job), {
        concurrency: CONCURRENCY,
      });
    },
    /** Stops taking reactions; tries in flight get `graceMs`, then are aborted. */
    async close(graceMs = 5000): Promise<void> {
      const closing = worker?.close(graceMs);
      const timer = setTimeout(() => abort.abort(), graceMs);
      timer.unref();
      await closing;
      clearTimeout(timer);
      abort.abort();
    },
  };
}

export type ReactionRunner = ReturnType<typeof createReactionRunner>;
