/**
 * The job queue port: what the engine asks of a queue, whichever driver holds the jobs. Two
 * drivers implement it with the same guarantees, checked by one contract suite:
 * the embedded driver (jobs in the store, leases with heartbeats) and BullMQ on Redis.
 */

export interface JobOptions {
  /** Makes `add` idempotent: a second add with the same id adds nothing. Unique per queue. */
  jobId?: string;
  /** Lower runs first (1 is the most urgent); default 100. Equal priorities run in order. */
  priority?: number;
  /** Not before this many milliseconds from now. */
  delayMs?: number;
  /** Tries before the job fails for good (dead-letter); default 1. */
  attempts?: number;
  /** Wait before retry n: backoffMs × 2^(n−1); default 1000. */
  backoffMs?: number;
}

export interface Job<T = unknown> {
  id: string;
  queue: string;
  name: string;
  data: T;
  /** 1 for the first try. */
  attempt: number;
  /** For a job a scheduler made: the tick (ms since the epoch) it was made for. */
  scheduledAt?: number;
}

/**
 * Does the work of a job. Resolving completes it; throwing fails this attempt (retried while
 * attempts remain). `signal` aborts when the worker is closing and the job must give up.
 */
export type JobHandler<T = unknown> = (job: Job<T>, signal: AbortSignal) => Promise<void>;

export interface WorkerOptions {
  /** Jobs of this queue this worker runs at once. */
  concurrency: number;
}

export interface QueueWorker {
  /**
   * Stops taking jobs and waits for the running ones: up to `graceMs` (default 0), then aborts
   * them and hands them back; `Infinity` waits for them however long they take.
   */
  close(graceMs?: number): Promise<void>;
}

export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

export interface JobInfo {
  id: string;
  name: string;
  status: JobStatus;
  attemptsMade: number;
  lastError: string | null;
}

export interface QueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
}

/** When a job scheduler makes its jobs: a cron pattern (5 or 6 fields) in an IANA zone. */
export interface SchedulerRepeat {
  pattern: string;
  tz: string;
}

/**
 * Job schedulers: the queue itself makes one job per tick of a cron pattern, exactly once
 * however many processes share it (each job carries `scheduledAt`). A capability: drivers
 * without it leave `JobQueue.schedulers` undefined and the caller keeps its own clock.
 */
export interface JobSchedulers {
  /** Creates or replaces scheduler `id` of `queue`; its jobs are named `name` and carry `data`. */
  upsert<T>(
    queue: string,
    id: string,
    repeat: SchedulerRepeat,
    name: string,
    data: T,
  ): Promise<void>;
  /** Removes the scheduler and its next pending job; false when there was none. */
  remove(queue: string, id: string): Promise<boolean>;
  /** Ids of the schedulers of `queue`. */
  list(queue: string): Promise<string[]>;
}

/** Whether the connection to a queue's server answers now, and why not when it does not. */
export interface ConnectionState {
  up: boolean;
  /** The last error seen while down (null while up). */
  reason: string | null;
  /** When the connection was last lost (ISO time), null while up or unknown. */
  downSince: string | null;
}

export interface JobQueue {
  readonly driver: 'embedded' | 'bullmq';
  /** Present when the driver schedules jobs itself (BullMQ); see JobSchedulers. */
  readonly schedulers?: JobSchedulers;
  /** Adds a job; resolves with its id (the existing one's, for a repeated `jobId`). */
  add<T>(queue: string, name: string, data: T, options?: JobOptions): Promise<string>;
  process<T>(queue: string, handler: JobHandler<T>, options: WorkerOptions): QueueWorker;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** Removes a job that is waiting or delayed; false when it is running, finished or unknown. */
  remove(queue: string, id: string): Promise<boolean>;
  counts(queue: string): Promise<QueueCounts>;
  /**
   * Drivers with a server of their own (BullMQ): whether it answers now. While it does not,
   * the driver keeps reconnecting and commands wait for it (a job added meanwhile is not lost).
   */
  connectionState?(): ConnectionState;
  /** Closes workers (see QueueWorker.close) and connections. */
  close(): Promise<void>;
}

export const DEFAULT_PRIORITY = 100;
export const DEFAULT_BACKOFF_MS = 1000;

/** Milliseconds to wait before the next try after `attempt` (1-based) failed. */
export function backoffDelay(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** Math.max(0, attempt - 1);
}
