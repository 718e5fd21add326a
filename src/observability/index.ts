export {
  createLogger,
  createSilentLogger,
  redactPaths,
  type CreateLoggerOptions,
  type Logger,
} from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
