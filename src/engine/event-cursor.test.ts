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
    f.emit([big(1), big(2), big(3)]);
    f.emit([ev(4, true)]);
    expect(await drain(cursor)).toEqual([1, 2, 3, 4]);
  });

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
