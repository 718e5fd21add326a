export {
  createLogger,
  createSilentLogger,
  redactPaths,
  redactUrl,
  type CreateLoggerOptions,
  type Logger,
} from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export {
  createTracing,
  spanIds,
  traceMethods,
  tracingOff,
  type TraceIds,
  type TraceSpan,
  type Tracing,
} from './tracing.js';
export {
  createErrorReporter,
  reportCrashes,
  reportingOff,
  type ErrorReporter,
} from './error-reporter.js';
export { scrubText, REDACTED } from './redact.js';
