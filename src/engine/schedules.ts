import {
  isPatchbayError,
  PatchbayError,
  ScheduleRunRequest,
  type ParsedCreateRunRequest,
  type ParsedCreateScheduleRequest,
  type ParsedUpdateScheduleRequest,
  type Run,
  type Schedule,
  type ScheduleFire,
  type ScheduleWithFires,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { JobQueue, QueueWorker } from '../queue/index.js';
import {
  newScheduleId,
  type ReplyTarget,
  type RunRecord,
  type SchedulePatch,
  type ScheduleRecord,
  type Store,
} from '../store/index.js';
import { assertCronSpec, planTicks, type CronCounter, type CronSpec } from './cron.js';
import {
  createScheduleClock,
  createSlices,
  cursorOf,
  lookAtStore,
  type ClockEntry,
} from './schedule-clock.js';
import { redactRun, withStoredEnv } from './schedule-env.js';

/** Where a run came from, recorded on it. */
export interface RunOrigin {
  scheduleId?: string;
  /** The compatibility layer making the run (its reaction follows the run's end). */
  origin?: string;
  /** The generic trigger that fired it. */
  triggerId?: string;
  /** Where its answer goes when it ends (a chat). */
  replyTo?: ReplyTarget;
}

export interface SchedulesOptions {
  store: Store;
  log: Logger;
  queue: JobQueue;
  /** The engine's own createRun: validation, budgets and the queue apply to scheduled runs. */
  createRun(request: ParsedCreateRunRequest, origin: RunOrigin): Promise<Run>;
  /**
   * The engine's validation of a run request, without creating it: a schedule's run is checked
   * when the schedule is created, changed or enabled, so a tick is skipped only for what
   * changed since (a budget reached, a directory removed), not for a request never valid.
   */
  validateRun(request: ParsedCreateRunRequest): Promise<void>;
  /** Longest sleep between looks at the store (schedules made by other servers). */
  pollMs?: number;
  /** Counts cron computations (default: a counter of its own); see `stats`. */
  counter?: CronCounter;
}

/** What the clock has done so far in this process. */
export interface ScheduleClockStats {
  /** Cron ticks computed (next or latest): creates, updates, fires and changed rows. */
  cronComputations: number;
  /** Enabled schedules the clock has planned. */
  planned: number;
  /** Looks at the store finished (every `pollMs`). */
  looks: number;
}

/** Schedules: CRUD, and the clock that starts their runs (see `start`). */
export interface Schedules {
  create(request: ParsedCreateScheduleRequest): Promise<Schedule>;
  list(): Promise<Schedule[]>;
  get(id: string): Promise<ScheduleWithFires>;
  update(id: string, request: ParsedUpdateScheduleRequest): Promise<Schedule>;
  remove(id: string): Promise<void>;
  /**
   * A scheduled run has just been stored as ended (by whichever process ended it): note its
   * status on its fire, count failures in a row, pause the schedule when there are too many.
   */
  runEnded(record: RunRecord): Promise<void>;
  /** Starts firing ticks in this process. */
  start(): Promise<void>;
  /** Stops claiming ticks; waits for a fire in progress. */
  stop(): Promise<void>;
  stats(): ScheduleClockStats;
}

export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 3;
const DEFAULT_POLL_MS = 2000;
const RECENT_FIRES = 20;
/** Longest stretch of clock work before it lets the event loop serve requests. */
const SLICE_MS = 8;
/** The queue BullMQ's job schedulers put one job per tick into. */
export const SCHEDULES_QUEUE = 'schedules';
const FIRE_JOB = 'fireSchedule';

interface FireJobData {
  scheduleId: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const specOf = (s: ScheduleRecord): CronSpec => ({ cron: s.cron, timezone: s.timezone });

/**
 * Each tick of an enabled schedule starts one run, however many servers share the store.
 *
 * The embedded clock never recomputes every schedule: each one's next fire is planned once
 * (schedule-clock.ts) and planned again only when it fires or its row changes. Every `pollMs`
 * it reads the enabled rows' cron, zone and cursor, a page at a time, to see schedules made,
 * changed, paused or deleted by other servers; a create or update here plans that one schedule.
 *
 * Exactly once comes from the fire lock: the row (schedule_id, tick) in `schedule_fires`; the
 * process that inserts it fires the tick, the others' inserts do nothing. What wakes processes
 * up depends on the queue driver:
 * - embedded: every server keeps its own clock. It sleeps until the next tick of any enabled
 *   schedule (at most `pollMs`, so schedules created elsewhere are seen), then all of them race
 *   for the fire row.
 * - BullMQ: each enabled schedule is a BullMQ job scheduler, which makes one job per tick; the
 *   worker that gets the job claims the fire row (idempotent, so a retried job cannot fire a
 *   tick twice) and starts the run.
 *
 * Missed ticks: a tick late by up to MISFIRE_GRACE_MS still fires; ticks missed for longer
 * (every server down) collapse into one catch-up tick fired at start. BullMQ behaves the same
 * way: its one pending job for the overdue tick runs, and the next is planned from now.
 */
export function createSchedules(options: SchedulesOptions): Schedules {
  const { store, queue } = options;
  const log = options.log.child({ component: 'schedules' });
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const schedulers = queue.schedulers;
  let timer: NodeJS.Timeout | undefined;
  let looping: Promise<void> | undefined;
  let worker: QueueWorker | undefined;
  let started = false;
  let stopped = false;
  const counter = options.counter ?? { computations: 0 };
  const clock = createScheduleClock(counter);
  let looks = 0;
  let nextLookAt = 0;

  function toSchedule(s: ScheduleRecord, lastFire: ScheduleFire | null): Schedule {
    const now = Date.now();
    return {
      id: s.id,
      name: s.name,
      cron: s.cron,
      timezone: s.timezone,
      run: redactRun(s.run),
      enabled: s.enabled,
      maxConsecutiveFailures: s.maxConsecutiveFailures,
      consecutiveFailures: s.consecutiveFailures,
      pausedReason: s.pausedReason,
      nextRunAt: s.enabled ? iso(clock.nextRunAt(s.id, specOf(s), cursorOf(s), now)) : null,
      lastRunAt: s.lastTick,
      lastFire,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
  }

  /** The schedule as answered, with what its latest tick did. */
  async function present(s: ScheduleRecord): Promise<Schedule> {
    const [last] = await store.schedules.listFires(s.id, 1);
    return toSchedule(s, last ?? null);
  }

  /**
   * A schedule's run is validated as createRun would validate it, when it could not have been
   * before: created, changed, or enabled again (a directory may have gone meanwhile).
   */
  async function validateRun(run: ScheduleRecord['run']): Promise<void> {
    await options.validateRun(ScheduleRunRequest.parse(run));
  }

  async function getRecord(id: string): Promise<ScheduleRecord> {
    const s = await store.schedules.get(id);
    if (!s) throw new PatchbayError('SCHEDULE_NOT_FOUND', `no schedule ${id}`, { id });
    return s;
  }

  /** Makes the queue's job scheduler match the schedule (BullMQ only). */
  async function syncScheduler(s: ScheduleRecord | undefined, id: string): Promise<void> {
    if (!schedulers) return;
    if (s?.enabled) {
      await schedulers.upsert<FireJobData>(
        SCHEDULES_QUEUE,
        id,
        { pattern: s.cron, tz: s.timezone },
        FIRE_JOB,
        { scheduleId: id },
      );
    } else {
      await schedulers.remove(SCHEDULES_QUEUE, id);
    }
  }

  /**
   * Fires one tick if this process claims it: the run goes through the engine's createRun.
   * A refused run (any PatchbayError, e.g. BUDGET_EXCEEDED) is recorded as skipped and is not
   * a failure of the schedule: nothing ran.
   */
  async function fire(s: ScheduleRecord, tick: number): Promise<void> {
    const claimed = await store.schedules.claimTick(s.id, iso(tick), iso(Date.now()));
    if (!claimed) return;
    try {
      const request = ScheduleRunRequest.parse(s.run);
      const run = await options.createRun(request, { scheduleId: s.id });
      await store.schedules.recordFire(s.id, iso(tick), {
        outcome: 'started',
        runId: run.id,
        errorCode: null,
        errorMessage: null,
      });
      log.info({ scheduleId: s.id, tick: iso(tick), runId: run.id }, 'schedule fired');
    } catch (err) {
      const pe = isPatchbayError(err)
        ? err
        : new PatchbayError('INTERNAL_ERROR', (err as Error).message, undefined, { cause: err });
      if (!isPatchbayError(err)) log.error({ err, scheduleId: s.id }, 'schedule fire failed');
      await store.schedules.recordFire(s.id, iso(tick), {
        outcome: 'skipped',
        runId: null,
        errorCode: pe.code,
        errorMessage: pe.message,
      });
      log.warn({ scheduleId: s.id, tick: iso(tick), code: pe.code }, 'schedule tick skipped');
    }
  }

  const slices = createSlices(SLICE_MS);
  const look = async (): Promise<void> => {
    await lookAtStore(clock, store.schedules, { log, slices, stopped: () => stopped });
    looks++;
  };

  /** Fires the due ticks of one schedule and plans its next fire. */
  async function fireDue(entry: ClockEntry): Promise<void> {
    try {
      const now = Date.now();
      const plan = planTicks(entry.spec, entry.cursor, now, { first: entry.next, counter });
      const s = await store.schedules.get(entry.id);
      if (!s?.enabled) {
        clock.forget(entry.id);
        return;
      }
      for (const tick of plan.due) {
        if (stopped) break;
        await fire(s, tick);
      }
      clock.advance(entry, plan.due.at(-1) ?? entry.cursor, plan.next);
    } catch (err) {
      log.error({ err, scheduleId: entry.id }, 'schedule pass failed');
      clock.retry(entry, Date.now() + pollMs);
    }
  }

  /** One pass of the store clock: fires what is due, returns when to look again. */
  async function pass(): Promise<number> {
    slices.reset();
    if (Date.now() >= nextLookAt) {
      await look();
      nextLookAt = Date.now() + pollMs;
    }
    for (;;) {
      if (stopped) break;
      const entry = clock.takeDue(Date.now());
      if (!entry) break;
      await fireDue(entry);
      await slices.breathe();
    }
    return Math.min(clock.earliest() ?? Infinity, nextLookAt);
  }

  function loop(): void {
    if (stopped || looping) return;
    clearTimeout(timer);
    looping = pass()
      .catch((err: unknown) => {
        log.error({ err }, 'schedule clock failed');
        return Date.now() + pollMs;
      })
      .then((wake) => {
        looping = undefined;
        if (stopped) return;
        // A few ms past the tick, so that `now` is at or after it when the pass runs.
        timer = setTimeout(loop, Math.max(0, wake - Date.now()) + 5);
        timer.unref();
      });
  }

  /** Something changed here: look again now rather than at the next planned wake-up. */
  function poke(): void {
    if (started && !schedulers && !looping) loop();
  }

  async function pauseForFailures(s: ScheduleRecord, count: number, record: RunRecord) {
    const error = record.errorCode ? ` with ${record.errorCode}` : '';
    const reason = `${count} consecutive runs failed; last: ${record.id} ${record.status}${error}`;
    if (await store.schedules.pause(s.id, reason)) {
      clock.forget(s.id);
      log.warn({ scheduleId: s.id, reason }, 'schedule paused');
      await syncScheduler(undefined, s.id);
    }
  }

  return {
    async create(request) {
      const spec = { cron: request.cron.trim(), timezone: request.timezone ?? 'UTC' };
      const now = Date.now();
      // The check computes the first tick after now: the new schedule's whole plan.
      const next = assertCronSpec(spec, now, counter);
      await validateRun(request.run);
      const at = iso(now);
      const record: ScheduleRecord = {
        id: newScheduleId(),
        name: request.name ?? null,
        ...spec,
        run: request.run,
        enabled: request.enabled ?? true,
        maxConsecutiveFailures: request.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
        consecutiveFailures: 0,
        pausedReason: null,
        activeSince: at,
        lastTick: null,
        createdAt: at,
        updatedAt: at,
      };
      await store.schedules.insert(record);
      await syncScheduler(record, record.id);
      if (record.enabled) clock.track(record, { from: now, next });
      poke();
      log.info(
        { scheduleId: record.id, cron: record.cron, tz: record.timezone },
        'schedule created',
      );
      return toSchedule(record, null);
    },
    async list() {
      const [all, fires] = await Promise.all([
        store.schedules.list(),
        store.schedules.latestFires(),
      ]);
      return all.map((s) => toSchedule(s, fires.get(s.id) ?? null));
    },
    async get(id) {
      const s = await getRecord(id);
      const fires = await store.schedules.listFires(id, RECENT_FIRES);
      return { ...toSchedule(s, fires[0] ?? null), fires };
    },
    async update(id, request) {
      const before = await getRecord(id);
      const spec = {
        cron: request.cron?.trim() ?? before.cron,
        timezone: request.timezone ?? before.timezone,
      };
      const now = Date.now();
      // Checked (and its next tick computed) only when it changes.
      const known =
        spec.cron !== before.cron || spec.timezone !== before.timezone
          ? { from: now, next: assertCronSpec(spec, now, counter) }
          : undefined;
      const patch: SchedulePatch = { ...spec };
      if (request.name !== undefined) patch.name = request.name;
      if (request.run !== undefined) patch.run = withStoredEnv(request.run, before.run);
      if (request.maxConsecutiveFailures !== undefined)
        patch.maxConsecutiveFailures = request.maxConsecutiveFailures;
      if (request.enabled !== undefined) patch.enabled = request.enabled;
      const enabling = request.enabled === true && !before.enabled;
      // A new run is checked; so is the stored one when the schedule is enabled again.
      if (patch.run !== undefined || enabling) await validateRun(patch.run ?? before.run);
      if (enabling) {
        // A fresh start: the pause and the failures that caused it are history.
        patch.pausedReason = null;
        patch.consecutiveFailures = 0;
      }
      // Ticks from while it was off, or from the old cron, are not owed.
      if (enabling || spec.cron !== before.cron || spec.timezone !== before.timezone)
        patch.activeSince = iso(now);
      if (request.enabled === false) patch.pausedReason = null;
      if (!(await store.schedules.update(id, patch)))
        throw new PatchbayError('SCHEDULE_NOT_FOUND', `no schedule ${id}`, { id });
      const after = await getRecord(id);
      await syncScheduler(after, id);
      if (after.enabled) clock.track(after, known);
      else clock.forget(id);
      poke();
      return present(after);
    },
    async remove(id) {
      if (!(await store.schedules.delete(id)))
        throw new PatchbayError('SCHEDULE_NOT_FOUND', `no schedule ${id}`, { id });
      clock.forget(id);
      await syncScheduler(undefined, id);
      log.info({ scheduleId: id }, 'schedule deleted');
    },
    async runEnded(record) {
      const scheduleId = record.scheduleId;
      if (!scheduleId) return;
      try {
        await store.schedules.setRunStatus(record.id, record.status);
        // Counted: runs that failed on their own. Not counted: a user's cancel, a server
        // stopping under the run (interrupted) — neither says the scheduled work is broken.
        switch (record.status) {
          case 'succeeded':
            await store.schedules.update(scheduleId, { consecutiveFailures: 0 });
            return;
          case 'failed':
          case 'timed_out': {
            const count = await store.schedules.addFailure(scheduleId);
            const s = await store.schedules.get(scheduleId);
            if (s?.enabled && count !== undefined && count >= s.maxConsecutiveFailures)
              await pauseForFailures(s, count, record);
            return;
          }
          default:
            return;
        }
      } catch (err) {
        log.error({ err, scheduleId, runId: record.id }, 'could not record a scheduled run end');
      }
    },
    async start() {
      if (started) return;
      started = true;
      if (!schedulers) {
        loop();
        return;
      }
      // BullMQ: the queue keeps the clock. Make its schedulers match the store (a schedule
      // paused or deleted while this server was down), then work the tick jobs.
      const want = new Map((await store.schedules.list()).map((s) => [s.id, s]));
      for (const id of await schedulers.list(SCHEDULES_QUEUE)) {
        if (!want.get(id)?.enabled) await schedulers.remove(SCHEDULES_QUEUE, id);
      }
      for (const s of want.values()) if (s.enabled) await syncScheduler(s, s.id);
      worker = queue.process<FireJobData>(
        SCHEDULES_QUEUE,
        async (job) => {
          const s = await store.schedules.get(job.data.scheduleId);
          if (!s?.enabled) {
            // Deleted or paused on a server that could not reach Redis: drop the scheduler.
            await syncScheduler(undefined, job.data.scheduleId);
            return;
          }
          await fire(s, job.scheduledAt ?? Date.now());
        },
        { concurrency: 1 },
      );
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await looping;
      await worker?.close();
    },
    stats() {
      return { cronComputations: counter.computations, planned: clock.size, looks };
    },
  };
}
