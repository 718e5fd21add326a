/** The store contract for run events and callback deliveries, against SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../contracts/index.js';
import { storeDialects } from '../../test/helpers/services.js';
import { event, runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('appends events with a per-run seq and advances last_seq', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const a = runRecord();
    const b = runRecord();
    await store.runs.insert(a);
    await store.runs.insert(b);
    await store.events.append([event(a.id, 1), event(b.id, 1), event(a.id, 2), event(a.id, 3)]);
    expect((await store.events.list(a.id, 1, 10)).map((e) => e.seq)).toEqual([2, 3]);
    expect((await store.events.list(a.id, 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    expect(await store.events.maxSeq(a.id)).toBe(3);
    expect(await store.events.maxSeq(b.id)).toBe(1);
    expect((await store.runs.get(a.id))!.lastSeq).toBe(3);
    // The same seq twice is refused: events are append-only.
    await expect(store.events.append([event(a.id, 3)])).rejects.toThrow();
    expect(await store.events.maxSeq(a.id)).toBe(3);
    // A batch is one transaction: with one bad event, none of it is kept.
    await expect(store.events.append([event(a.id, 4), event(a.id, 3)])).rejects.toThrow();
    expect(await store.events.maxSeq(a.id)).toBe(3);
    expect((await store.runs.get(a.id))!.lastSeq).toBe(3);
    // Data and raw lines round-trip.
    const [first] = await store.events.list(a.id, 0, 1);
    expect({ ...first, ts: '' }).toEqual({ ...event(a.id, 1), ts: '' });
  });

  it('keeps the raw line and knows nothing of unknown runs', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const withRaw: RunEvent = { ...event(run.id, 1, 'ünïcødé ✓'), raw: '{"type":"x"}' };
    await store.events.append([withRaw]);
    expect(await store.events.list(run.id, 0, 10)).toEqual([withRaw]);
    expect(await store.events.list('run_missing', 0, 10)).toEqual([]);
    expect(await store.events.maxSeq('run_missing')).toBe(0);
  });

  it('writes a large batch (over the bound-parameter limit) in one call', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const batch = Array.from({ length: 1500 }, (_, i) => event(run.id, i + 1));
    await store.events.append(batch);
    expect(await store.events.maxSeq(run.id)).toBe(1500);
  });

  it('records callback deliveries in order', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    await store.callbacks.record({
      runId: run.id,
      url: 'http://x',
      attempt: 1,
      outcome: 'retrying',
      httpStatus: 500,
      error: null,
    });
    await store.callbacks.record({
      runId: run.id,
      url: 'http://x',
      attempt: 2,
      outcome: 'delivered',
      httpStatus: 200,
      error: null,
    });
    const list = await store.callbacks.listForRun(run.id);
    expect(list.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'delivered'],
    ]);
  });
});
