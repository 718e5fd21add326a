import type { JobQueue, QueueWorker } from '../queue/index.js';

/**
 * Runs go through the job queue: a run is a job (its id is the run id, so adding it twice adds
 * it once), and this process's worker starts up to `limit` of them at once, in order. `start`
 * is called for each run that gets a slot; the slot is held until its promise settles. With the
 * embedded driver the jobs live in the store, so queued runs survive a restart as jobs.
 */
export interface Dispatcher {
  enqueue(runId: string): Promise<void>;
  /**
   * Recovery: makes sure a run left `queued` has a job that will start it (its first job may
   * have ended without starting it, when the server stopped at that moment).
   */
  ensureQueued(runId: string): Promise<void>;
  /** Takes a run that is still waiting out of the queue; false when it was not waiting. */
  remove(runId: string): Promise<boolean>;
  stats(): Promise<{ running: number; waiting: number; limit: number }>;
  /** Starts taking runs from the queue. */
  start(): void;
  /** Stops taking runs and resolves once the ones this process started have settled. */
  close(): Promise<void>;
}

interface RunJob {
  runId: string;
}

export function createDispatcher(options: {
  queue: JobQueue;
  /** The queue's name: one per installation, or private to an embedded CLI process. */
  queueName: string;
  limit: number;
  start: (runId: string) => Promise<void>;
  onChange?: (stats: { running: number }) => void;
}): Dispatcher {
  const { queue, queueName, limit } = options;
  let running = 0;
  let worker: QueueWorker | undefined;

  return {
    async enqueue(runId) {
      await queue.add<RunJob>(queueName, 'run', { runId }, { jobId: runId });
    },
    async ensureQueued(runId) {
      const job = await queue.getJob(queueName, runId);
      if (job && job.status !== 'completed' && job.status !== 'failed') return;
      await queue.add<RunJob>(queueName, 'run', { runId }, job ? {} : { jobId: runId });
    },
    remove: (runId) => queue.remove(queueName, runId),
    async stats() {
      const counts = await queue.counts(queueName);
      return { running, waiting: counts.waiting + counts.delayed, limit };
    },
    start() {
      if (worker) return;
      worker = queue.process<RunJob>(
        queueName,
        async (job) => {
          running++;
          options.onChange?.({ running });
          try {
            // start() reports a run's failures itself; it rejects only when this process is
            // stopping and did not start the run (the job then fails and recovery requeues it).
            await options.start(job.data.runId);
          } finally {
            running--;
            options.onChange?.({ running });
          }
        },
        { concurrency: limit },
      );
    },
    async close() {
      await worker?.close(Infinity);
    },
  };
}
