import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { createBullmqQueue } from './bullmq.js';
import { createEmbeddedQueue } from './embedded.js';
import type { JobQueue } from './port.js';

export { createBullmqQueue, type BullmqQueueOptions } from './bullmq.js';
export { createEmbeddedQueue, type EmbeddedQueueOptions } from './embedded.js';
export {
  backoffDelay,
  type Job,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type JobQueue,
  type JobStatus,
  type QueueCounts,
  type QueueWorker,
  type WorkerOptions,
} from './port.js';

export interface JobQueueOptions {
  /** redis:// URL: BullMQ on it. Unset: the embedded driver, jobs in the store. */
  queueUrl?: string;
  leaseMs: number;
  /** Embedded driver: how often idle workers look for jobs other processes added. */
  pollMs: number;
}

/**
 * The driver for these options: BullMQ when a Redis URL is given, else jobs in the store.
 * (Not wired into the engine yet: runs are still dispatched in-process. The settings that
 * choose the driver come with that step.)
 */
export async function createJobQueue(
  deps: JobQueueOptions & { store: Store; log: Logger },
): Promise<JobQueue> {
  const { store, log, leaseMs, pollMs } = deps;
  return deps.queueUrl
    ? createBullmqQueue({ url: deps.queueUrl, log, leaseMs })
    : createEmbeddedQueue({ store, log, leaseMs, pollMs });
}
