import {
  destination as pinoDestination,
  pino,
  stdTimeFunctions,
  type DestinationStream,
  type Logger,
} from 'pino';
import { redactPaths, redactUrl } from './redact.js';
import { activeTraceFields } from './trace-context.js';

export type { Logger } from 'pino';
export { redactPaths, redactUrl } from './redact.js';

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  headers?: Record<string, unknown>;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** The request as logged: the same fields as Fastify's own serializer, with the URL redacted. */
function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    host: req.host ?? req.headers?.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

export interface CreateLoggerOptions {
  level?: string;
  /** `auto` picks pretty output when the destination is a terminal. */
  format?: 'auto' | 'json' | 'pretty';
  /** Defaults to stderr, so stdout stays free for the CLI's user-facing output. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * The one logger factory. Modules receive a logger (or a child carrying `runId` /
 * `requestId`) through their options; nothing creates its own.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty =
    options.format === 'pretty' ||
    (options.format !== 'json' && !options.destination && process.stderr.isTTY === true);
  const common = {
    level,
    base: { service: 'patchbay', ...options.base },
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { req: serializeRequest },
    // The active span's ids on every line (nothing while tracing is off).
    mixin: activeTraceFields,
    timestamp: stdTimeFunctions.isoTime,
  };
  if (pretty && !options.destination) {
    return pino({
      ...common,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino(common, options.destination ?? pinoDestination({ dest: 2, sync: false }));
}

/** A logger that writes nothing: for tests and library use. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
