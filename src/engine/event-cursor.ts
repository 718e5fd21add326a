import { isTerminalStatus, type RunEvent, type RunStatus } from '../contracts/index.js';
import type { EventBus } from './event-bus.js';

export interface EventSource {
  bus: EventBus;
  /** Reads stored events after `after`, in seq order. */
  read(runId: string, after: number, limit: number): Promise<RunEvent[]>;
}

export interface EventCursorOptions {
  /** The stream is already over (the caller resumes at or after the terminal event). */
  ended?: boolean;
  /** Live events held in memory before the cursor falls back to the store. */
  maxBufferedEvents?: number;
  /** Approximate text bytes held in memory before falling back to the store. */
  maxBufferedBytes?: number;
  pageSize?: number;
}

function eventBytes(event: RunEvent): number {
  const text = event.data.text;
  return 64 + (typeof text === 'string' ? text.length : 0);
}

export function isTerminalEvent(event: RunEvent): boolean {
  return event.type === 'status' && isTerminalStatus(event.data.status as RunStatus);
}

/**
 * Follows one run's events from `after` to its terminal status event, for one subscriber.
 *
 * Live events are taken from the bus while the subscriber keeps up; a subscriber that falls
 * behind (its buffer overflows) or sees a gap in seq reads from the store instead, page by
 * page. Either way memory per subscriber is bounded and no event is skipped or repeated.
 */
export class EventCursor {
  private last: number;
  private buffer: RunEvent[] = [];
  private catchUp = true;
  private overflows = 0;
  private done = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly unsubscribe: () => void;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;
  private bufferedBytes = 0;
  private readonly pageSize: number;
  private subscribed: Promise<void> | null;

  constructor(
    private readonly source: EventSource,
    private readonly runId: string,
    after: number,
    options: EventCursorOptions = {},
  ) {
    this.last = after;
    this.done = options.ended ?? false;
    this.maxBuffered = options.maxBufferedEvents ?? 2000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 512 * 1024;
    // Output events are up to 64 KiB each: a page of 8 keeps one synchronous catch-up read
    // (SQLite + JSON.parse) to ~512 KiB, and a lagging subscriber's buffer to the same: under a
    // flood, less text in flight means less of it promoted to the old generation.
    this.pageSize = options.pageSize ?? 8;
    // Subscribe before the first read, so nothing published meanwhile is missed.
    this.unsubscribe = source.bus.subscribe(runId, (events) => this.onLive(events));
    this.subscribed = source.bus.whenSubscribed?.(runId) ?? null;
  }

  get lastSeq(): number {
    return this.last;
  }

  private onLive(events: RunEvent[]): void {
    if (this.closed) return;
    this.buffer.push(...events);
    for (const e of events) this.bufferedBytes += eventBytes(e);
    if (this.buffer.length > this.maxBuffered || this.bufferedBytes > this.maxBufferedBytes) {
      this.buffer = [];
      this.bufferedBytes = 0;
      this.catchUp = true;
      this.overflows++;
    }
    this.wake?.();
  }

  /** The next batch, or null once the terminal status event has been delivered. */
  async next(): Promise<RunEvent[] | null> {
    if (this.subscribed) {
      await this.subscribed.catch(() => undefined); // a failed subscription: the store still has it all
      this.subscribed = null;
    }
    for (;;) {
      if (this.done || this.closed) return null;
      if (this.catchUp) {
        const overflowsBefore = this.overflows;
        const page = await this.source.read(this.runId, this.last, this.pageSize);
        if (this.closed) return null;
        if (page.length > 0) return this.deliver(page);
        // Caught up. Anything published during the read is in the buffer, unless the
        // buffer overflowed meanwhile, in which case read again.
        if (this.overflows === overflowsBefore) this.catchUp = false;
        continue;
      }
      const fresh = this.buffer.filter((e) => e.seq > this.last);
      this.buffer = [];
      this.bufferedBytes = 0;
      if (fresh.length > 0) {
        if (fresh[0]!.seq !== this.last + 1) {
          this.catchUp = true; // a gap: the store has what we missed
          continue;
        }
        let end = 1;
        while (end < fresh.length && fresh[end]!.seq === fresh[end - 1]!.seq + 1) end++;
        if (end < fresh.length) {
          this.buffer = fresh.slice(end);
          for (const e of this.buffer) this.bufferedBytes += eventBytes(e);
        }
        return this.deliver(fresh.slice(0, end));
      }
      await new Promise<void>((resolve) => {
        this.wake = () => {
          this.wake = null;
          resolve();
        };
      });
    }
  }

  private deliver(events: RunEvent[]): RunEvent[] {
    const out: RunEvent[] = [];
    for (const e of events) {
      out.push(e);
      this.last = e.seq;
      if (isTerminalEvent(e)) {
        this.done = true;
        break;
      }
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.buffer = [];
    this.wake?.();
  }
}
