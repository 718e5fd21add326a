import { isSpanContextValid, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';

/** What the process's context manager offers: the context active in this async flow. */
export interface ActiveContextSource {
  active(): Context;
}

/**
 * One context manager for the process, set when the first tracing starts: contexts are plain
 * values, so several servers in one process (tests) share it, and the logger reads it.
 */
let source: ActiveContextSource | undefined;

export function setActiveContextSource(next: ActiveContextSource): void {
  source = next;
}

export function activeContext(): Context {
  return source ? source.active() : ROOT_CONTEXT;
}

/**
 * `{ traceId, spanId }` of the active span for every log line (pino mixin). While no tracing
 * is on in this process it costs a comparison. Always a fresh object: pino merges into it.
 */
export function activeTraceFields(): { traceId?: string; spanId?: string } {
  if (!source) return {};
  const ctx = trace.getSpanContext(source.active());
  return ctx && isSpanContextValid(ctx) ? { traceId: ctx.traceId, spanId: ctx.spanId } : {};
}
