import { injectServers } from '../../test/helpers/inject-server.js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait.js';
import type { Run, Schedule, ScheduleWithFires } from '../contracts/index.js';
import { newScheduleId } from '../store/index.js';

const servers = injectServers('pb-sched-clock-');
afterEach(servers.closeAll);

/** Crons that do not fire while the test runs: months away, and on a day other than today. */
function quietCron(i: number): string {
  const now = new Date();
  const month = ((now.getUTCMonth() + 4 + (i % 6)) % 12) + 1;
  const day = ((now.getUTCDate() + 5 + (i % 20)) % 28) + 1;
  return i % 2 === 0 ? `${i % 60} ${i % 24} ${day} ${month} *` : `${i % 60} 3 ${day} * *`;
}
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];

describe('the schedule clock', () => {
  it('computes ticks only for the schedule created, changed or fired, never all on each look', async () => {
    const server = await servers.boot();
    const { app, engine } = server;
    const stats = () => engine.schedules.stats();
    await waitFor(() => stats().looks >= 1, 'the first look at the store');
    const post = (i: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/schedules',
        payload: {
          cron: quietCron(i),
          timezone: ZONES[i % ZONES.length],
          run: { command: ['true'] },
        },
      });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const before = stats().cronComputations;
      const res = await post(i);
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json<Schedule>().id);
      // One: the check of the expression computes the next tick, which is the whole plan.
      expect(stats().cronComputations - before).toBe(1);
    }
    expect(stats().planned).toBe(30);

    // Several looks at the store (every 2 s) with nothing changed compute nothing.
    const settled = stats();
    await waitFor(() => stats().looks >= settled.looks + 3, 'three more looks', 20_000);
    expect(stats().cronComputations).toBe(settled.cronComputations);
    const list = await app.inject({ method: 'GET', url: '/v1/schedules' });
    expect(list.json<{ schedules: Schedule[] }>().schedules).toHaveLength(30);
    expect(stats().cronComputations).toBe(settled.cronComputations); // nextRunAt from the plan

    // A rename computes nothing; a new cron computes that one schedule.
    let before = stats().cronComputations;
    const patch = (id: string, payload: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/v1/schedules/${id}`, payload });
    expect((await patch(ids[0]!, { name: 'renamed' })).statusCode).toBe(200);
    expect(stats().cronComputations).toBe(before);
    expect((await patch(ids[1]!, { cron: quietCron(40) })).statusCode).toBe(200);
    expect(stats().cronComputations).toBe(before + 1);

    // Made by another server (written to the shared store): picked up by a look, computing one.
    before = stats().cronComputations;
    const at = new Date().toISOString();
    const elsewhere = newScheduleId();
    await server.store.schedules.insert({
      id: elsewhere,
      name: null,
      cron: quietCron(7),
      timezone: 'Asia/Kolkata',
      run: { command: ['true'] },
      enabled: true,
      maxConsecutiveFailures: 3,
      consecutiveFailures: 0,
      pausedReason: null,
      activeSince: at,
      lastTick: null,
      createdAt: at,
      updatedAt: at,
    });
    await waitFor(() => stats().planned === 31, 'the other server’s schedule to be planned');
    expect(stats().cronComputations).toBe(before + 1);
    // Paused and deleted elsewhere: dropped without computing.
    await server.store.schedules.pause(ids[2]!, 'paused elsewhere');
    await server.store.schedules.delete(elsewhere);
    await waitFor(() => stats().planned === 29, 'the paused and deleted ones to be dropped');
    expect(stats().cronComputations).toBe(before + 1);
  });

  it('fires from its plan: a per-second schedule computes a few ticks per fire', async () => {
    const { app, engine } = await servers.boot();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { cron: '*/1 * * * * *', run: { command: ['true'] } },
    });
    const id = created.json<Schedule>().id;
    for (let i = 0; i < 20; i++) {
      await app.inject({
        method: 'POST',
        url: '/v1/schedules',
        payload: { cron: quietCron(i), run: { command: ['true'] } },
      });
    }
    const from = engine.schedules.stats().cronComputations;
    const detail = await waitFor(async () => {
      const d = (
        await app.inject({ method: 'GET', url: `/v1/schedules/${id}` })
      ).json<ScheduleWithFires>();
      return d.fires.length >= 3 ? d : undefined;
    }, 'three fires');
    const fires = detail.fires.length;
    // Each fire plans its own schedule again (a tick or two); the 20 others never.
    expect(engine.schedules.stats().cronComputations - from).toBeLessThanOrEqual(3 * (fires + 1));
    await app.inject({ method: 'DELETE', url: `/v1/schedules/${id}` });
  });
});

describe('schedule env values', () => {
  it('never come back out of the API, and an update without env keeps them', async () => {
    const server = await servers.boot();
    const { app } = server;
    const secret = 's3cret-value-42';
    const created = await app.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: {
        cron: '0 3 * * *',
        run: { command: ['true'], env: { API_TOKEN: secret, MODE: 'nightly' } },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(secret);
    const schedule = created.json<Schedule>();
    expect(schedule.run.env).toEqual({ API_TOKEN: '[redacted]', MODE: '[redacted]' });
    const url = `/v1/schedules/${schedule.id}`;
    const stored = async () => (await server.store.schedules.get(schedule.id))!.run.env;

    for (const res of [
      await app.inject({ method: 'GET', url }),
      await app.inject({ method: 'GET', url: '/v1/schedules' }),
      await app.inject({ method: 'PATCH', url, payload: { name: 'renamed' } }),
    ]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain('nightly');
    }
    expect(await stored()).toEqual({ API_TOKEN: secret, MODE: 'nightly' });

    // A new run without env keeps the stored variables.
    const noEnv = await app.inject({
      method: 'PATCH',
      url,
      payload: { run: { command: ['sh', '-c', 'test "$API_TOKEN" = "$EXPECTED"'] } },
    });
    expect(noEnv.statusCode).toBe(200);
    expect(noEnv.json<Schedule>().run.env).toEqual({
      API_TOKEN: '[redacted]',
      MODE: '[redacted]',
    });
    expect(await stored()).toEqual({ API_TOKEN: secret, MODE: 'nightly' });

    // The marker keeps one value; a new value replaces; a name left out is removed.
    const merged = await app.inject({
      method: 'PATCH',
      url,
      payload: {
        cron: '*/1 * * * * *',
        run: {
          command: ['sh', '-c', 'test "$API_TOKEN" = "$EXPECTED"'],
          env: { API_TOKEN: '[redacted]', EXPECTED: secret },
        },
      },
    });
    expect(merged.statusCode).toBe(200);
    expect(merged.body).not.toContain(secret);
    expect(await stored()).toEqual({ API_TOKEN: secret, EXPECTED: secret });

    // The runs it starts still get the real values.
    const run = await waitFor(async () => {
      const runs = (
        await app.inject({ method: 'GET', url: `/v1/runs?scheduleId=${schedule.id}` })
      ).json<{ runs: Run[] }>().runs;
      return runs.find((r) => r.status === 'succeeded' || r.status === 'failed');
    }, 'a scheduled run to end');
    expect(run.status).toBe('succeeded');
    await app.inject({ method: 'PATCH', url, payload: { enabled: false } });
  });
});
