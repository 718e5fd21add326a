import { z } from 'zod';

/** A Patchbay process in the registry (`GET /v1/workers`). */
export const Worker = z.object({
  id: z.string(),
  /** server (API and runs), api (API only), worker (runs only) */
  role: z.enum(['server', 'api', 'worker']),
  hostname: z.string(),
  pid: z.number().int(),
  version: z.string(),
  /** Run queues it takes runs from, and how many of each at once. */
  queues: z.array(z.string()),
  concurrency: z.number().int(),
  /** `lost`: no heartbeat within PATCHBAY_RUN_LEASE_MS and never said it stopped. */
  state: z.enum(['active', 'draining', 'stopped', 'lost']),
  /** Ids of the runs it holds. */
  running: z.array(z.string()),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  /**
   * Milliseconds since `heartbeatAt` by the answering server's clock (`GET /v1/workers`), so a
   * browser with a skewed clock still shows the right age.
   */
  heartbeatAgeMs: z.number().int().optional(),
  stoppedAt: z.string().nullable(),
});
export type Worker = z.infer<typeof Worker>;

export const WorkerList = z.object({ workers: z.array(Worker) });
export type WorkerList = z.infer<typeof WorkerList>;
