import type { Job as BullJob, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/index.js';
import { ulid } from '../store/index.js';
import { isConnectionError, watchConnection } from './redis-connection.js';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_PRIORITY,
  type JobInfo,
  type JobQueue,
  type JobStatus,
  type QueueCounts,
  type QueueWorker,
} from './port.js';

export interface BullmqQueueOptions {
  /** redis://… */
  url: string;
  log: Logger;
  /** BullMQ's lock: how long a job stays held without renewal (a dead worker's jobs wait it). */
  leaseMs: number;
  /** Key prefix in Redis, so several installations can share one server. */
  prefix?: string;
}

/** The tick of a job a job scheduler made: its id is `repeat:<scheduler id>:<tick ms>`. */
function scheduledAt(job: BullJob): { scheduledAt?: number } {
  if (!job.repeatJobKey) return {};
  const tick = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  return Number.isFinite(tick) ? { scheduledAt: tick } : {};
}

/**
 * The BullMQ driver: BullMQ's own locks (renewed by the worker, stalled jobs moved back),
 * retries with exponential backoff, priorities, delays and failed-job retention do the work;
 * this only maps the port onto them.
 */
export async function createBullmqQueue(options: BullmqQueueOptions): Promise<JobQueue> {
  // Loaded on demand: a server without Redis never pays for BullMQ and ioredis in memory.
  const { Queue, Worker, WaitingError } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { url, log, leaseMs } = options;
  const prefix = options.prefix ?? 'patchbay';
  // Workers block on their connection; BullMQ wants maxRetriesPerRequest null for them.
  // Commands wait while Redis is away (a run's job is added once it is back, never dropped).
  const connect = (): Redis => new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  const shared = connect();
  const sharedState = watchConnection(shared, log, 'queue');
  const queues = new Map<string, Queue>();
  const workers = new Set<QueueWorker>();
  const connections = new Set<Redis>([shared]);

  function queueOf(name: string): Queue {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: shared, prefix });
      // The connection's own watcher reports a lost connection once; this keeps BullMQ's copy
      // of each error from being thrown as an unhandled 'error' event.
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  }

  const queue: JobQueue = {
    driver: 'bullmq',
    // BullMQ's job schedulers: one delayed job per tick, created by Redis scripts, so a tick
    // yields one job however many processes upsert the scheduler or work the queue.
    schedulers: {
      async upsert(queueName, id, repeat, name, data) {
        await queueOf(queueName).upsertJobScheduler(
          id,
          { pattern: repeat.pattern, tz: repeat.tz },
          {
            name,
            data,
            opts: { removeOnComplete: { age: 24 * 3600, count: 1000 }, removeOnFail: 1000 },
          },
        );
      },
      async remove(queueName, id) {
        return queueOf(queueName).removeJobScheduler(id);
      },
      async list(queueName) {
        const all = await queueOf(queueName).getJobSchedulers();
        return all.map((s) => s.key);
      },
    },
    async add(queueName, name, data, opts = {}) {
      const job = await queueOf(queueName).add(name, data, {
        jobId: opts.jobId ?? `job_${ulid()}`,
        priority: opts.priority ?? DEFAULT_PRIORITY,
        ...(opts.delayMs ? { delay: opts.delayMs } : {}),
        attempts: Math.max(1, opts.attempts ?? 1),
        backoff: { type: 'exponential', delay: opts.backoffMs ?? DEFAULT_BACKOFF_MS },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: false, // the dead-letter list is the failed set
      });
      return job.id!;
    },

    process(queueName, handler, { concurrency }) {
      const connection = connect();
      watchConnection(connection, log, `queue worker ${queueName}`);
      connections.add(connection);
      const aborts = new Set<AbortController>();
      let closing = false;
      const worker = new Worker(
        queueName,
        async (job: BullJob, token?: string) => {
          const abort = new AbortController();
          aborts.add(abort);
          try {
            await handler(
              {
                id: job.id!,
                queue: queueName,
                name: job.name,
                data: job.data as never,
                attempt: job.attemptsMade + 1,
                ...scheduledAt(job),
              },
              abort.signal,
            );
          } catch (err) {
            if (closing && abort.signal.aborted && token) {
              // Shutting down: hand the job back untouched for another worker.
              await job.moveToWait(token);
              throw new WaitingError();
            }
            throw err;
          } finally {
            aborts.delete(abort);
          }
        },
        {
          connection,
          prefix,
          concurrency,
          lockDuration: leaseMs,
          stalledInterval: Math.max(1000, Math.floor(leaseMs / 2)),
          // A job whose worker died goes back to wait once; a second stall fails it.
          maxStalledCount: 1,
        },
      );
      worker.on('error', (err) => {
        // Lost connections are logged once by their watcher; anything else is worth a line.
        if (!isConnectionError(err)) log.error({ err, queue: queueName }, 'queue worker error');
      });
      const handle: QueueWorker = {
        async close(graceMs = 0) {
          if (closing) return;
          closing = true;
          const closed = worker.close();
          const timer = Number.isFinite(graceMs)
            ? new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref())
            : new Promise<'timeout'>(() => undefined);
          if ((await Promise.race([closed, timer])) === 'timeout') {
            for (const a of aborts) a.abort(new Error('worker closing'));
          }
          await closed;
          await connection.quit().catch(() => undefined);
          connections.delete(connection);
          workers.delete(handle);
        },
      };
      workers.add(handle);
      return handle;
    },

    async getJob(queueName, id): Promise<JobInfo | undefined> {
      const job = await queueOf(queueName).getJob(id);
      if (!job) return undefined;
      const state = await job.getState();
      const status: JobStatus =
        state === 'completed' || state === 'failed' || state === 'active' || state === 'delayed'
          ? state
          : 'waiting';
      return {
        id,
        name: job.name,
        status,
        attemptsMade: job.attemptsMade,
        lastError: job.failedReason || null,
      };
    },

    async remove(queueName, id) {
      const job = await queueOf(queueName).getJob(id);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      try {
        await job.remove();
        return true;
      } catch {
        return false; // a worker took it meanwhile
      }
    },

    async counts(queueName): Promise<QueueCounts> {
      const c = await queueOf(queueName).getJobCounts(
        'waiting',
        'prioritized',
        'delayed',
        'active',
        'completed',
        'failed',
      );
      return {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        delayed: c.delayed ?? 0,
        active: c.active ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    },

    connectionState: () => sharedState.state(),

    async close() {
      await Promise.all([...workers].map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await Promise.all([...connections].map((c) => c.quit().catch(() => undefined)));
    },
  };
  return queue;
}
