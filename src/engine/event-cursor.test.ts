import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../contracts/index.js';
import { createLocalEventBus } from './event-bus.js';
import { EventCursor, type EventSource } from './event-cursor.js';

const RUN = 'run_1';

function ev(seq: number, terminal = false): RunEvent {
  return terminal
    ? { runId: RUN, seq, type: 'status', ts: '', data: { status: 'succeeded' }, raw: null }
    : {
        runId: RUN,
        seq,
        type: 'output',
        ts: '',
        data: { stream: 'stdout', text: `l${seq}` },
        raw: null,
      };
}

/** An in-memory store + the real bus: `emit` stores then publishes, like the EventWriter. */
function fakeSource() {
  const stored: RunEvent[] = [];
  const bus = createLocalEventBus();
  let reads = 0;
  const source: EventSource = {
    bus,
    async read(_runId, after, limit) {
      reads++;
      await new Promise((r) => setImmediate(r));
      return stored.filter((e) => e.seq > after).slice(0, limit);
    },
  };
  return {
    source,
    emit(events: RunEvent[], publish = true) {
      stored.push(...events);
      if (publish) bus.publish(events);
    },
    reads: () => reads,
  };
}

async function drain(cursor: EventCursor): Promise<number[]> {
  const seqs: number[] = [];
  for (;;) {
    const batch = await cursor.next();
    if (!batch) return seqs;
    seqs.push(...batch.map((e) => e.seq));
  }
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A small deterministic PRNG (LCG), so a failing interleaving can be replayed by seed. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('EventCursor', () => {
  it('replays from `after`, then follows live events to the terminal one', async () => {
    const f = fakeSource();
    f.emit(range(1, 5).map((s) => ev(s)));
    const cursor = new EventCursor(f.source, RUN, 2);
    const done = drain(cursor);
    await new Promise((r) => setTimeout(r, 5));
    f.emit([ev(6), ev(7)]);
    f.emit([ev(8, true), ev(9)]); // nothing after the terminal event is delivered
    expect(await done).toEqual(range(3, 8));
  });

  it('falls back to the store when its buffer overflows, without gaps or repeats', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0, { maxBufferedEvents: 5 });
    const done = drain(cursor);
    for (let s = 1; s <= 200; s += 10) f.emit(range(s, s + 9).map((n) => ev(n)));
    f.emit([ev(201, true)]);
    expect(await done).toEqual(range(1, 201));
    expect(f.reads()).toBeGreaterThan(1);
  });

  it('bounds its buffer by bytes too', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0, { maxBufferedBytes: 1000 });
    const big = (seq: number): RunEvent => ({
      ...ev(seq),
      data: { stream: 'stdout', text: 'x'.repeat(600) },
    });
    const done = drain(cursor);
    await tick(); // caught up and following live events
    const readsWhenLive = f.reads();
    // Two events of 600 characters, published before the subscriber runs: over 1000 bytes.
    f.emit([big(1)]);
    f.emit([big(2)]);
    await tick();
    expect(f.reads()).toBeGreaterThan(readsWhenLive); // it fell back to the store
    f.emit([big(3), ev(4, true)]);
    expect(await done).toEqual([1, 2, 3, 4]);
  });

  it('follows live events without reading the store while it keeps up', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0);
    const done = drain(cursor);
    await tick();
    const readsWhenLive = f.reads();
    for (let s = 1; s <= 50; s++) {
      f.emit([ev(s)]);
      await tick();
    }
    f.emit([ev(51, true)]);
    expect(await done).toEqual(range(1, 51));
    expect(f.reads()).toBe(readsWhenLive);
  });

  it('stops at a terminal event found while replaying the store', async () => {
    const f = fakeSource();
    f.emit([ev(1), ev(2), ev(3, true), ev(4)]);
    const cursor = new EventCursor(f.source, RUN, 0, { pageSize: 2 });
    expect(await cursor.next()).toHaveLength(2);
    expect((await cursor.next())!.map((e) => e.seq)).toEqual([3]);
    expect(await cursor.next()).toBeNull();
    expect(cursor.lastSeq).toBe(3);
  });

  it('ignores events published twice or out of order', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0);
    const done = drain(cursor);
    await tick();
    f.emit([ev(1), ev(2)]);
    f.source.bus.publish([ev(1), ev(2)]); // a duplicate delivery
    f.emit([ev(3)], false);
    f.emit([ev(4)]);
    f.source.bus.publish([ev(3)]); // late, after 4
    f.emit([ev(5, true)]);
    expect(await done).toEqual([1, 2, 3, 4, 5]);
  });

  it('a duplicate delivery is dropped without a store read', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0);
    const done = drain(cursor);
    await tick();
    f.emit([ev(1), ev(2)]);
    await tick();
    const reads = f.reads();
    f.source.bus.publish([ev(1), ev(2)]);
    await tick();
    f.emit([ev(3, true)]);
    expect(await done).toEqual([1, 2, 3]);
    expect(f.reads()).toBe(reads);
  });

  it('reads again when its buffer overflowed during a read that found nothing', async () => {
    const f = fakeSource();
    let duringRead: (() => void) | null = null;
    const source: EventSource = {
      bus: f.source.bus,
      async read(runId, after, limit) {
        const page = await f.source.read(runId, after, limit);
        const hook = duringRead;
        duringRead = null;
        hook?.();
        return page;
      },
    };
    const cursor = new EventCursor(source, RUN, 0, { maxBufferedEvents: 2 });
    // The whole run, terminal event included, is published while the first read (which
    // found nothing) is in flight, and overflows the buffer: nothing more will ever come.
    duringRead = () => f.emit([ev(1), ev(2), ev(3), ev(4, true)]);
    const stuck = new Promise((r) => setTimeout(() => r('stuck'), 1000));
    const result = await Promise.race([drain(cursor), stuck]);
    cursor.close();
    expect(result).toEqual([1, 2, 3, 4]);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'never repeats or skips a seq under a random interleaving (seed %i)',
    async (seed) => {
      const producer = prng(seed);
      const consumer = prng(seed * 7919);
      const f = fakeSource();
      const total = 400;
      const cursor = new EventCursor(f.source, RUN, 0, {
        maxBufferedEvents: 1 + Math.floor(producer() * 8),
        pageSize: 1 + Math.floor(producer() * 10),
      });
      const seen: number[] = [];
      const consuming = (async () => {
        for (;;) {
          const batch = await cursor.next();
          if (!batch) return;
          seen.push(...batch.map((e) => e.seq));
          if (consumer() < 0.3) await new Promise((r) => setTimeout(r, 0)); // a slow subscriber
        }
      })();
      let seq = 0;
      while (seq < total) {
        const batch: RunEvent[] = [];
        const size = 1 + Math.floor(producer() * 6);
        for (let i = 0; i < size && seq < total; i++) {
          seq++;
          batch.push(ev(seq, seq === total));
        }
        // Now and then an event is stored but never published (a lost pub/sub message);
        // the last batch always is, as the writer publishes every batch it stores.
        f.emit(batch, seq === total || producer() > 0.1);
        if (producer() < 0.5) await new Promise((r) => setImmediate(r));
      }
      await consuming;
      expect(seen).toEqual(range(1, total));
      expect(f.source.bus.subscriberCount(RUN)).toBe(1); // until closed
      cursor.close();
      expect(f.source.bus.subscriberCount(RUN)).toBe(0);
    },
  );

  it('fills a gap (an event stored but never published) from the store', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0);
    const done = drain(cursor);
    await new Promise((r) => setTimeout(r, 5));
    f.emit([ev(1)]);
    f.emit([ev(2)], false);
    f.emit([ev(3), ev(4, true)]);
    expect(await done).toEqual([1, 2, 3, 4]);
  });

  it('ends at once when opened as ended', async () => {
    const f = fakeSource();
    expect(await new EventCursor(f.source, RUN, 9, { ended: true }).next()).toBeNull();
  });

  it('close() during a store read ends the stream', async () => {
    const f = fakeSource();
    f.emit([ev(1), ev(2)]);
    const cursor = new EventCursor(f.source, RUN, 0);
    const pending = cursor.next(); // reading
    cursor.close();
    expect(await pending).toBeNull();
    expect(await cursor.next()).toBeNull();
  });

  it('close() unblocks a waiting next() and unsubscribes', async () => {
    const f = fakeSource();
    const cursor = new EventCursor(f.source, RUN, 0);
    const pending = cursor.next();
    await new Promise((r) => setTimeout(r, 5));
    cursor.close();
    expect(await pending).toBeNull();
    expect(f.source.bus.subscriberCount(RUN)).toBe(0);
  });
});
