import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/index.js';
import { ulid, type JobRecord, type Store } from '../store/index.js';
import {
  backoffDelay,
  DEFAULT_BACKOFF_MS,
  DEFAULT_PRIORITY,
  type JobInfo,
  type JobQueue,
  type QueueCounts,
  type QueueWorker,
} from './port.js';

export interface EmbeddedQueueOptions {
  store: Store;
  log: Logger;
  /** How long a claimed job stays held without a heartbeat (a dead worker's jobs wait this). */
  leaseMs: number;
  /** How often idle workers look for ready jobs other processes added (and for dead leases). */
  pollMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Completed jobs are kept a day (as the BullMQ driver keeps them), then deleted. */
const KEEP_COMPLETED_MS = 24 * 3_600_000;
const PURGE_EVERY_MS = 3_600_000;

/** Jobs are stored under `<queue>/<id>`: a job id is unique per queue, as with BullMQ. */
const storeKey = (queue: string, id: string): string => `${queue}/${id}`;
const publicId = (record: JobRecord): string => record.id.slice(record.queue.length + 1);

/**
 * The embedded driver: durable jobs in the store (SQLite or PostgreSQL). A worker claims a
 * job with a compare-and-set and holds it under a lease it renews every third of the lease;
 * a job whose lease runs out (its worker died) is retried, or fails for good when it has no
 * attempts left. Workers in this process wake on `add`; other processes poll.
 */
export function createEmbeddedQueue(options: EmbeddedQueueOptions): JobQueue {
  const { store, log, leaseMs, pollMs } = options;
  const added = new EventEmitter();
  added.setMaxListeners(0);
  const workers = new Set<QueueWorker>();
  let lastReap = 0;
  let lastPurge = 0;

  /**
   * Expired leases: their worker is gone. Retried after the backoff, or failed for good. Also,
   * now and then, completed jobs older than a day go (failed ones stay: the dead-letter list).
   */
  async function reap(): Promise<void> {
    const now = Date.now();
    if (now - lastReap < leaseMs / 2) return;
    lastReap = now;
    if (now - lastPurge > PURGE_EVERY_MS) {
      lastPurge = now;
      const purged = await store.jobs.deleteCompletedBefore(iso(now - KEEP_COMPLETED_MS));
      if (purged > 0) log.debug({ purged }, 'completed jobs purged');
    }
    for (const job of await store.jobs.listExpired(iso(now))) {
      const last = job.attemptsMade >= job.maxAttempts;
      const released = await store.jobs.release(job.id, null, {
        state: last ? 'failed' : 'waiting',
        runAt: iso(now + (last ? 0 : backoffDelay(job.backoffMs, job.attemptsMade))),
        lastError: 'lease expired: the worker holding the job stopped',
        now: iso(now),
      });
      if (released) {
        log.warn({ jobId: job.id, attempt: job.attemptsMade, failed: last }, 'job lease expired');
        if (!last) added.emit(job.queue);
      }
    }
  }

  const queue: JobQueue = {
    driver: 'embedded',
    async add(queueName, name, data, opts = {}) {
      const id = opts.jobId ?? `job_${ulid()}`;
      const now = Date.now();
      await store.jobs.insert({
        id: storeKey(queueName, id),
        queue: queueName,
        name,
        data,
        state: 'waiting',
        priority: opts.priority ?? DEFAULT_PRIORITY,
        seq: ulid(now),
        runAt: iso(now + (opts.delayMs ?? 0)),
        attemptsMade: 0,
        maxAttempts: Math.max(1, opts.attempts ?? 1),
        backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF_MS,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        createdAt: iso(now),
        finishedAt: null,
      });
      added.emit(queueName);
      if (opts.delayMs) setTimeout(() => added.emit(queueName), opts.delayMs).unref();
      return id;
    },

    process(queueName, handler, { concurrency }) {
      const owner = `wkr_${ulid()}`;
      const running = new Map<string, { done: Promise<void>; abort: AbortController }>();
      let closing = false;
      let pumping = false;
      let again = false;

      async function runJob(job: JobRecord): Promise<void> {
        const abort = new AbortController();
        const heartbeat = setInterval(
          () => {
            void store.jobs
              .heartbeat(job.id, owner, iso(Date.now() + leaseMs))
              .then((held) => {
                // Held by nobody (it expired and was reclaimed): this attempt must stop.
                if (!held && !abort.signal.aborted) abort.abort(new Error('lease lost'));
              })
              .catch((err: unknown) => log.error({ err, jobId: job.id }, 'job heartbeat failed'));
          },
          Math.max(10, Math.floor(leaseMs / 3)),
        );
        const done = (async () => {
          try {
            await handler(
              {
                id: publicId(job),
                queue: job.queue,
                name: job.name,
                data: job.data as never,
                attempt: job.attemptsMade,
              },
              abort.signal,
            );
            await store.jobs.complete(job.id, owner, iso(Date.now()));
          } catch (err) {
            const now = Date.now();
            if (closing && abort.signal.aborted) {
              // Shutting down: hand the job back untouched for another worker.
              await store.jobs.release(job.id, owner, {
                state: 'waiting',
                runAt: iso(now),
                lastError: 'requeued: the worker shut down',
                now: iso(now),
                refundAttempt: true,
              });
              return;
            }
            const last = job.attemptsMade >= job.maxAttempts;
            await store.jobs.release(job.id, owner, {
              state: last ? 'failed' : 'waiting',
              runAt: iso(now + (last ? 0 : backoffDelay(job.backoffMs, job.attemptsMade))),
              lastError: (err as Error)?.message ?? String(err),
              now: iso(now),
            });
            if (!last)
              setTimeout(
                () => added.emit(queueName),
                backoffDelay(job.backoffMs, job.attemptsMade),
              ).unref();
          }
        })()
          .catch((err: unknown) => log.error({ err, jobId: job.id }, 'job bookkeeping failed'))
          .finally(() => {
            clearInterval(heartbeat);
            running.delete(job.id);
            void pump();
          });
        running.set(job.id, { done, abort });
        await Promise.resolve();
      }

      async function pump(): Promise<void> {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            await reap();
            while (!closing && running.size < concurrency) {
              const now = Date.now();
              const job = await store.jobs.claim(queueName, owner, iso(now), iso(now + leaseMs));
              if (!job) break;
              await runJob(job);
            }
          } while (again && !closing);
        } catch (err) {
          log.error({ err, queue: queueName }, 'job claim failed');
        } finally {
          pumping = false;
        }
      }

      const wake = (): void => void pump();
      added.on(queueName, wake);
      const poll = setInterval(wake, pollMs);
      poll.unref();
      void pump();

      const worker: QueueWorker = {
        async close(graceMs = 0) {
          if (closing) return;
          closing = true;
          clearInterval(poll);
          added.off(queueName, wake);
          const all = Promise.all([...running.values()].map((r) => r.done));
          if (Number.isFinite(graceMs)) {
            await Promise.race([all, new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
          }
          for (const r of running.values()) r.abort.abort(new Error('worker closing'));
          await all;
          workers.delete(worker);
        },
      };
      workers.add(worker);
      return worker;
    },

    async getJob(queueName, id): Promise<JobInfo | undefined> {
      const job = await store.jobs.get(storeKey(queueName, id));
      if (!job) return undefined;
      const status =
        job.state === 'waiting' && Date.parse(job.runAt) > Date.now() ? 'delayed' : job.state;
      return {
        id,
        name: job.name,
        status,
        attemptsMade: job.attemptsMade,
        lastError: job.lastError,
      };
    },

    remove: (queueName, id) => store.jobs.removeWaiting(storeKey(queueName, id)),

    counts: (queueName): Promise<QueueCounts> => store.jobs.counts(queueName, iso(Date.now())),

    async close() {
      await Promise.all([...workers].map((w) => w.close()));
    },
  };
  return queue;
}
