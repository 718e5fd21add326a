import { PatchbayError, type SyncReport } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { ensureJob, type Job, type JobQueue, type QueueWorker } from '../queue/index.js';
import type { Store } from '../store/index.js';
import type { Connections } from './connections.js';
import { isConnectorKind } from './connections.js';
import type { ConnectorKind } from './connectors/types.js';

/** The queue connector syncs wait in, shared by every process on the store (or Redis). */
export const INBOX_SYNC_QUEUE = 'inbox-sync';
const SYNC_JOB = 'syncConnector';
/** Recovery jobs for one due sync before the sweep stops adding them (see ensureJob). */
const MAX_RECOVERIES = 20;

interface SyncJob {
  kind: ConnectorKind;
}

/**
 * The job that syncs `kind` at `dueMs` (its row's next sync time): the same id in every
 * process, so scheduling it twice adds one job.
 */
export const syncJobId = (kind: string, dueMs: number): string => `inbox-sync-${kind}-${dueMs}`;

export interface SyncJobsOptions {
  queue: JobQueue;
  connections: Pick<Connections, 'sync'>;
  store: Pick<Store, 'connectors'>;
  log: Logger;
  /** This process, as the owner of sync leases. */
  instanceId: string;
  /** How long a sync lease lasts without renewal (renewed every third of it while syncing). */
  leaseMs: number;
  /** How often this process makes sure every connector has its next sync queued. */
  sweepMs: number;
  now?: () => Date;
}

/**
 * Connector syncs as queue jobs (the embedded queue on the store, or BullMQ on Redis).
 *
 * Each connected connector has one job for its next sync, named by the row's `nextSyncAt`
 * and delayed until then; a sync moves `nextSyncAt` on (the interval, or the end of a rate
 * limit) and queues the next job. A connect sets `nextSyncAt` to now and queues at once.
 * A sweep (at start and every `sweepMs`) queues what is missing: a process died between a
 * sync and its next job, or a job ended without syncing.
 *
 * One sync of a connector at a time, across processes: a sync first takes the row's lease
 * (compare-and-set, renewed while it runs); a job that finds it held does nothing (the holder
 * queues the next one). A rate-limited connector's `blockedUntil` and `nextSyncAt` are in the
 * store, so after a restart nothing is sent before that time either.
 */
export function createSyncJobs(options: SyncJobsOptions) {
  const { queue, store, instanceId, leaseMs } = options;
  const log = options.log.child({ component: 'inbox-sync' });
  const now = options.now ?? (() => new Date());
  let worker: QueueWorker | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let syncs = 0;

  /** When the connector's next sync is due (ms), or null when it has nothing to sync. */
  async function dueOf(kind: ConnectorKind): Promise<number | null> {
    const row = await store.connectors.get(kind);
    if (!row?.hasCredentials) return null;
    const next = row.nextSyncAt ? Date.parse(row.nextSyncAt) : now().getTime();
    const blocked = row.blockedUntil ? Date.parse(row.blockedUntil) : 0;
    return Math.max(next, blocked);
  }

  /** Makes sure the connector's next sync has a live job. */
  async function schedule(kind: ConnectorKind): Promise<void> {
    const due = await dueOf(kind);
    if (due === null) return;
    const delayMs = Math.max(0, due - now().getTime());
    const outcome = await ensureJob<SyncJob>(
      queue,
      {
        queue: INBOX_SYNC_QUEUE,
        name: SYNC_JOB,
        baseId: syncJobId(kind, due),
        data: { kind },
        maxRecoveries: MAX_RECOVERIES,
        delayMs,
      },
      async () => (await dueOf(kind)) === due,
    );
    if (outcome === 'exhausted') log.warn({ kind, due }, 'sync job recoveries exhausted');
  }

  /**
   * Syncs `kind` now under its lease. Resolves null when it had nothing to sync; throws
   * INBOX_SYNC_IN_PROGRESS when another process (or job) is syncing it.
   */
  async function syncNow(kind: ConnectorKind): Promise<SyncReport | null> {
    // Not connected: nothing to sync, and no row to hold a lease on.
    if (!(await store.connectors.get(kind))?.hasCredentials) return null;
    const until = (): string => new Date(Date.now() + leaseMs).toISOString();
    // One owner per sync, not per process: a job and a "sync now" of one process exclude
    // each other too.
    const owner = `${instanceId}:${++syncs}`;
    const claimed = await store.connectors.claimSync(
      kind,
      owner,
      new Date().toISOString(),
      until(),
    );
    if (!claimed) {
      throw new PatchbayError(
        'INBOX_SYNC_IN_PROGRESS',
        `${kind} is being synced by another process right now; its result shows in GET /v1/connectors`,
        { kind },
      );
    }
    let held = true;
    const renew = setInterval(
      () =>
        void store.connectors
          .renewSync(kind, owner, until())
          .then((ok) => (held &&= ok))
          .catch(() => undefined),
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    renew.unref();
    try {
      return await options.connections.sync(kind, {
        stillHeld: async () => held && (await store.connectors.renewSync(kind, owner, until())),
      });
    } finally {
      clearInterval(renew);
      await store.connectors.releaseSync(kind, owner);
      await schedule(kind).catch((err: unknown) =>
        log.warn({ err, kind }, 'could not queue the next sync: the sweep will'),
      );
    }
  }

  async function handle(job: Job<SyncJob>): Promise<void> {
    const { kind } = job.data;
    if (!isConnectorKind(kind)) return;
    const due = await dueOf(kind);
    // Disconnected, or synced meanwhile (by hand, or by a job for an earlier time).
    if (due === null || due > now().getTime()) {
      if (due !== null) await schedule(kind);
      return;
    }
    try {
      await syncNow(kind);
    } catch (err) {
      if (err instanceof PatchbayError && err.code === 'INBOX_SYNC_IN_PROGRESS') {
        log.debug({ kind }, 'sync job skipped: another process is syncing this connector');
        return;
      }
      throw err;
    }
  }

  async function sweep(): Promise<void> {
    for (const row of await store.connectors.list()) {
      if (row.hasCredentials && isConnectorKind(row.kind)) await schedule(row.kind);
    }
  }

  function sweepSoon(): void {
    sweeping ??= sweep()
      .catch((err: unknown) => log.warn({ err }, 'inbox sync sweep failed'))
      .finally(() => (sweeping = undefined));
  }

  return {
    syncNow,
    /** Queues the connector's next sync (right away after a connect). */
    schedule,
    sweep,
    /** Takes sync jobs in this process and sweeps every `sweepMs`. */
    start(): void {
      worker ??= queue.process<SyncJob>(INBOX_SYNC_QUEUE, (job) => handle(job), {
        concurrency: 2,
      });
      sweepSoon();
      timer ??= setInterval(sweepSoon, options.sweepMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
      await worker?.close(5000);
      worker = undefined;
    },
  };
}

export type SyncJobs = ReturnType<typeof createSyncJobs>;
