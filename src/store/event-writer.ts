import type { RunEvent, RunEventType } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { EventRepository } from './events-repository.js';

export interface EventWriterOptions {
  repository: EventRepository;
  log: Logger;
  /** Longest wait before pending events are written (0: next turn of the event loop). */
  flushMs: number;
  /** Pending events that trigger an immediate flush. */
  maxBatch?: number;
  /** Pending bytes above which producers are told to pause (back-pressure). */
  highWaterBytes?: number;
  /** Called after a batch is durable, in seq order: the hook for live fan-out. */
  onFlushed: (events: RunEvent[]) => void;
}

/**
 * Batches run events into one transaction per flush, so a child printing as fast as it can
 * costs one write per batch rather than per chunk, and the event loop stays responsive.
 * Seq numbers are assigned here, in memory, by the one process that owns the run.
 */
export class EventWriter {
  private readonly opts: Required<Omit<EventWriterOptions, 'log'>> & { log: Logger };
  private readonly seqByRun = new Map<string, number>();
  private pending: RunEvent[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private flushing: Promise<void> | null = null;
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  private consecutiveFailures = 0;

  constructor(options: EventWriterOptions) {
    this.opts = { maxBatch: 1000, highWaterBytes: 2 * 1024 * 1024, ...options };
  }

  /** Starts numbering a run's events after `lastSeq` (what the store already has). */
  track(runId: string, lastSeq: number): void {
    if (!this.seqByRun.has(runId)) this.seqByRun.set(runId, lastSeq);
  }

  /** Stops numbering a run; call after its last event was flushed. */
  untrack(runId: string): void {
    this.seqByRun.delete(runId);
  }

  lastSeq(runId: string): number | undefined {
    return this.seqByRun.get(runId);
  }

  append(runId: string, type: RunEventType, data: Record<string, unknown>, raw?: string): RunEvent {
    const seq = (this.seqByRun.get(runId) ?? 0) + 1;
    this.seqByRun.set(runId, seq);
    // `raw: null` rather than absent: live events look exactly like ones read back.
    const event: RunEvent = {
      runId,
      seq,
      type,
      ts: new Date().toISOString(),
      data,
      raw: raw ?? null,
    };
    this.pending.push(event);
    this.pendingBytes += estimateBytes(event);
    this.schedule();
    return event;
  }

  /**
   * Stores one event together with a change of the caller's (`write`, one transaction; see
   * RunRepository.transitionWithEvent): everything pending is flushed first so the event comes
   * last. Resolves with the event once stored (not yet published: see `publish`), or null
   * when `write` declined.
   */
  async commit(
    runId: string,
    type: RunEventType,
    data: Record<string, unknown>,
    write: (event: RunEvent) => Promise<boolean>,
  ): Promise<RunEvent | null> {
    await this.flush();
    const seq = (this.seqByRun.get(runId) ?? 0) + 1;
    this.seqByRun.set(runId, seq);
    const event: RunEvent = { runId, seq, type, ts: new Date().toISOString(), data, raw: null };
    return (await write(event)) ? event : null;
  }

  /** Hands stored events to the listeners (what a flush does after writing). */
  publish(events: RunEvent[]): void {
    this.opts.onFlushed(events);
  }

  /** True while producers should stop reading their sources. */
  get saturated(): boolean {
    return this.pendingBytes >= this.opts.highWaterBytes;
  }

  /** Calls `cb` once the pending bytes fall below the high-water mark. */
  onDrain(cb: () => void): void {
    if (!this.saturated) {
      queueMicrotask(cb);
      return;
    }
    this.drainWaiters.push(cb);
  }

  /**
   * Writes everything pending now, in transactions of at most ~512 KiB with a turn of the
   * event loop between them (SQLite writes are synchronous: one 10 MiB batch would stall
   * /health for over 100 ms). Resolves when all of it is durable.
   */
  async flush(): Promise<void> {
    this.clearTimer();
    for (;;) {
      while (this.flushing) await this.flushing;
      if (this.pending.length === 0) return;
      let bytes = 0;
      let take = 0;
      while (take < this.pending.length && (take === 0 || bytes < MAX_BATCH_BYTES)) {
        bytes += estimateBytes(this.pending[take]!);
        take++;
      }
      const batch = this.pending.slice(0, take);
      this.pending = this.pending.slice(take);
      const writing = this.write(batch, bytes);
      this.flushing = writing;
      try {
        await writing;
      } finally {
        if (this.flushing === writing) this.flushing = null;
      }
      if (this.pending.length > 0) await new Promise<void>((r) => setImmediate(r));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async write(batch: RunEvent[], bytes: number): Promise<void> {
    try {
      await this.opts.repository.append(batch);
      this.consecutiveFailures = 0;
      this.pendingBytes = Math.max(0, this.pendingBytes - bytes);
      this.opts.onFlushed(batch);
      this.releaseWaiters();
    } catch (err) {
      // Keep the events (and the back-pressure) and try again: losing them is worse.
      this.consecutiveFailures++;
      this.opts.log.error({ err, events: batch.length }, 'event batch write failed; will retry');
      this.pending = batch.concat(this.pending);
      const delay = Math.min(5000, 50 * 2 ** this.consecutiveFailures);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private releaseWaiters(): void {
    if (this.saturated || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.timer || this.closed) {
      if (this.closed && !this.flushing) void this.flush();
      return;
    }
    const run = (): void => {
      this.timer = null;
      this.flush().catch((err: unknown) => this.opts.log.error({ err }, 'event flush failed'));
    };
    if (this.pending.length >= this.opts.maxBatch || this.opts.flushMs === 0) {
      this.timer = setImmediate(run);
    } else {
      this.timer = setTimeout(run, this.opts.flushMs);
    }
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = null;
  }
}

const MAX_BATCH_BYTES = 512 * 1024;

function estimateBytes(event: RunEvent): number {
  const text = event.data.text;
  return 128 + (typeof text === 'string' ? text.length : 0) + (event.raw?.length ?? 0);
}
