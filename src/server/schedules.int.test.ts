import { injectServers } from '../../test/helpers/inject-server.js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait.js';
import type { Run, Schedule, ScheduleWithFires } from '../contracts/index.js';

const servers = injectServers('pb-sched-');
const boot = (): ReturnType<typeof servers.boot> => servers.boot();
afterEach(servers.closeAll);

const EVERY_SECOND = '*/1 * * * * *';

describe('schedules API', () => {
  it('refuses bad cron expressions, zones and run requests with stable codes', async () => {
    const { app } = await boot();
    const post = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/schedules', payload });
    const fourFields = await post({ cron: '* * * *', run: { command: ['true'] } });
    expect(fourFields.statusCode).toBe(400);
    expect(fourFields.json().error).toMatchObject({
      code: 'SCHEDULE_INVALID',
      details: { fields: [{ path: 'cron' }] },
    });
    const badZone = await post({ cron: '0 9 * * *', timezone: 'Europe/Nowhere', run: {} });
    expect(badZone.json().error).toMatchObject({
      code: 'SCHEDULE_INVALID',
      details: { fields: [{ path: 'timezone' }] },
    });
    const badRun = await post({ cron: '0 9 * * *', run: { command: 'true', wait: true } });
    expect(badRun.statusCode).toBe(400);
    expect(badRun.json().error.code).toBe('VALIDATION_FAILED');
    for (const [method, url] of [
      ['GET', '/v1/schedules/sched_nope'],
      ['DELETE', '/v1/schedules/sched_nope'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('SCHEDULE_NOT_FOUND');
    }
    const patch = await app.inject({
      method: 'PATCH',
      url: '/v1/schedules/sched_nope',
      payload: { enabled: false },
    });
    expect(patch.json().error.code).toBe('SCHEDULE_NOT_FOUND');
  });

  it('fires runs that name the schedule, and stops when disabled and deleted', async () => {
    const { app } = await boot();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: {
        name: 'tick',
        cron: EVERY_SECOND,
        timezone: 'Europe/Berlin',
        run: { command: ['true'] },
      },
    });
    expect(created.statusCode).toBe(201);
    const schedule = created.json<Schedule>();
    expect(schedule).toMatchObject({
      name: 'tick',
      enabled: true,
      timezone: 'Europe/Berlin',
      maxConsecutiveFailures: 3,
      consecutiveFailures: 0,
      pausedReason: null,
      lastRunAt: null,
    });
    expect(Date.parse(schedule.nextRunAt!)).toBeGreaterThan(Date.now() - 1000);

    const runsOf = async (): Promise<Run[]> =>
      (await app.inject({ method: 'GET', url: `/v1/runs?scheduleId=${schedule.id}` })).json<{
        runs: Run[];
      }>().runs;
    await waitFor(
      async () => (await runsOf()).filter((r) => r.status === 'succeeded').length >= 2,
      'two scheduled runs',
    );
    const off = await app.inject({
      method: 'PATCH',
      url: `/v1/schedules/${schedule.id}`,
      payload: { enabled: false },
    });
    expect(off.json<Schedule>()).toMatchObject({ enabled: false, nextRunAt: null });
    // Once every run has ended, each fire names its run and the run's status: one run a tick.
    const detail = await waitFor(async () => {
      const d = (
        await app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })
      ).json<ScheduleWithFires>();
      return d.fires.every((f) => f.runStatus === 'succeeded') ? d : undefined;
    }, 'fires to note their runs succeeded');
    const runs = await runsOf();
    expect(runs.every((r) => r.scheduleId === schedule.id)).toBe(true);
    expect(detail.lastRunAt).toBe(detail.fires[0]!.tick);
    expect(detail.fires.every((f) => f.outcome === 'started')).toBe(true);
    expect(detail.fires.map((f) => f.runId).sort()).toEqual(runs.map((r) => r.id).sort());

    const list = (await app.inject({ method: 'GET', url: '/v1/schedules' })).json<{
      schedules: Schedule[];
    }>();
    expect(list.schedules.map((s) => s.id)).toEqual([schedule.id]);
    // The list says what the latest tick did, as the schedule's own fires do.
    expect(list.schedules[0]!.lastFire).toEqual(detail.fires[0]);
    expect(list.schedules[0]!.lastFire).toMatchObject({ outcome: 'started', error: null });
    const del = await app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}` });
    expect(del.statusCode).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })).statusCode,
    ).toBe(404);
    // The runs it made stay.
    expect((await runsOf()).length).toBe(runs.length);
  });

  it('pauses itself after N failed runs in a row and starts afresh when enabled', async () => {
    const { app } = await boot();
    const schedule = (
      await app.inject({
        method: 'POST',
        url: '/v1/schedules',
        payload: { cron: EVERY_SECOND, run: { command: ['false'] }, maxConsecutiveFailures: 2 },
      })
    ).json<Schedule>();
    const get = async () =>
      (
        await app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })
      ).json<ScheduleWithFires>();
    const paused = await waitFor(async () => {
      const s = await get();
      return s.enabled ? undefined : s;
    }, 'the schedule to pause itself');
    expect(paused.pausedReason).toMatch(/^2 consecutive runs failed; last: run_\w+ failed/);
    expect(paused.consecutiveFailures).toBe(2);
    expect(paused.nextRunAt).toBeNull();

    const on = await app.inject({
      method: 'PATCH',
      url: `/v1/schedules/${schedule.id}`,
      payload: { enabled: true, run: { command: ['true'] } },
    });
    expect(on.json<Schedule>()).toMatchObject({
      enabled: true,
      pausedReason: null,
      consecutiveFailures: 0,
    });
    await waitFor(
      async () => (await get()).fires.some((f) => f.runStatus === 'succeeded'),
      'a succeeded run',
    );
    const s = await get();
    expect(s.enabled).toBe(true);
    expect(s.consecutiveFailures).toBe(0);
    await app.inject({
      method: 'PATCH',
      url: `/v1/schedules/${schedule.id}`,
      payload: { enabled: false },
    });
  });

  it('records a tick whose run is refused as skipped, without counting it as a failure', async () => {
    const { app } = await boot();
    // Valid when created, refused at each tick by createRun: no run may start at all.
    const budget = await app.inject({
      method: 'PUT',
      url: '/v1/budgets/global',
      payload: { maxConcurrentRuns: 0 },
    });
    expect(budget.statusCode).toBe(200);
    const schedule = (
      await app.inject({
        method: 'POST',
        url: '/v1/schedules',
        payload: { cron: EVERY_SECOND, run: { command: ['true'] }, maxConsecutiveFailures: 1 },
      })
    ).json<Schedule>();
    const detail = await waitFor(async () => {
      const d = (
        await app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })
      ).json<ScheduleWithFires>();
      // A fire is `pending` from its claim until createRun has answered: wait for settled ones.
      return d.fires.filter((f) => f.outcome !== 'pending').length >= 2 ? d : undefined;
    }, 'two skipped fires');
    const settled = detail.fires.filter((f) => f.outcome !== 'pending');
    expect(settled[0]).toMatchObject({
      outcome: 'skipped',
      runId: null,
      error: { code: 'BUDGET_EXCEEDED' },
    });
    expect(detail).toMatchObject({ enabled: true, consecutiveFailures: 0, pausedReason: null });
    // The list shows the skip and why, without opening the schedule.
    const listed = await waitFor(async () => {
      const { schedules } = (await app.inject({ method: 'GET', url: '/v1/schedules' })).json<{
        schedules: Schedule[];
      }>();
      const last = schedules[0]?.lastFire;
      return last && last.outcome !== 'pending' ? last : undefined;
    }, 'a settled last fire in the list');
    expect(listed).toMatchObject({ outcome: 'skipped', error: { code: 'BUDGET_EXCEEDED' } });
    await app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}` });
  });
});
