/**
 * The timeline of an optimizer run in Chrome's trace-event format (`trace.json` opens in
 * Perfetto or chrome://tracing): one complete event per step, grouped by stage.
 */
export interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'i';
  /** Microseconds since the trace started. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

export interface Trace {
  /** Times `fn` as one event of `stage`; the event records whether it threw. */
  span<T>(stage: string, name: string, fn: () => Promise<T>): Promise<T>;
  /** A point in time: an accepted or rejected candidate, say. */
  mark(stage: string, name: string, args?: Record<string, unknown>): void;
  toJSON(): TraceFile;
}

/** A trace as written: `otherData.startedAt` (epoch ms) lets traces of several processes merge. */
export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: { startedAt: number };
}

/** One timeline out of several processes' traces (each stage's), on the earliest's clock. */
export function mergeTraces(files: readonly TraceFile[]): TraceFile {
  const start = Math.min(...files.map((f) => f.otherData.startedAt));
  const traceEvents = files.flatMap((f) => {
    const shift = Math.round((f.otherData.startedAt - start) * 1000);
    return f.traceEvents.map((e) => ({ ...e, ts: e.ts + shift }));
  });
  return { traceEvents, displayTimeUnit: 'ms', otherData: { startedAt: start } };
}

export function createTrace(now: () => number = () => performance.now()): Trace {
  const origin = now();
  const startedAt = Date.now();
  const events: TraceEvent[] = [];
  const stages = new Map<string, number>();
  const tid = (stage: string): number => {
    if (!stages.has(stage)) stages.set(stage, stages.size + 1);
    return stages.get(stage)!;
  };
  const us = (t: number): number => Math.round((t - origin) * 1000);
  return {
    async span(stage, name, fn) {
      const start = now();
      let failed = false;
      try {
        return await fn();
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        events.push({
          name,
          cat: stage,
          ph: 'X',
          ts: us(start),
          dur: Math.max(0, us(now()) - us(start)),
          pid: 1,
          tid: tid(stage),
          ...(failed ? { args: { threw: true } } : {}),
        });
      }
    },
    mark(stage, name, args) {
      events.push({ name, cat: stage, ph: 'i', ts: us(now()), pid: 1, tid: tid(stage), args });
    },
    toJSON: () => ({ traceEvents: [...events], displayTimeUnit: 'ms', otherData: { startedAt } }),
  };
}
