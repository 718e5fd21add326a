/**
 * The store contract for what takes and fires work (the worker registry, the store's job
 * queue, schedules), against SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import { newScheduleId } from './ids.js';
import type { ScheduleRecord } from './schedules-repository.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('keeps the worker registry: register, heartbeat, stop, list by recency, purge', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const base = {
      role: 'worker' as const,
      hostname: 'h1',
      pid: 42,
      version: '1.0.0',
      queues: ['default', 'gpu'],
      concurrency: 3,
      state: 'active' as const,
      running: [],
      stoppedAt: null,
    };
    const id = `inst_reg_${Date.now()}`;
    await store.workers.register({
      ...base,
      id,
      startedAt: '2026-01-01T00:00:00.000Z',
      heartbeatAt: '2026-01-01T00:00:00.000Z',
    });
    expect(
      await store.workers.heartbeat(id, {
        state: 'draining',
        running: ['run_a', 'run_b'],
        at: '2026-01-01T00:00:10.000Z',
      }),
    ).toBe(true);
    expect(await store.workers.get(id)).toMatchObject({
      queues: ['default', 'gpu'],
      concurrency: 3,
      state: 'draining',
      running: ['run_a', 'run_b'],
      heartbeatAt: '2026-01-01T00:00:10.000Z',
    });
    // Not stopped: listed however old its heartbeat is (it may be lost, which callers decide).
    expect((await store.workers.list('2030-01-01T00:00:00.000Z')).map((w) => w.id)).toContain(id);
    await store.workers.markStopped(id, '2026-01-01T00:00:20.000Z');
    expect(await store.workers.get(id)).toMatchObject({ state: 'stopped', running: [] });
    expect((await store.workers.list('2030-01-01T00:00:00.000Z')).map((w) => w.id)).not.toContain(
      id,
    );
    expect((await store.workers.list('2026-01-01T00:00:00.000Z')).map((w) => w.id)).toContain(id);
    expect(await store.workers.purge('2026-01-01T00:00:30.000Z')).toBeGreaterThanOrEqual(1);
    expect(await store.workers.get(id)).toBeUndefined();
    expect(
      await store.workers.heartbeat(id, {
        state: 'active',
        running: [],
        at: '2026-01-02T00:00:00Z',
      }),
    ).toBe(false);
  });

  it('purges old completed jobs and keeps failed ones (the dead-letter list)', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const job = (id: string) => ({
      id,
      queue: 'purge',
      name: 'n',
      data: { id },
      state: 'waiting' as const,
      priority: 1,
      seq: id,
      runAt: '2020-01-01T00:00:00.000Z',
      attemptsMade: 0,
      maxAttempts: 1,
      backoffMs: 1,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
      createdAt: '2020-01-01T00:00:00.000Z',
      finishedAt: null,
    });
    for (const id of ['purge/a', 'purge/b', 'purge/c']) await store.jobs.insert(job(id));
    const old = '2020-01-01T00:00:01.000Z';
    const a = await store.jobs.claim('purge', 'w', old, '2020-01-01T00:01:00.000Z');
    await store.jobs.complete(a!.id, 'w', old);
    const b = await store.jobs.claim('purge', 'w', old, '2020-01-01T00:01:00.000Z');
    await store.jobs.release(b!.id, 'w', { state: 'failed', runAt: old, lastError: 'x', now: old });
    expect(await store.jobs.deleteCompletedBefore('2021-01-01T00:00:00.000Z')).toBe(1);
    expect(await store.jobs.get('purge/a')).toBeUndefined();
    expect((await store.jobs.get('purge/b'))?.state).toBe('failed');
    expect((await store.jobs.get('purge/c'))?.state).toBe('waiting');
  });

  it('stores schedules; one of several concurrent claimers fires a tick', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const at = '2026-01-01T00:00:00.000Z';
    const schedule: ScheduleRecord = {
      id: newScheduleId(),
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      run: { command: ['echo', 'hi'], env: { A: '1' } },
      enabled: true,
      maxConsecutiveFailures: 3,
      consecutiveFailures: 0,
      pausedReason: null,
      activeSince: at,
      lastTick: null,
      createdAt: at,
      updatedAt: at,
    };
    await store.schedules.insert(schedule);
    expect(await store.schedules.get(schedule.id)).toEqual(schedule);
    expect((await store.schedules.listEnabled()).map((s) => s.id)).toContain(schedule.id);

    const tick = '2026-01-02T02:00:00.000Z';
    // Ten claimers on separate connections' worth of concurrency: exactly one wins.
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => store.schedules.claimTick(schedule.id, tick, at)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await store.schedules.get(schedule.id))?.lastTick).toBe(tick);
    // An older tick claimed late does not move last_tick back.
    expect(await store.schedules.claimTick(schedule.id, '2026-01-01T02:00:00.000Z', at)).toBe(true);
    expect((await store.schedules.get(schedule.id))?.lastTick).toBe(tick);

    const run = runRecord({ scheduleId: schedule.id });
    await store.runs.insert(run);
    await store.runs.insert(runRecord());
    expect(
      (await store.runs.list({ limit: 10, scheduleId: schedule.id })).map((r) => r.id),
    ).toEqual([run.id]);
    await store.schedules.recordFire(schedule.id, tick, {
      outcome: 'started',
      runId: run.id,
      errorCode: null,
      errorMessage: null,
    });
    await store.schedules.setRunStatus(run.id, 'failed');
    await store.schedules.recordFire(schedule.id, '2026-01-01T02:00:00.000Z', {
      outcome: 'skipped',
      runId: null,
      errorCode: 'BUDGET_EXCEEDED',
      errorMessage: 'over budget',
    });
    expect(await store.schedules.listFires(schedule.id, 10)).toEqual([
      {
        tick,
        firedAt: at,
        outcome: 'started',
        runId: run.id,
        error: null,
        runStatus: 'failed',
      },
      {
        tick: '2026-01-01T02:00:00.000Z',
        firedAt: at,
        outcome: 'skipped',
        runId: null,
        error: { code: 'BUDGET_EXCEEDED', message: 'over budget' },
        runStatus: null,
      },
    ]);

    expect(await store.schedules.addFailure(schedule.id)).toBe(1);
    expect(await store.schedules.addFailure(schedule.id)).toBe(2);
    expect(await store.schedules.pause(schedule.id, 'too many')).toBe(true);
    expect(await store.schedules.pause(schedule.id, 'again')).toBe(false);
    const paused = await store.schedules.get(schedule.id);
    expect(paused).toMatchObject({
      enabled: false,
      pausedReason: 'too many',
      consecutiveFailures: 2,
    });
    // A disabled schedule's ticks cannot be claimed.
    expect(await store.schedules.claimTick(schedule.id, '2026-01-03T02:00:00.000Z', at)).toBe(
      false,
    );
    expect(await store.schedules.update(schedule.id, { enabled: true, pausedReason: null })).toBe(
      true,
    );
    expect(await store.schedules.update('sched_nope', { enabled: true })).toBe(false);

    expect(await store.schedules.delete(schedule.id)).toBe(true);
    expect(await store.schedules.delete(schedule.id)).toBe(false);
    expect(await store.schedules.listFires(schedule.id, 10)).toEqual([]);
    // Its runs stay, still naming it.
    expect((await store.runs.get(run.id))?.scheduleId).toBe(schedule.id);
  });
});
