export {
  createLogger,
  createSilentLogger,
  redactPaths,
  type CreateLoggerOptions,
  type Logger,
} from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { REDACTED, scrub, scrubText } from './redact.js';
export { activeTraceFields } from './trace-context.js';
export {
  createTracing,
  recordError,
  spanIds,
  traceMethods,
  tracingOff,
  tracesUrl,
  type CreateTracingOptions,
  type SpanOptions,
  type TraceIds,
  type TraceSpan,
  type Tracing,
} from './tracing.js';
export {
  createErrorReporter,
  parseDsn,
  reportCrashes,
  reportingOff,
  type ErrorReporter,
  type ReportContext,
} from './error-reporter.js';
