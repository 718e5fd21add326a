export { createBullmqQueue, type BullmqQueueOptions } from './bullmq.js';
export { createEmbeddedQueue, type EmbeddedQueueOptions } from './embedded.js';
export { ensureJob, type EnsureOutcome } from './ensure-job.js';
export {
  backoffDelay,
  type ConnectionState,
  type Job,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type JobQueue,
  type JobSchedulers,
  type JobStatus,
  type QueueCounts,
  type QueueWorker,
  type SchedulerRepeat,
  type WorkerOptions,
} from './port.js';
export { probeRedis, watchConnection } from './redis-connection.js';
