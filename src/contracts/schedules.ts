import { z } from 'zod';
import { CreateRunRequest, RunError, RunStatus } from './runs.js';

/**
 * The run a schedule starts at each tick: the body of `POST /v1/runs` without `wait` (nobody
 * waits for a scheduled run).
 */
export const ScheduleRunRequest = CreateRunRequest.omit({ wait: true });
export type ScheduleRunRequest = z.input<typeof ScheduleRunRequest>;

/**
 * What a schedule's `run.env` values read as in every answer: the names show, the values (often
 * tokens) never leave the server. Sent back in a PATCH, it keeps the stored value of that name.
 */
export const REDACTED_ENV_VALUE = '[redacted]';

const cron = z
  .string()
  .min(1)
  .max(200)
  .describe(
    'Cron expression: 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. `0 9 * * 1-5`.',
  );
const timezone = z
  .string()
  .min(1)
  .max(100)
  .describe('IANA time zone the cron expression is read in, e.g. `Europe/Berlin` (default UTC).');
const maxConsecutiveFailures = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .describe('Pause the schedule after this many runs in a row failed or timed out (default 3).');

/** Body of `POST /v1/schedules`. */
export const CreateScheduleRequest = z
  .object({
    name: z.string().min(1).max(200).optional(),
    cron,
    timezone: timezone.optional(),
    run: ScheduleRunRequest.describe('The run to start at each tick (as for POST /v1/runs).'),
    enabled: z.boolean().optional().describe('Default true.'),
    maxConsecutiveFailures: maxConsecutiveFailures.optional(),
  })
  .strict();
export type CreateScheduleRequest = z.input<typeof CreateScheduleRequest>;
export type ParsedCreateScheduleRequest = z.output<typeof CreateScheduleRequest>;

/** Body of `PATCH /v1/schedules/:id`. Enabling a paused schedule clears its pause. */
export const UpdateScheduleRequest = z
  .object({
    name: z.string().min(1).max(200).nullable().optional(),
    cron: cron.optional(),
    timezone: timezone.optional(),
    run: ScheduleRunRequest.optional().describe(
      'Replaces the run. Without `env` the stored variables stay; a value of `[redacted]` keeps the stored value of that name; `env: {}` removes them all.',
    ),
    enabled: z.boolean().optional(),
    maxConsecutiveFailures: maxConsecutiveFailures.optional(),
  })
  .strict();
export type UpdateScheduleRequest = z.input<typeof UpdateScheduleRequest>;
export type ParsedUpdateScheduleRequest = z.output<typeof UpdateScheduleRequest>;

/**
 * One tick of a schedule, recorded by whichever process claimed it first. `started` made a
 * run; `skipped` did not (the run was refused, e.g. BUDGET_EXCEEDED: `error` says why);
 * `pending` is being started (or its server died while starting it).
 */
export const ScheduleFire = z.object({
  tick: z.string(),
  firedAt: z.string(),
  outcome: z.enum(['pending', 'started', 'skipped']),
  runId: z.string().nullable(),
  error: RunError.nullable(),
  /** The run's final status once it ended. */
  runStatus: RunStatus.nullable(),
});
export type ScheduleFire = z.infer<typeof ScheduleFire>;

export const Schedule = z.object({
  id: z.string(),
  name: z.string().nullable(),
  cron: z.string(),
  timezone: z.string(),
  run: ScheduleRunRequest.describe(
    'The run started at each tick; `env` values always read `[redacted]` (names only).',
  ),
  enabled: z.boolean(),
  maxConsecutiveFailures: z.number().int(),
  /** Runs in a row that failed or timed out since the last success (or since enabled). */
  consecutiveFailures: z.number().int(),
  /** Why the schedule was paused by Patchbay (null when a user disabled it or it runs). */
  pausedReason: z.string().nullable(),
  /** The next tick it fires at (null while disabled). */
  nextRunAt: z.string().nullable(),
  /** The latest tick it fired (started or skipped a run). */
  lastRunAt: z.string().nullable(),
  lastFire: ScheduleFire.nullable().describe(
    'What the latest tick did: `started` (with the run and, once it ended, its status) or `skipped` with the refusal in `error` (e.g. BUDGET_EXCEEDED); null before the first tick.',
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Schedule = z.infer<typeof Schedule>;

export const ScheduleWithFires = Schedule.extend({
  /** The latest fires, newest first. */
  fires: z.array(ScheduleFire),
});
export type ScheduleWithFires = z.infer<typeof ScheduleWithFires>;

export const ScheduleList = z.object({ schedules: z.array(Schedule) });
export type ScheduleList = z.infer<typeof ScheduleList>;

export const ScheduleIdParams = z.object({ id: z.string().min(1).max(100) });
