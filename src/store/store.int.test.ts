import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '../../test/helpers/services.js';
import type { RunEvent } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { EventWriter } from './event-writer.js';
import type { EventRepository } from './events-repository.js';
import { migrateDown, migrateToLatest, migrations, migrationStatus } from './migrator.js';
import { newRunRecord, type RunRecord } from './records.js';
import { openStore, type Store } from './store.js';

function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    ...newRunRecord({
      agent: 'shell',
      command: ['echo', 'hi'],
      prompt: null,
      workdir: null,
      env: { A: '1' },
      pty: false,
      timeoutMs: 1000,
      idleTimeoutMs: 500,
      maxOutputBytes: 5 * 1024 ** 4, // beyond 32 bits: bigint columns must round-trip
      outputPolicy: 'truncate',
      callbackUrl: null,
    }),
    ...overrides,
  };
}

function event(runId: string, seq: number, text = `line ${seq}`): RunEvent {
  return {
    runId,
    seq,
    type: 'output',
    ts: new Date().toISOString(),
    data: { stream: 'stdout', text },
    raw: null,
  };
}

interface Dialect {
  name: string;
  open(): Promise<{ url: string; cleanup(): Promise<void> } | null>;
}

const dialects: Dialect[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'pb-store-'));
      return {
        url: join(dir, 'patchbay.db'),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const admin = await requirePostgres();
      if (!admin) return null;
      // A fresh database per run: parallel runs and leftovers never collide.
      const name = `patchbay_test_${process.pid}_${Date.now()}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        async cleanup() {
          const c = new pg.Client({ connectionString: admin });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await c.end();
        },
      };
    },
  },
];

describe.each(dialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    store = await openStore({ databaseUrl: opened.url });
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
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

  it('migrates down and up again', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const db = store.handle.db as never;
    expect((await migrationStatus(db)).every((m) => m.executedAt !== null)).toBe(true);
    const all = Object.keys(migrations);
    // Down one at a time, newest first, until nothing is applied.
    for (const name of [...all].reverse()) expect(await migrateDown(db)).toEqual([name]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);
    await expect(store.runs.get('x')).rejects.toThrow();
    expect(await migrateToLatest(db)).toEqual(all);
    expect(await store.runs.get('x')).toBeUndefined();
  });
});

describe('EventWriter', () => {
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pb-writer-'));
    store = await openStore({ databaseUrl: join(dir, 'db.sqlite') });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function counting(repo: EventRepository, failFirst = 0) {
    let failures = failFirst;
    const calls: number[] = [];
    const wrapped: EventRepository = {
      ...repo,
      async append(events) {
        if (failures > 0) {
          failures--;
          throw new Error('disk on fire');
        }
        calls.push(events.length);
        return repo.append(events);
      },
    };
    return { wrapped, calls };
  }

  it('batches appends into few transactions and publishes in seq order', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events);
    const published: number[] = [];
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 5,
      onFlushed: (events) => published.push(...events.map((e) => e.seq)),
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 1000; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: `l${i}` });
    await writer.flush();
    expect(calls.length).toBeLessThan(5);
    expect(published).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await store.events.maxSeq(run.id)).toBe(1000);
  });

  it('splits a big backlog into bounded transactions', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events);
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 1000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    const text = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40; i++) writer.append(run.id, 'output', { stream: 'stdout', text });
    await writer.flush();
    expect(calls.length).toBeGreaterThanOrEqual(4); // 2.5 MiB in <= ~512 KiB pieces
    expect(calls.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('signals back-pressure above the high-water mark and drains after a flush', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 10_000,
      highWaterBytes: 100_000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 10; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: 'y'.repeat(20_000) });
    expect(writer.saturated).toBe(true);
    let drained = false;
    writer.onDrain(() => (drained = true));
    await writer.flush();
    expect(writer.saturated).toBe(false);
    expect(drained).toBe(true);
  });

  it('retries a failed write without losing or duplicating events', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped } = counting(store.events, 1);
    const published: number[] = [];
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 1,
      onFlushed: (events) => published.push(...events.map((e) => e.seq)),
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 5; i++) writer.append(run.id, 'status', { status: 'running' });
    await writer.flush();
    await writer.flush();
    expect(published).toEqual([1, 2, 3, 4, 5]);
    expect((await store.events.list(run.id, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
