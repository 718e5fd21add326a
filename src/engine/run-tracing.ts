import type { TraceIds, TraceSpan, Tracing } from '../observability/index.js';
import { spanIds } from '../observability/index.js';
import type { RunRecord } from '../store/index.js';

/** The span a run was created in, as stored with it: where its later spans hang. */
export function runTraceParent(
  record: Pick<RunRecord, 'traceId' | 'traceSpanId'>,
): TraceIds | null {
  return record.traceId && record.traceSpanId
    ? { traceId: record.traceId, spanId: record.traceSpanId }
    : null;
}

/** The trace fields a new run record stores: the ids of the span creating it. */
export function traceFields(span: TraceSpan): Pick<RunRecord, 'traceId' | 'traceSpanId'> {
  const ids = spanIds(span);
  return { traceId: ids?.traceId ?? null, traceSpanId: ids?.spanId ?? null };
}

export const runAttributes = (record: RunRecord) => ({
  'patchbay.run.id': record.id,
  'patchbay.run.agent': record.agent,
  'patchbay.run.kind': record.kind,
  'patchbay.run.queue': record.queue,
  'patchbay.run.attempt': record.attempt,
});

/**
 * The spans of one execution of a run, in the process that takes it: `run` (from the run's
 * creation to its end, child of the span that created it, wherever that was), `run.queued`
 * (creation to now: the wait in the queue) and `run.running` (returned; the caller makes it
 * active around the execution and ends both).
 */
export function startRunSpans(
  tracing: Tracing,
  record: RunRecord,
): { run: TraceSpan; running: TraceSpan } {
  const attributes = runAttributes(record);
  const createdAt = new Date(record.createdAt);
  const run = tracing.startSpan('run', {
    parent: runTraceParent(record),
    startTime: createdAt,
    attributes,
  });
  const running = tracing.withSpan(run, () => {
    tracing.startSpan('run.queued', { startTime: createdAt, attributes }).end();
    return tracing.startSpan('run.running', { attributes });
  });
  return { run, running };
}
