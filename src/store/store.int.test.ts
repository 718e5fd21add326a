/** The store contract for runs (and migrations), against SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { event, runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import { testRunRecord } from '../../test/helpers/records.js';
import { migrateDown, migrateToLatest, migrations, migrationStatus } from './migrator.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('stores and reads back a run, bigints and JSON included', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord({ owner: { instanceId: 'i', hostname: 'h', pid: 1, bootId: null } });
    await store.runs.insert(run);
    expect(await store.runs.get(run.id)).toEqual(run);
    expect(await store.runs.get('run_missing')).toBeUndefined();
  });

  it('lists newest first with status filters and a cursor', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = runRecord({ status: i % 2 === 0 ? 'succeeded' : 'failed' });
      ids.push(run.id);
      await store.runs.insert(run);
    }
    const page1 = await store.runs.list({ limit: 2, statuses: ['succeeded', 'failed'] });
    const page2 = await store.runs.list({
      limit: 2,
      statuses: ['succeeded', 'failed'],
      before: page1[1]!.id,
    });
    const seen = [...page1, ...page2].map((r) => r.id);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toEqual([...seen].sort().reverse());
    const failed = await store.runs.list({ limit: 50, statuses: ['failed'] });
    expect(failed.every((r) => r.status === 'failed')).toBe(true);
    expect(failed.map((r) => r.id)).toEqual(expect.arrayContaining([ids[1], ids[3]]));
  });

  it('pages through every run exactly once, newest first (ids sort by creation)', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    // A status no other test uses, so this test sees only its own runs.
    const inserted: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = runRecord({ status: 'interrupted' });
      inserted.push(run.id);
      await store.runs.insert(run);
    }
    expect([...inserted].sort()).toEqual(inserted);
    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.runs.list({ limit: 3, statuses: ['interrupted'], before });
      if (page.length === 0) break;
      pages.push(page.map((r) => r.id));
      before = page.at(-1)!.id;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...inserted].reverse());
    expect((await store.runs.listByStatus(['interrupted'])).map((r) => r.id)).toEqual(inserted);
  });

  it('transitionWithEvent stores the change and its event together, or neither', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = testRunRecord({}, { status: 'running' });
    await store.runs.insert(run);
    await store.events.append([
      {
        runId: run.id,
        seq: 1,
        type: 'status',
        ts: run.createdAt,
        data: { status: 'queued' },
        raw: null,
      },
    ]);
    const ended = (seq: number) => ({
      runId: run.id,
      seq,
      type: 'status' as const,
      ts: new Date().toISOString(),
      data: { status: 'succeeded' },
      raw: null,
    });
    expect(
      await store.runs.transitionWithEvent(run.id, ['running'], { status: 'succeeded' }, ended(2)),
    ).toBe(true);
    // A second writer loses the compare-and-set and adds no event.
    expect(
      await store.runs.transitionWithEvent(run.id, ['running'], { status: 'failed' }, ended(3)),
    ).toBe(false);
    expect((await store.events.list(run.id, 0, 10)).map((e) => [e.seq, e.data.status])).toEqual([
      [1, 'queued'],
      [2, 'succeeded'],
    ]);
    expect(await store.runs.get(run.id)).toMatchObject({ status: 'succeeded', lastSeq: 2 });
  });

  it('counts runs by status', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const before = await store.runs.countByStatus();
    for (const status of ['paused', 'paused', 'timed_out'] as const)
      await store.runs.insert(runRecord({ status }));
    const after = await store.runs.countByStatus();
    expect((after.paused ?? 0) - (before.paused ?? 0)).toBe(2);
    expect((after.timed_out ?? 0) - (before.timed_out ?? 0)).toBe(1);
    expect(typeof after.paused).toBe('number');
    const sum = (c: Record<string, number | undefined>) =>
      Object.values(c).reduce<number>((n, v) => n + (v ?? 0), 0);
    expect(sum(after) - sum(before)).toBe(3);
  });

  it('update() changes only the fields given', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    await store.runs.update(run.id, { exitCode: 3, errorMessage: 'boom', outputBytes: 2 ** 40 });
    await store.runs.update(run.id, {});
    expect(await store.runs.get(run.id)).toEqual({
      ...run,
      exitCode: 3,
      errorMessage: 'boom',
      outputBytes: 2 ** 40,
    });
  });

  it('transition() is a compare-and-set on the status', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    expect(
      await store.runs.transition(run.id, ['queued'], { status: 'running', pid: 42, pgid: 42 }),
    ).toBe(true);
    expect(await store.runs.transition(run.id, ['queued'], { status: 'cancelled' })).toBe(false);
    const after = await store.runs.get(run.id);
    expect(after).toMatchObject({ status: 'running', pid: 42, pgid: 42 });
    const counts = await store.runs.countByStatus();
    expect(counts.running).toBeGreaterThanOrEqual(1);
    // Any of several source statuses; an unknown id never matches.
    expect(
      await store.runs.transition(run.id, ['paused', 'running'], { status: 'succeeded' }),
    ).toBe(true);
    expect(await store.runs.transition('run_missing', ['queued'], { status: 'running' })).toBe(
      false,
    );
    expect((await store.runs.get(run.id))!.status).toBe('succeeded');
  });

  it('transition() lets exactly one of several concurrent writers win', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord({ status: 'running' });
    await store.runs.insert(run);
    const outcomes = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
    const won = await Promise.all(
      outcomes.map((status) => store.runs.transition(run.id, ['running'], { status })),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await store.runs.get(run.id))!.status).toBe(outcomes[won.indexOf(true)]);
  });

  it('migrates down and up again', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const db = store.handle.db as never;
    const status = await migrationStatus(db);
    expect(status.map((m) => m.name)).toEqual(Object.keys(migrations));
    expect(status.every((m) => m.executedAt !== null)).toBe(true);
    expect(await migrateToLatest(db)).toEqual([]); // nothing pending
    const all = Object.keys(migrations);
    // Down one at a time, newest first, until nothing is applied.
    for (const name of [...all].reverse()) expect(await migrateDown(db)).toEqual([name]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);
    await expect(store.runs.get('x')).rejects.toThrow();
    expect(await migrateDown(db)).toEqual([]); // nothing left to revert
    expect(await migrateToLatest(db)).toEqual(all);
    expect(await store.runs.get('x')).toBeUndefined();
    const run = runRecord();
    await store.runs.insert(run);
    await store.events.append([event(run.id, 1)]);
    expect(await store.events.maxSeq(run.id)).toBe(1);
  });
});
