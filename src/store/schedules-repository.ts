import type { Kysely, Selectable, Updateable } from 'kysely';
import type { ScheduleFire, ScheduleRunRequest, RunStatus } from '../contracts/index.js';
import { openEnv, plainSecretBox, sealEnv, type SecretBox } from './secret-box.js';
import type { Database, ScheduleFiresTable, SchedulesTable } from './schema.js';

/** A schedule as stored: the public fields plus where its tick cursor stands. */
export interface ScheduleRecord {
  id: string;
  name: string | null;
  cron: string;
  timezone: string;
  run: ScheduleRunRequest;
  enabled: boolean;
  maxConsecutiveFailures: number;
  consecutiveFailures: number;
  pausedReason: string | null;
  /** Ticks at or before this are never fired (the schedule was not active then). */
  activeSince: string;
  lastTick: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What the schedule clock plans an enabled schedule from (no run request to parse). */
export type ScheduleClockRow = Pick<
  ScheduleRecord,
  'id' | 'cron' | 'timezone' | 'activeSince' | 'lastTick'
>;

export type SchedulePatch = Partial<
  Pick<
    ScheduleRecord,
    | 'name'
    | 'cron'
    | 'timezone'
    | 'run'
    | 'enabled'
    | 'maxConsecutiveFailures'
    | 'consecutiveFailures'
    | 'pausedReason'
    | 'activeSince'
  >
>;

export interface FireResult {
  outcome: 'started' | 'skipped';
  runId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface ScheduleRepository {
  insert(schedule: ScheduleRecord): Promise<void>;
  get(id: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, oldest first. */
  list(): Promise<ScheduleRecord[]>;
  listEnabled(): Promise<ScheduleRecord[]>;
  /** Enabled schedules as the clock needs them, `limit` at a time in id order after `afterId`. */
  listClockRows(afterId: string | null, limit: number): Promise<ScheduleClockRow[]>;
  /** False when there is no such schedule. */
  update(id: string, patch: SchedulePatch): Promise<boolean>;
  /** Deletes the schedule and its fire history; false when there was none. */
  delete(id: string): Promise<boolean>;
  /**
   * The fire lock: records that `tick` of an enabled schedule fires now. True for exactly one
   * caller per (schedule, tick), whichever process it is in; false when the tick was already
   * claimed or the schedule is gone or disabled.
   */
  claimTick(id: string, tick: string, firedAt: string): Promise<boolean>;
  /** What a claimed tick did: started a run, or skipped it (with the refusal). */
  recordFire(id: string, tick: string, result: FireResult): Promise<void>;
  /** The latest fires, newest first. */
  listFires(id: string, limit: number): Promise<ScheduleFire[]>;
  /** The latest fire of every schedule that has fired, by schedule id (one query). */
  latestFires(): Promise<Map<string, ScheduleFire>>;
  /** Notes the final status of a scheduled run on its fire. */
  setRunStatus(runId: string, status: RunStatus): Promise<void>;
  /** Counts one more failed run (atomically); returns the new count, undefined if no schedule. */
  addFailure(id: string): Promise<number | undefined>;
  /** Pauses an enabled schedule with a reason; false when it was not enabled. */
  pause(id: string, reason: string): Promise<boolean>;
}

function recordOf(row: Selectable<SchedulesTable>, box: SecretBox): ScheduleRecord {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    run: openRun(box, JSON.parse(row.run_request) as ScheduleRunRequest),
    enabled: Number(row.enabled) === 1,
    maxConsecutiveFailures: Number(row.max_consecutive_failures),
    consecutiveFailures: Number(row.consecutive_failures),
    pausedReason: row.paused_reason,
    activeSince: row.active_since,
    lastTick: row.last_tick,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fireFromRow(row: Selectable<ScheduleFiresTable>): ScheduleFire {
  return {
    tick: row.tick,
    firedAt: row.fired_at,
    outcome: row.outcome as ScheduleFire['outcome'],
    runId: row.run_id,
    error:
      row.error_code !== null
        ? { code: row.error_code, message: row.error_message ?? row.error_code }
        : null,
    runStatus: row.run_status as RunStatus | null,
  };
}

/** The schedule's run request with its env values sealed (or opened), like a run's. */
function sealRun(box: SecretBox, run: ScheduleRunRequest): ScheduleRunRequest {
  return run.env ? { ...run, env: sealEnv(box, run.env) } : run;
}
function openRun(box: SecretBox, run: ScheduleRunRequest): ScheduleRunRequest {
  return run.env ? { ...run, env: openEnv(box, run.env) } : run;
}

export function createScheduleRepository(
  db: Kysely<Database>,
  box: SecretBox = plainSecretBox,
): ScheduleRepository {
  const fromRow = (row: Selectable<SchedulesTable>): ScheduleRecord => recordOf(row, box);
  return {
    async insert(s) {
      await db
        .insertInto('schedules')
        .values({
          id: s.id,
          name: s.name,
          cron: s.cron,
          timezone: s.timezone,
          run_request: JSON.stringify(sealRun(box, s.run)),
          enabled: s.enabled ? 1 : 0,
          max_consecutive_failures: s.maxConsecutiveFailures,
          consecutive_failures: s.consecutiveFailures,
          paused_reason: s.pausedReason,
          active_since: s.activeSince,
          last_tick: s.lastTick,
          created_at: s.createdAt,
          updated_at: s.updatedAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('schedules')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      return (await db.selectFrom('schedules').selectAll().orderBy('id', 'asc').execute()).map(
        fromRow,
      );
    },
    async listEnabled() {
      const rows = await db
        .selectFrom('schedules')
        .selectAll()
        .where('enabled', '=', 1)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(fromRow);
    },
    async listClockRows(afterId, limit) {
      let query = db
        .selectFrom('schedules')
        .select(['id', 'cron', 'timezone', 'active_since', 'last_tick'])
        .where('enabled', '=', 1);
      if (afterId !== null) query = query.where('id', '>', afterId);
      const rows = await query.orderBy('id', 'asc').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        cron: r.cron,
        timezone: r.timezone,
        activeSince: r.active_since,
        lastTick: r.last_tick,
      }));
    },
    async update(id, patch) {
      const row: Updateable<SchedulesTable> = { updated_at: new Date().toISOString() };
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.cron !== undefined) row.cron = patch.cron;
      if (patch.timezone !== undefined) row.timezone = patch.timezone;
      if (patch.run !== undefined) row.run_request = JSON.stringify(sealRun(box, patch.run));
      if (patch.enabled !== undefined) row.enabled = patch.enabled ? 1 : 0;
      if (patch.maxConsecutiveFailures !== undefined)
        row.max_consecutive_failures = patch.maxConsecutiveFailures;
      if (patch.consecutiveFailures !== undefined)
        row.consecutive_failures = patch.consecutiveFailures;
      if (patch.pausedReason !== undefined) row.paused_reason = patch.pausedReason;
      if (patch.activeSince !== undefined) row.active_since = patch.activeSince;
      const result = await db
        .updateTable('schedules')
        .set(row)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    delete(id) {
      return db.transaction().execute(async (tx) => {
        await tx.deleteFrom('schedule_fires').where('schedule_id', '=', id).execute();
        const result = await tx.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      });
    },
    async claimTick(id, tick, firedAt) {
      // INSERT … SELECT: the row only goes in while the schedule exists and is enabled, and
      // the primary key lets one inserter win; the losers' insert does nothing.
      const result = await db
        .insertInto('schedule_fires')
        .columns(['schedule_id', 'tick', 'fired_at', 'outcome'])
        .expression((eb) =>
          eb
            .selectFrom('schedules')
            .select([
              'id',
              eb.val(tick).as('tick'),
              eb.val(firedAt).as('fired_at'),
              eb.val('pending').as('outcome'),
            ])
            .where('id', '=', id)
            .where('enabled', '=', 1),
        )
        .onConflict((oc) => oc.columns(['schedule_id', 'tick']).doNothing())
        .executeTakeFirst();
      const claimed = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      if (claimed) {
        await db
          .updateTable('schedules')
          .set({ last_tick: tick })
          .where('id', '=', id)
          .where((eb) => eb.or([eb('last_tick', 'is', null), eb('last_tick', '<', tick)]))
          .execute();
      }
      return claimed;
    },
    async recordFire(id, tick, result) {
      await db
        .updateTable('schedule_fires')
        .set({
          outcome: result.outcome,
          run_id: result.runId,
          error_code: result.errorCode,
          error_message: result.errorMessage,
        })
        .where('schedule_id', '=', id)
        .where('tick', '=', tick)
        .execute();
    },
    async listFires(id, limit) {
      const rows = await db
        .selectFrom('schedule_fires')
        .selectAll()
        .where('schedule_id', '=', id)
        .orderBy('tick', 'desc')
        .limit(limit)
        .execute();
      return rows.map(fireFromRow);
    },
    async latestFires() {
      // Each schedule's greatest tick, joined back to its row: (schedule_id, tick) is the key.
      const latest = db
        .selectFrom('schedule_fires')
        .select((eb) => ['schedule_id', eb.fn.max('tick').as('tick')])
        .groupBy('schedule_id')
        .as('latest');
      const rows = await db
        .selectFrom('schedule_fires as f')
        .innerJoin(latest, (join) =>
          join
            .onRef('latest.schedule_id', '=', 'f.schedule_id')
            .onRef('latest.tick', '=', 'f.tick'),
        )
        .selectAll('f')
        .execute();
      return new Map(rows.map((row) => [row.schedule_id, fireFromRow(row)]));
    },
    async setRunStatus(runId, status) {
      await db
        .updateTable('schedule_fires')
        .set({ run_status: status })
        .where('run_id', '=', runId)
        .execute();
    },
    async addFailure(id) {
      const row = await db
        .updateTable('schedules')
        .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
        .where('id', '=', id)
        .returning('consecutive_failures')
        .executeTakeFirst();
      return row ? Number(row.consecutive_failures) : undefined;
    },
    async pause(id, reason) {
      const result = await db
        .updateTable('schedules')
        .set({ enabled: 0, paused_reason: reason, updated_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('enabled', '=', 1)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
