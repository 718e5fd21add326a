import type { Logger } from '../observability/index.js';
import type { ScheduleClockRow, ScheduleRepository } from '../store/index.js';
import { nextTick, type CronCounter, type CronSpec } from './cron.js';

/**
 * The schedule clock's plan: each enabled schedule's next fire, computed once and kept in a
 * min-heap keyed by that time. A schedule is planned again only when it fired, or when its row
 * changed in a way that moves its ticks (cron, time zone, `activeSince`), whichever server
 * changed it; everything else the clock does per pass is comparing strings.
 */

/** One planned schedule. `cursor`: ticks at or before it are not owed; `next`: the first after. */
export interface ClockEntry {
  readonly id: string;
  readonly spec: CronSpec;
  /** cron, time zone and activeSince: what, when it changes, moves the ticks. */
  readonly key: string;
  cursor: number;
  next: number;
  /** The store look (generation) that last saw it, or that it was planned in. */
  seen: number;
  /** Bumped at each re-plan: heap items of an older plan are dropped when they surface. */
  plan: number;
}

interface HeapItem {
  at: number;
  id: string;
  plan: number;
}

/** A binary min-heap on `at`. */
class TickHeap {
  private readonly items: HeapItem[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): HeapItem | undefined {
    return this.items[0];
  }

  push(item: HeapItem): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.at <= item.at) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = item;
  }

  pop(): HeapItem | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]!.at < a[l]!.at ? r : l;
      if (a[c]!.at >= last.at) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

export interface ScheduleClock {
  /** Schedules planned. */
  readonly size: number;
  /**
   * Plans one enabled schedule from its row (created, changed or resumed here, or seen in the
   * store), unless its plan still holds. `known` is a next tick already computed from `from`.
   */
  track(row: ScheduleClockRow, known?: { from: number; next: number }): void;
  /** Drops a schedule (deleted, disabled or paused). */
  forget(id: string): void;
  /** Starts a look at the store: rows passed to `track` until `endLook` count as seen. */
  beginLook(): void;
  /** Ends a look: drops the schedules it did not see (deleted or disabled elsewhere). */
  endLook(): void;
  /** The earliest planned fire, if any. */
  earliest(): number | undefined;
  /** The next schedule whose fire is at or before `now`, taken off the heap until re-planned. */
  takeDue(now: number): ClockEntry | undefined;
  /** After firing up to `cursor`: plans `next` (computed by the caller with the ticks). */
  advance(entry: ClockEntry, cursor: number, next: number): void;
  /** Plans another try at `at` without moving the cursor (the fire failed). */
  retry(entry: ClockEntry, at: number): void;
  /** The first tick after max(cursor, now): from the plan when it answers that, else computed. */
  nextRunAt(id: string, spec: CronSpec, cursor: number, now: number): number;
}

export const cursorOf = (row: Pick<ScheduleClockRow, 'activeSince' | 'lastTick'>): number =>
  Math.max(Date.parse(row.activeSince), row.lastTick ? Date.parse(row.lastTick) : 0);

export function createScheduleClock(counter: CronCounter): ScheduleClock {
  const entries = new Map<string, ClockEntry>();
  /** Answers for `nextRunAt` of schedules without an entry (BullMQ mode, before a look). */
  const answers = new Map<string, { key: string; from: number; next: number }>();
  const heap = new TickHeap();
  let look = 0;

  const keyOf = (row: Pick<ScheduleClockRow, 'cron' | 'timezone' | 'activeSince'>): string =>
    `${row.cron}\u0000${row.timezone}\u0000${row.activeSince}`;

  function schedule(entry: ClockEntry, at: number): void {
    entry.plan++;
    heap.push({ at, id: entry.id, plan: entry.plan });
  }

  return {
    get size() {
      return entries.size;
    },
    track(row, known) {
      const key = keyOf(row);
      const cursor = cursorOf(row);
      const entry = entries.get(row.id);
      if (entry && entry.key === key) {
        entry.seen = look;
        // Fired elsewhere past our next tick: plan from the store's cursor (one computation).
        if (cursor > entry.cursor) {
          entry.cursor = cursor;
          if (entry.next <= cursor) {
            entry.next = nextTick(entry.spec, cursor, counter);
            schedule(entry, entry.next);
          }
        }
        return;
      }
      const spec = { cron: row.cron, timezone: row.timezone };
      const next = known && known.from === cursor ? known.next : nextTick(spec, cursor, counter);
      const fresh: ClockEntry = { id: row.id, spec, key, cursor, next, seen: look, plan: 0 };
      entries.set(row.id, fresh);
      answers.delete(row.id);
      schedule(fresh, next);
    },
    forget(id) {
      entries.delete(id);
      answers.delete(id);
    },
    beginLook() {
      look++;
    },
    endLook() {
      for (const [id, entry] of entries) if (entry.seen < look) entries.delete(id);
    },
    earliest() {
      for (;;) {
        const top = heap.peek();
        if (!top) return undefined;
        if (entries.get(top.id)?.plan === top.plan) return top.at;
        heap.pop();
      }
    },
    takeDue(now) {
      const at = this.earliest();
      if (at === undefined || at > now) return undefined;
      return entries.get(heap.pop()!.id);
    },
    advance(entry, cursor, next) {
      if (entries.get(entry.id) !== entry) return; // forgotten while it fired
      entry.cursor = Math.max(entry.cursor, cursor);
      entry.next = next;
      schedule(entry, next);
    },
    retry(entry, at) {
      if (entries.get(entry.id) === entry) schedule(entry, at);
    },
    nextRunAt(id, spec, cursor, now) {
      const from = Math.max(cursor, now);
      const key = `${spec.cron}\u0000${spec.timezone}`;
      const entry = entries.get(id);
      // nextTick(x) is the same for every x in [from, next): a plan from an earlier cursor
      // answers for any later instant before its next tick.
      if (
        entry &&
        entry.spec.cron === spec.cron &&
        entry.spec.timezone === spec.timezone &&
        entry.cursor <= from &&
        from < entry.next
      )
        return entry.next;
      const answer = answers.get(id);
      if (answer && answer.key === key && answer.from <= from && from < answer.next)
        return answer.next;
      const next = nextTick(spec, from, counter);
      if (!entry) {
        if (answers.size >= 100_000) answers.clear();
        answers.set(id, { key, from, next });
      }
      return next;
    },
  };
}

/** Slices of clock work: `breathe` yields to the event loop once a slice is over `sliceMs`. */
export function createSlices(sliceMs: number): { reset(): void; breathe(): Promise<void> } {
  let start = performance.now();
  return {
    reset() {
      start = performance.now();
    },
    async breathe() {
      if (performance.now() - start < sliceMs) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      start = performance.now();
    },
  };
}

/** Rows read per query when the clock looks at the store. */
const LOOK_PAGE = 500;

/**
 * One look at the store: reads the enabled schedules a page at a time, plans only the new and
 * changed ones, then drops the ones it did not see (deleted or disabled by another server).
 */
export async function lookAtStore(
  clock: ScheduleClock,
  schedules: Pick<ScheduleRepository, 'listClockRows'>,
  options: { log: Logger; slices: ReturnType<typeof createSlices>; stopped(): boolean },
): Promise<void> {
  clock.beginLook();
  let after: string | null = null;
  for (;;) {
    const rows = await schedules.listClockRows(after, LOOK_PAGE);
    for (const row of rows) {
      try {
        clock.track(row);
      } catch (err) {
        options.log.error({ err, scheduleId: row.id }, 'schedule could not be planned');
      }
      await options.slices.breathe();
    }
    if (rows.length < LOOK_PAGE || options.stopped()) break;
    after = rows[rows.length - 1]!.id;
  }
  if (!options.stopped()) clock.endLook();
}
