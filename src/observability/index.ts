export {
  createLogger,
  createSilentLogger,
  redactPaths,
  redactUrl,
  type CreateLoggerOptions,
  type Logger,
} from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
