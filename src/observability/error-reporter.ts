import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { scrub } from './redact.js';
import { activeTraceFields } from './trace-context.js';

/**
 * Sends unexpected errors to a Sentry-compatible service (Sentry, GlitchTip, …) as envelopes
 * (https://develop.sentry.dev/sdk/data-model/envelopes/) over plain fetch: no SDK, no global
 * hooks, nothing at all without a DSN. Every event is scrubbed before it is serialized.
 */
export interface ErrorReporter {
  readonly enabled: boolean;
  /** Queues a report; never throws and never waits for the network. */
  report(err: unknown, context?: ReportContext): void;
  /** Waits (at most `timeoutMs`) for the reports in flight. */
  flush(timeoutMs?: number): Promise<void>;
}

export interface ReportContext {
  /** Short searchable values: error code, run id, route. */
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
  request?: { method: string; url: string; headers?: Record<string, unknown> };
}

export interface CreateErrorReporterOptions {
  dsn: string | undefined;
  version: string;
  /** Values to blank wherever they appear (the secret settings: see config's secretValues). */
  secrets: readonly string[];
  log: Logger;
  /** Most reports per minute; the rest are counted in the log, not sent (a crash loop). */
  perMinute?: number;
}

interface ParsedDsn {
  envelopeUrl: string;
  publicKey: string;
}

/** `https://<key>@host/<prefix>/<project>` → where envelopes go and the key that signs them. */
export function parseDsn(dsn: string): ParsedDsn {
  const url = new URL(dsn);
  const segments = url.pathname.split('/').filter(Boolean);
  const project = segments.pop();
  if (!url.username || !project) throw new Error('not a DSN: https://<key>@<host>/<project id>');
  const prefix = segments.length > 0 ? `/${segments.join('/')}` : '';
  return {
    envelopeUrl: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/`,
    publicKey: decodeURIComponent(url.username),
  };
}

/** Reporting off: what `createErrorReporter` returns without a DSN. */
export const reportingOff: ErrorReporter = {
  enabled: false,
  report: () => undefined,
  flush: () => Promise.resolve(),
};

/** Sentry lists frames oldest first, each with its file, function, line and column. */
function framesOf(stack: string | undefined) {
  const frames = [];
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    frames.push({
      function: m[1] ?? '<anonymous>',
      filename: m[2],
      lineno: Number(m[3]),
      colno: Number(m[4]),
      in_app: !m[2]!.includes('node_modules') && !m[2]!.startsWith('node:'),
    });
  }
  return frames.reverse();
}

/** The error and its causes, outermost last (Sentry's order for chained exceptions). */
function exceptionValues(err: unknown) {
  const values = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const e = current instanceof Error ? current : new Error(String(current));
    const code = (e as { code?: unknown }).code;
    values.unshift({
      type: typeof code === 'string' ? `${e.name} ${code}` : e.name,
      value: e.message,
      stacktrace: { frames: framesOf(e.stack) },
    });
    current = e.cause;
  }
  return values;
}

export function createErrorReporter(options: CreateErrorReporterOptions): ErrorReporter {
  if (!options.dsn) return reportingOff;
  const { envelopeUrl, publicKey } = parseDsn(options.dsn);
  const { log, secrets, version } = options;
  const perMinute = options.perMinute ?? 30;
  const inFlight = new Set<Promise<void>>();
  let windowStart = Date.now();
  let sentInWindow = 0;
  let skipped = 0;

  async function send(body: string): Promise<void> {
    try {
      const res = await fetch(envelopeUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-sentry-envelope',
          'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${publicKey}, sentry_client=patchbay/${version}`,
        },
        body,
        signal: AbortSignal.timeout(5000),
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) log.warn({ status: res.status }, 'error report refused by the DSN host');
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'could not send an error report');
    }
  }

  return {
    enabled: true,
    report(err, context = {}) {
      const now = Date.now();
      if (now - windowStart >= 60_000) {
        if (skipped > 0) log.warn({ skipped }, 'error reports skipped by the rate limit');
        windowStart = now;
        sentInWindow = 0;
        skipped = 0;
      }
      if (sentInWindow >= perMinute) {
        skipped++;
        return;
      }
      sentInWindow++;
      const eventId = randomBytes(16).toString('hex');
      const trace = activeTraceFields();
      const event = scrub(
        {
          event_id: eventId,
          timestamp: now / 1000,
          platform: 'node',
          level: 'error',
          logger: 'patchbay',
          release: `patchbay@${version}`,
          server_name: hostname(),
          exception: { values: exceptionValues(err) },
          tags: context.tags ?? {},
          extra: context.extra ?? {},
          ...(context.request ? { request: context.request } : {}),
          ...(trace.traceId
            ? { contexts: { trace: { trace_id: trace.traceId, span_id: trace.spanId } } }
            : {}),
        },
        secrets,
      );
      const payload = JSON.stringify(event);
      const header = JSON.stringify({ event_id: eventId, sent_at: new Date(now).toISOString() });
      const item = JSON.stringify({
        type: 'event',
        length: Buffer.byteLength(payload),
        content_type: 'application/json',
      });
      const p = send(`${header}\n${item}\n${payload}\n`);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    async flush(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...inFlight]),
        new Promise((r) => (timer = setTimeout(r, timeoutMs))),
      ]);
      clearTimeout(timer);
    },
  };
}

/**
 * Reports an unhandled rejection or uncaught exception, waits briefly for the report to
 * leave, then exits 1 as Node would have: the handler must not keep a broken process alive.
 * Returns the function that removes the handlers.
 */
export function reportCrashes(reporter: ErrorReporter, log: Logger): () => void {
  if (!reporter.enabled) return () => undefined;
  const crash = (origin: string) => (err: unknown) => {
    log.fatal({ err, origin }, 'crashing on an unhandled error');
    reporter.report(err, { tags: { origin } });
    void reporter.flush(2000).finally(() => process.exit(1));
  };
  const onRejection = crash('unhandledRejection');
  const onException = crash('uncaughtException');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
