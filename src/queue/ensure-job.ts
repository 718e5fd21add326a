import type { JobQueue } from './port.js';

/** `held`: a job is waiting or running; `added`; `skipped`: no longer needed; `exhausted`. */
export type EnsureOutcome = 'held' | 'added' | 'skipped' | 'exhausted';

/**
 * Recovery: makes sure work whose job may have ended without doing it (the process that held
 * the job died, the job then expired or failed) has a live job. The work's jobs are `baseId`,
 * `baseId-r1`, `baseId-r2`, …: a finished job keeps its id, so only the last can be alive, and
 * the next free name is the same in every process, so two processes recovering the same work
 * add one job. `stillNeeded` is asked right before adding. After `maxRecoveries` recovery
 * jobs the work is `exhausted` (the caller gives up on it).
 */
export async function ensureJob<T>(
  queue: JobQueue,
  target: {
    queue: string;
    name: string;
    baseId: string;
    data: T;
    maxRecoveries: number;
    /** Not before this many milliseconds from now (a job for a later time). */
    delayMs?: number;
  },
  stillNeeded?: () => Promise<boolean>,
): Promise<EnsureOutcome> {
  for (let n = 0; n <= target.maxRecoveries; n++) {
    const jobId = n === 0 ? target.baseId : `${target.baseId}-r${n}`;
    const job = await queue.getJob(target.queue, jobId);
    if (job && job.status !== 'completed' && job.status !== 'failed') return 'held';
    if (job) continue;
    if (stillNeeded && !(await stillNeeded())) return 'skipped';
    await queue.add<T>(target.queue, target.name, target.data, {
      jobId,
      ...(target.delayMs ? { delayMs: target.delayMs } : {}),
    });
    return 'added';
  }
  return 'exhausted';
}
