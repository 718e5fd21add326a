/**
 * Logs, traces (OpenTelemetry) and error reports (Sentry).
 */
import { z } from 'zod';
import { setting } from './spec.js';

export const observabilitySettings = {
  logLevel: setting({
    key: 'logLevel',
    env: 'PATCHBAY_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    defaultText: 'info',
    description: 'Minimum level of log lines.',
  }),
  logFormat: setting({
    key: 'logFormat',
    env: 'PATCHBAY_LOG_FORMAT',
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    defaultText: 'auto',
    description: '`auto` prints JSON, or pretty lines when stderr is a terminal.',
  }),
  otlpEndpoint: setting({
    key: 'otlpEndpoint',
    env: 'PATCHBAY_OTLP_ENDPOINT',
    schema: z.url({ protocol: /^https?$/ }).optional(),
    defaultText: '(unset: tracing off, at no cost)',
    description:
      'OpenTelemetry collector to send traces to over OTLP/HTTP (JSON), e.g. http://127.0.0.1:4318 (`/v1/traces` is appended). Spans cover API requests, runs (queued wait, running, finish), store calls, agent processes and callbacks; runs get a `traceId` and log lines `traceId`/`spanId`.',
  }),
  otlpHeaders: setting({
    key: 'otlpHeaders',
    env: 'PATCHBAY_OTLP_HEADERS',
    schema: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? Object.fromEntries(
                v
                  .split(',')
                  .map((pair) => pair.trim())
                  .filter(Boolean)
                  .map((pair) => {
                    const at = pair.indexOf('=');
                    return at < 1
                      ? [pair, '']
                      : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
                  }),
              )
            : v,
        z.record(
          z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'),
          z.string().min(1, 'name=value pairs'),
        ),
      )
      .default({}),
    defaultText: '(none)',
    description:
      'Headers sent with every trace export, as comma-separated `name=value` pairs (e.g. `x-api-key=…` of a hosted collector).',
    secret: true,
  }),
  otlpServiceName: setting({
    key: 'otlpServiceName',
    env: 'PATCHBAY_OTLP_SERVICE_NAME',
    schema: z.string().min(1).default('patchbay'),
    defaultText: 'patchbay',
    description: 'The `service.name` of the traces this process sends.',
  }),
  sentryDsn: setting({
    key: 'sentryDsn',
    env: 'PATCHBAY_SENTRY_DSN',
    schema: z
      .url({ protocol: /^https?$/ })
      .refine((u) => {
        const parsed = new URL(u);
        return parsed.username !== '' && /\/\d+$/.test(parsed.pathname);
      }, 'a Sentry DSN: https://<key>@<host>/<project id>')
      .optional(),
    defaultText: '(unset: errors are only logged)',
    description:
      'Sentry-compatible DSN to report unexpected errors to (`INTERNAL_ERROR` and other `unexpected` codes, runs failing unexpectedly, unhandled rejections). Reports are scrubbed of tokens, keys, passwords, authorization headers, URL credentials and run environments before they leave.',
    secret: true,
  }),
};
