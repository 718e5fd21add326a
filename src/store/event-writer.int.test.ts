/** EventWriter against a real SQLite store: batching, flushing, back-pressure and retries. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import { event, runRecord } from '../../test/helpers/store-contract.js';
import { EventWriter } from './event-writer.js';
import type { EventRepository } from './events-repository.js';
import { openStore, type Store } from './store.js';

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

  it('flushes on its own within flushMs, numbering each run after what is stored', async () => {
    const a = runRecord();
    const b = runRecord();
    await store.runs.insert(a);
    await store.runs.insert(b);
    await store.events.append([event(a.id, 1), event(a.id, 2)]);
    const published: [string, number][] = [];
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 5,
      onFlushed: (events) =>
        published.push(...events.map((e): [string, number] => [e.runId, e.seq])),
    });
    writer.track(a.id, 2);
    writer.track(a.id, 0); // tracking again does not reset the numbering
    writer.track(b.id, 0);
    expect(writer.append(a.id, 'output', { stream: 'stdout', text: 'x' }).seq).toBe(3);
    expect(writer.append(b.id, 'output', { stream: 'stdout', text: 'y' }).seq).toBe(1);
    expect(writer.append(a.id, 'status', { status: 'succeeded' }).seq).toBe(4);
    expect(writer.lastSeq(a.id)).toBe(4);
    expect(published).toEqual([]); // nothing is published before it is durable
    for (let i = 0; i < 100 && published.length < 3; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(published).toEqual([
      [a.id, 3],
      [b.id, 1],
      [a.id, 4],
    ]);
    expect((await store.events.list(a.id, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    writer.untrack(a.id);
    expect(writer.lastSeq(a.id)).toBeUndefined();
  });

  it('what flush() resolved for is durable: another connection reads it', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 60_000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 10; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: `${i}` });
    await writer.close();
    const other = await openStore({ databaseUrl: join(dir, 'db.sqlite'), migrate: false });
    try {
      expect(await other.events.maxSeq(run.id)).toBe(10);
      expect((await other.runs.get(run.id))!.lastSeq).toBe(10);
    } finally {
      await other.close();
    }
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
    let drained = 0;
    writer.onDrain(() => drained++);
    writer.onDrain(() => drained++);
    expect(drained).toBe(0);
    await writer.flush();
    expect(writer.saturated).toBe(false);
    expect(drained).toBe(2);
    // Not saturated: the callback still comes, asynchronously.
    let late = false;
    writer.onDrain(() => (late = true));
    expect(late).toBe(false);
    await Promise.resolve();
    expect(late).toBe(true);
  });

  it('retries a failed write without losing or duplicating events', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events, 1);
    const published: number[] = [];
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 1,
      onFlushed: (events) => published.push(...events.map((e) => e.seq)),
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 5; i++) writer.append(run.id, 'status', { status: 'running' });
    const flushed = writer.flush();
    // Appended while the failed batch waits for its retry: must come after it, in order.
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) writer.append(run.id, 'output', { stream: 'stdout', text: `${i}` });
    await flushed;
    await writer.flush();
    expect(calls.length).toBeGreaterThanOrEqual(1); // the successful write(s); the failure threw
    expect(published).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await store.events.list(run.id, 0, 100)).map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });
});
