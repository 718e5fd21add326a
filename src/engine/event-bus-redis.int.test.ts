import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis } from '../../test/helpers/services.js';
import { testRunRecord } from '../../test/helpers/records.js';
import { sleep, waitFor } from '../../test/helpers/wait.js';
import type { RunEvent } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { openStore, type Store } from '../store/index.js';
import { createRedisEventBus, type RedisEventBus } from './event-bus-redis.js';
import { EventCursor } from './event-cursor.js';

const url = await requireRedis();

const event = (runId: string, seq: number, data: Record<string, unknown> = {}): RunEvent => ({
  runId,
  seq,
  type: 'output',
  ts: new Date().toISOString(),
  data: { stream: 'stdout', text: `line ${seq}\n`, ...data },
  raw: null,
});

describe.skipIf(!url)('Redis event bus (two nodes on a real Redis)', () => {
  const prefix = `patchbay-test-${randomBytes(4).toString('hex')}`;
  let a: RedisEventBus;
  let b: RedisEventBus;

  beforeAll(async () => {
    a = await createRedisEventBus({ url: url!, log: createSilentLogger(), prefix });
    b = await createRedisEventBus({ url: url!, log: createSilentLogger(), prefix });
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('delivers a batch published on one node to listeners on another, in order, per run', async () => {
    const got: RunEvent[] = [];
    const other: RunEvent[] = [];
    const off = b.subscribe('run_x', (events) => got.push(...events));
    const offOther = b.subscribe('run_y', (events) => other.push(...events));
    await b.whenSubscribed('run_x');
    await b.whenSubscribed('run_y');
    a.publish([event('run_x', 1), event('run_y', 1), event('run_x', 2)]);
    a.publish([event('run_x', 3, { text: 'ünïcødé ✓\n' })]);
    await waitFor(() => got.length === 3 && other.length === 1, 'the events');
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(got[2]!.data.text).toBe('ünïcødé ✓\n');
    expect(other.map((e) => e.runId)).toEqual(['run_y']);
    expect(b.subscriberCount('run_x')).toBe(1);
    off();
    offOther();
    expect(b.subscriberCount('run_x')).toBe(0);
    a.publish([event('run_x', 4)]);
    await sleep(100);
    expect(got).toHaveLength(3); // unsubscribed
  });

  it('reaches listeners on the publishing node too (one path for all)', async () => {
    const got: number[] = [];
    const off = a.subscribe('run_local', (events) => got.push(...events.map((e) => e.seq)));
    await a.whenSubscribed('run_local');
    a.publish([event('run_local', 1)]);
    await waitFor(() => got.length === 1, 'the echo');
    off();
    expect(got).toEqual([1]);
  });

  describe('an EventCursor on node B follows a run written on node A', () => {
    let dir: string;
    let store: Store;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'patchbay-bus-'));
      store = await openStore({ databaseUrl: join(dir, 'db.sqlite') });
    });
    afterAll(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gets every event once, history and live, through the terminal event', async () => {
      const runId = `run_${randomBytes(4).toString('hex')}`;
      await store.runs.insert(testRunRecord({}, { id: runId }));
      // Node A: events stored, then published (the EventWriter's order).
      const write = async (events: RunEvent[]): Promise<void> => {
        await store.events.append(events);
        a.publish(events);
      };
      await write([event(runId, 1), event(runId, 2)]);
      const cursor = new EventCursor(
        { bus: b, read: (id, after, limit) => store.events.list(id, after, limit) },
        runId,
        0,
      );
      const seen: number[] = [];
      const reading = (async () => {
        for (;;) {
          const batch = await cursor.next();
          if (!batch) return;
          seen.push(...batch.map((e) => e.seq));
        }
      })();
      for (let seq = 3; seq <= 40; seq++) await write([event(runId, seq)]);
      await write([
        {
          runId,
          seq: 41,
          type: 'status',
          ts: new Date().toISOString(),
          data: { status: 'succeeded' },
          raw: null,
        },
      ]);
      await reading;
      cursor.close();
      expect(seen).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    });
  });
});
