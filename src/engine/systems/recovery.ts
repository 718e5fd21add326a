import { isProcessAlive, signalGroup } from '../../exec/index.js';
import {
  newReaction,
  type RunOwner,
  type WorkerRecord,
  type WorkerRole,
  type WorkerState,
} from '../../store/index.js';
import { MAX_RECOVERY_JOBS, type Dispatcher } from '../dispatcher.js';
import type { ReactionRunner } from '../reactions/runner.js';
import type { FinishingSystem } from './finishing.js';
import { now, type EngineResources } from './resources.js';

/** The registry lists processes heard from within this window (and any not stopped). */
const WORKER_LIST_WINDOW_MS = 3_600_000;
/** Queued runs whose job a heartbeat checks, at most once a lease (see recoverQueuedRuns). */
const SWEEP_LIMIT = 100;
/** How far back a start looks for callbacks a server from before reactions left. */
const LEGACY_CALLBACK_WINDOW_MS = 24 * 3_600_000;
/** Registry rows of processes silent this long are deleted. */
const WORKER_PURGE_MS = 24 * 3_600_000;

/** A process in the registry as the API shows it: `lost` when its heartbeat expired. */
export type WorkerInfo = Omit<WorkerRecord, 'state'> & { state: WorkerState | 'lost' };

/**
 * Recovery and the worker registry: this process registers and heartbeats; each heartbeat
 * (and the start) finds what dead processes left — runs held by a lost owner, queued runs
 * whose job died with the process that claimed it, reactions with no live job, stalled
 * optimization stages — and takes it over, once however many processes look.
 */
export function createRecoverySystem(
  res: EngineResources,
  deps: {
    dispatcher: Dispatcher;
    finishing: FinishingSystem;
    reactions: ReactionRunner;
    resumeStalledOptimizations: () => Promise<void>;
    role: WorkerRole;
    concurrency: number;
    /** False for the one-shot embedded CLI: it neither registers nor adopts queued runs. */
    registered: boolean;
    draining: () => boolean;
  },
) {
  const { store, log, active, owner, instanceId } = res;
  const { dispatcher, finishing } = deps;
  const leaseMs = res.config.runLeaseMs;
  let lastQueuedSweep = 0;
  let startedAt: string | undefined;

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
          log.warn({ runId: record.id, pgid: record.pgid }, 'killed process group of dead run');
        }
      }
      const who = o ? `${o.hostname} pid ${o.pid}` : 'an unknown process';
      if (record.attempt <= record.retries) {
        await finishing.requeueRun(record.id, `its worker (${who}) was lost`);
        continue;
      }
      const ended = await finishing.endWithoutProcess(
        record.id,
        ['running', 'paused'],
        'interrupted',
        {
          code: 'RUN_INTERRUPTED',
          message: `The process running this run (${who}) stopped before it finished.`,
        },
      );
      if (ended) log.warn({ runId: record.id, owner: o }, 'run of a lost process interrupted');
    }
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
    for (const record of queued) res.knownQueues.add(record.queue);
    const candidates = queued.filter((r) => r.createdAt <= bornBefore).slice(0, limit);
    for (const record of candidates) {
      const outcome = await dispatcher.ensureQueued(record, async () => {
        const current = await store.runs.get(record.id);
        return current?.status === 'queued' && current.attempt === record.attempt;
      });
      if (outcome === 'added') {
        requeued++;
        log.warn({ runId: record.id }, 'queued run had no live job: queued it again');
      } else if (outcome === 'exhausted') {
        await finishing.endWithoutProcess(record.id, ['queued'], 'interrupted', {
          code: 'RUN_INTERRUPTED',
          message: `Every process that took this run stopped before starting it (${MAX_RECOVERY_JOBS} times).`,
        });
      }
    }
    if (requeued > 0) log.info({ count: requeued }, 're-queued waiting runs');
  }

  /**
   * Callbacks a server from before reactions (migration 0014) left undelivered: a finished run
   * of the last day with a callback URL, a dead owner, no callback reaction and no final
   * delivery gets its reaction now, and continues from its next delivery attempt.
   */
  async function adoptLegacyCallbacks(alive: (o: RunOwner | null) => boolean): Promise<void> {
    const since = new Date(Date.now() - LEGACY_CALLBACK_WINDOW_MS).toISOString();
    for (const record of await store.runs.listFinishedWithCallback(since)) {
      if (alive(record.owner)) continue;
      const reactions = await store.reactions.listForRun(record.id);
      if (reactions.some((r) => r.name === 'callback')) continue;
      const last = (await store.callbacks.listForRun(record.id)).at(-1);
      if (last && last.outcome !== 'retrying') continue;
      log.info({ runId: record.id }, 'adopting an undelivered callback as a reaction');
      await store.reactions.insert([newReaction(record.id, 'callback')]);
    }
  }

  /** At start: what dead processes left, before this one takes new work. */
  async function recover(): Promise<void> {
    const alive = await ownerLiveness();
    await adoptLegacyCallbacks(alive);
    await reapLostRuns(alive);
    await deps.reactions.sweep();
    if (!deps.registered) return;
    await recoverQueuedRuns(0);
  }

  /** This process in the registry: registered at start, renewed every third of the lease. */
  function registryRecord(state: WorkerState): WorkerRecord {
    const at = now();
    return {
      id: instanceId,
      role: deps.role,
      hostname: owner.hostname,
      pid: owner.pid,
      version: res.version,
      queues: [...dispatcher.consumes],
      concurrency: dispatcher.consumes.length > 0 ? deps.concurrency : 0,
      state,
      running: [...active.keys()],
      startedAt: startedAt ?? at,
      heartbeatAt: at,
      stoppedAt: null,
    };
  }

  async function heartbeat(): Promise<void> {
    const state: WorkerState = deps.draining() ? 'draining' : 'active';
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
      await deps.reactions.sweep();
      await deps.resumeStalledOptimizations();
      if (Math.random() < 0.01) {
        await store.workers.purge(new Date(Date.now() - WORKER_PURGE_MS).toISOString());
      }
    } catch (err) {
      log.error({ err }, 'registry heartbeat failed');
    }
  }

  async function listWorkers(): Promise<WorkerInfo[]> {
    const since = new Date(Date.now() - WORKER_LIST_WINDOW_MS).toISOString();
    const cutoff = Date.now() - leaseMs;
    return (await store.workers.list(since)).map((w) => ({
      ...w,
      state: w.state !== 'stopped' && Date.parse(w.heartbeatAt) < cutoff ? 'lost' : w.state,
    }));
  }

  return {
    recover,
    heartbeat,
    tick,
    listWorkers,
    /** Registers this process (at start). */
    async register(): Promise<void> {
      startedAt = now();
      await store.workers.register(registryRecord('active'));
    },
    async leave(): Promise<void> {
      await store.workers
        .markStopped(instanceId, now())
        .catch((err: unknown) => log.error({ err }, 'could not leave the registry'));
    },
  };
}

export type RecoverySystem = ReturnType<typeof createRecoverySystem>;
