import { ensureJob, type EnsureOutcome, type JobQueue, type QueueWorker } from '../queue/index.js';

/**
 * Runs go through the job queue: a run is a job (its id is the run id, so adding it twice adds
 * it once), and this process's workers start up to `limit` runs of each queue they take, in
 * order. `start` is called for each run that gets a slot; the slot is held until its promise
 * settles. With the embedded driver the jobs live in the store, so queued runs survive a
 * restart as jobs.
 */
export interface Dispatcher {
  /**
   * Adds the job of a run's attempt. Attempt n > 1 (a retry after a lost worker or a drain)
   * gets a job id of its own: the job of the attempt before may still be held by the worker
   * that is giving it back.
   */
  enqueue(run: QueuedRun): Promise<void>;
  /**
   * Recovery: makes sure a run left `queued` has a job that will start it. Its job may have
   * ended without starting it: the process that claimed it died (kill -9) or stopped between
   * the claim and the run's start, and the job then expired (embedded lease, BullMQ stall) or
   * failed. Such a run gets a recovery job `<job id>-r<n>`, the next free one: the name is the
   * same in every process, so two processes recovering the same run add one job.
   * `stillQueued` is asked right before adding, so a run that started meanwhile gets none.
   * `held`: a job is waiting or running; `added`; `skipped` (no longer queued); `exhausted`:
   * MAX_RECOVERY_JOBS recovery jobs ended without starting it (the caller ends the run).
   */
  ensureQueued(run: QueuedRun, stillQueued?: () => Promise<boolean>): Promise<EnsureOutcome>;
  /** Takes a run that is still waiting out of the queue; false when it was not waiting. */
  remove(run: QueuedRun): Promise<boolean>;
  /** Per run queue: jobs waiting, delayed, active and failed, across every process. */
  queueCounts(): Promise<Record<string, RunQueueCounts>>;
  stats(): Promise<{ running: number; waiting: number; limit: number }>;
  /** The run queues this process takes runs from (empty: it takes none). */
  readonly consumes: readonly string[];
  /** Starts taking runs from the queues. */
  start(): void;
  /**
   * Stops taking runs and resolves once the ones this process started have settled: after
   * `graceMs` (default: however long they take) their jobs are aborted and handed back.
   */
  close(graceMs?: number): Promise<void>;
}

export interface RunQueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
}

interface RunJob {
  runId: string;
}

/** What the queue needs to know of a run. */
export interface QueuedRun {
  id: string;
  queue: string;
  attempt: number;
}

export type { EnsureOutcome };

/**
 * Recovery jobs one run may get before it is given up: each means a process died (or stopped)
 * between claiming the run and starting it, so a run that keeps doing that ends instead of
 * taking the workers down forever.
 */
export const MAX_RECOVERY_JOBS = 20;

const jobIdOf = (run: QueuedRun): string =>
  run.attempt > 1 ? `${run.id}-a${run.attempt}` : run.id;

/** The job queue holding the runs of a run queue; `default` keeps its historical name. */
export function jobQueueOf(runQueue: string, privateSuffix?: string): string {
  const base = runQueue === 'default' ? 'runs' : `runs-${runQueue}`;
  return privateSuffix ? `${base}-embedded-${privateSuffix}` : base;
}

export function createDispatcher(options: {
  queue: JobQueue;
  /** Run queues this process takes runs from. */
  consumes: string[];
  /** Every run queue whose depth is reported (at least those consumed). */
  known?: () => string[];
  /** An embedded CLI keeps its runs in queues of its own, named with this suffix. */
  privateSuffix?: string;
  /** Runs of each queue this process starts at once. */
  limit: number;
  start: (runId: string) => Promise<void>;
  onChange?: (stats: { running: number }) => void;
}): Dispatcher {
  const { queue, limit, privateSuffix } = options;
  const nameOf = (runQueue: string): string => jobQueueOf(runQueue, privateSuffix);
  let running = 0;
  const workers: QueueWorker[] = [];

  return {
    consumes: options.consumes,
    async enqueue(run) {
      await queue.add<RunJob>(nameOf(run.queue), 'run', { runId: run.id }, { jobId: jobIdOf(run) });
    },
    ensureQueued: (run, stillQueued) =>
      ensureJob<RunJob>(
        queue,
        {
          queue: nameOf(run.queue),
          name: 'run',
          baseId: jobIdOf(run),
          data: { runId: run.id },
          maxRecoveries: MAX_RECOVERY_JOBS,
        },
        stillQueued,
      ),
    remove: (run) => queue.remove(nameOf(run.queue), jobIdOf(run)),
    async queueCounts() {
      const names = [...new Set([...options.consumes, ...(options.known?.() ?? [])])];
      const result: Record<string, RunQueueCounts> = {};
      for (const name of names.sort()) {
        const c = await queue.counts(nameOf(name));
        result[name] = {
          waiting: c.waiting,
          delayed: c.delayed,
          active: c.active,
          failed: c.failed,
        };
      }
      return result;
    },
    async stats() {
      let waiting = 0;
      for (const name of options.consumes) {
        const counts = await queue.counts(nameOf(name));
        waiting += counts.waiting + counts.delayed;
      }
      return { running, waiting, limit: limit * options.consumes.length };
    },
    start() {
      if (workers.length > 0) return;
      for (const runQueue of options.consumes) {
        workers.push(
          queue.process<RunJob>(
            nameOf(runQueue),
            async (job) => {
              running++;
              options.onChange?.({ running });
              try {
                // start() reports a run's failures itself; it rejects only when this process
                // is stopping and did not start the run (the job then fails and recovery
                // requeues it).
                await options.start(job.data.runId);
              } finally {
                running--;
                options.onChange?.({ running });
              }
            },
            { concurrency: limit },
          ),
        );
      }
    },
    async close(graceMs = Infinity) {
      await Promise.all(workers.map((w) => w.close(graceMs)));
    },
  };
}
