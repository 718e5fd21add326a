// Traces and error reports, checked on the wire: a local OTLP/HTTP receiver (JSON encoding),
// a local Sentry-compatible envelope receiver and a callback receiver, all on 127.0.0.1, and
// the real server (`patchbay serve`) pointed at them.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, waitFor, type ServerHandle } from './helpers.js';

interface Request {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP receiver on loopback that keeps every request and answers 200. */
async function startReceiver(): Promise<{
  url: string;
  requests: Request[];
  close(): Promise<void>;
}> {
  const requests: Request[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** Every span in the OTLP/JSON export requests received so far. */
function spansOf(requests: Request[]): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const r of requests) {
    const body = JSON.parse(r.body.toString('utf8')) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  }
  return spans;
}

const attr = (span: OtlpSpan, key: string) =>
  span.attributes?.find((a) => a.key === key)?.value.stringValue;

// Secrets the server knows; none may appear in what it sends out.
const TOKEN = 'tok-known-secret-7f3a';
const WEBHOOK_SECRET = 'whsec-known-secret-91bc';
const OTLP_KEY = 'otlp-known-secret-55de';
const SENTRY_KEY = 'sentrypublickey0123';

let otlp: Awaited<ReturnType<typeof startReceiver>>;
let sentry: Awaited<ReturnType<typeof startReceiver>>;
let hooks: Awaited<ReturnType<typeof startReceiver>>;
let server: ServerHandle;

beforeAll(async () => {
  [otlp, sentry, hooks] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  server = await startServer({
    token: TOKEN,
    env: {
      PATCHBAY_LOG_LEVEL: 'info',
      PATCHBAY_LOG_FORMAT: 'json',
      PATCHBAY_API_TOKENS: TOKEN,
      PATCHBAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      PATCHBAY_OTLP_ENDPOINT: otlp.url,
      // The callback receiver is on loopback.
      PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
      PATCHBAY_OTLP_HEADERS: `x-collector-key=${OTLP_KEY}`,
      PATCHBAY_OTLP_SERVICE_NAME: 'patchbay-e2e',
      PATCHBAY_SENTRY_DSN: `http://${SENTRY_KEY}@${sentry.url.slice('http://'.length)}/42`,
    },
  });
});
afterAll(async () => {
  await cleanupAll();
  await Promise.all([otlp?.close(), sentry?.close(), hooks?.close()]);
});

describe.sequential('observability', () => {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');

  it('continues the caller’s trace through the run, its spans, its logs and its callback', async () => {
    const res = await fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${parentSpanId}-01`,
        'x-request-id': 'req-observability-1',
      },
      body: JSON.stringify({
        command: ['sh', '-c', 'echo traced'],
        callbackUrl: `${hooks.url}/hook?token=cb-query-secret`,
      }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe('req-observability-1');
    const created = (await res.json()) as { id: string; traceId: string | null };
    expect(created.traceId).toBe(traceId);

    const finished = await server.api.waitForStatus(created.id);
    expect(finished.status).toBe('succeeded');
    expect((finished as unknown as { traceId: string }).traceId).toBe(traceId);

    // The callback carries a traceparent of the same trace (its own span, not the caller's).
    const hook = await waitFor(() => hooks.requests[0], 'the callback', 10_000);
    const tp = String(hook.headers.traceparent ?? '');
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(tp.split('-')[1]).toBe(traceId);
    expect(tp.split('-')[2]).not.toBe(parentSpanId);

    // Spans arrive over OTLP/HTTP (batched: poll), all in the caller's trace.
    const expected = [
      'POST /v1/runs',
      'run.create',
      'queue.enqueue',
      'run',
      'run.queued',
      'run.running',
      'agent.process',
      'run.finish',
      'callback.deliver',
      'store.runs.insert',
      'store.events.append',
    ];
    let seen: string[] = [];
    const spans = await waitFor(
      () => {
        const mine = spansOf(otlp.requests).filter((s) => s.traceId === traceId);
        seen = [...new Set(mine.map((s) => s.name))];
        return expected.every((n) => seen.includes(n)) ? mine : null;
      },
      `spans ${expected.join(', ')} of trace ${traceId}`,
      20_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; seen: ${seen.join(', ')}`);
    });
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    // The request's span is the child of the caller's; the run hangs under its creation.
    expect(byName('POST /v1/runs').parentSpanId).toBe(parentSpanId);
    expect(byName('run.create').parentSpanId).toBe(byName('POST /v1/runs').spanId);
    expect(byName('run').parentSpanId).toBe(byName('run.create').spanId);
    expect(byName('run.queued').parentSpanId).toBe(byName('run').spanId);
    expect(byName('callback.deliver').spanId).toBe(tp.split('-')[2]);
    for (const name of ['run', 'run.create', 'run.running']) {
      expect(attr(byName(name), 'patchbay.run.id')).toBe(created.id);
    }
    expect(attr(byName('POST /v1/runs'), 'patchbay.request_id')).toBe('req-observability-1');
    // The exporter sent the configured header; the resource names the service.
    expect(otlp.requests[0]!.path).toBe('/v1/traces');
    expect(otlp.requests[0]!.headers['x-collector-key']).toBe(OTLP_KEY);
    expect(otlp.requests[0]!.body.toString('utf8')).toContain('patchbay-e2e');
    const exported = Buffer.concat(otlp.requests.map((r) => r.body)).toString('utf8');
    for (const secret of [TOKEN, WEBHOOK_SECRET, OTLP_KEY, 'cb-query-secret']) {
      expect(exported).not.toContain(secret);
    }

    // Log lines written inside the trace carry its ids.
    const lines = server
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const queued = lines.find((l) => l.msg === 'run queued' && l.runId === created.id);
    expect(queued?.traceId).toBe(traceId);
    expect(queued?.spanId).toMatch(/^[0-9a-f]{16}$/);
    const started = lines.find((l) => l.msg === 'run started' && l.runId === created.id);
    expect(started?.traceId).toBe(traceId);
  });

  it('reports an unexpected error as a valid, scrubbed envelope', async () => {
    // A real failure inside the store: the runs table refuses inserts, mentioning a password.
    const db = new Database(join(server.dataDir, 'patchbay.db'));
    db.pragma('busy_timeout = 5000');
    db.exec(
      `CREATE TRIGGER planted_failure BEFORE INSERT ON runs BEGIN
         SELECT RAISE(ABORT, 'planted failure reaching postgres://app:dbpass-secret@db/x');
       END;`,
    );
    db.close();

    const res = await fetch(`${server.url}/v1/runs?token=${TOKEN}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${parentSpanId}-01`,
        cookie: 'session=cookie-secret',
      },
      body: JSON.stringify({
        command: ['sh', '-c', 'echo never'],
        env: { API_KEY: 'env-secret-value' },
      }),
    });
    // A query token is not how this API authenticates, but a client may send one anyway.
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERNAL_ERROR');

    const envelope = await waitFor(() => sentry.requests[0], 'an error report', 10_000);
    expect(envelope.path).toBe('/api/42/envelope/');
    expect(String(envelope.headers['x-sentry-auth'])).toMatch(
      new RegExp(`^Sentry sentry_version=7, sentry_key=${SENTRY_KEY}, sentry_client=patchbay/`),
    );
    expect(envelope.headers['content-type']).toBe('application/x-sentry-envelope');

    // Envelope: header line, item header line, payload of the announced length.
    const text = envelope.body.toString('utf8');
    const [headerLine, itemLine, payloadLine] = text.split('\n');
    const header = JSON.parse(headerLine!) as { event_id: string; sent_at: string };
    const item = JSON.parse(itemLine!) as { type: string; length: number };
    expect(item.type).toBe('event');
    expect(item.length).toBe(Buffer.byteLength(payloadLine!));
    const event = JSON.parse(payloadLine!) as {
      event_id: string;
      level: string;
      platform: string;
      exception: { values: { type: string; value: string; stacktrace: { frames: unknown[] } }[] };
      tags: Record<string, string>;
      contexts?: { trace?: { trace_id: string } };
    };
    expect(event.event_id).toBe(header.event_id);
    expect(event.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(event.level).toBe('error');
    expect(event.platform).toBe('node');
    expect(event.tags.code).toBe('INTERNAL_ERROR');
    const messages = event.exception.values.map((v) => v.value).join(' | ');
    expect(messages).toContain('planted failure');
    expect(event.exception.values.at(-1)!.stacktrace.frames.length).toBeGreaterThan(0);
    // The report joins the request's trace.
    expect(event.contexts?.trace?.trace_id).toBe(traceId);

    // No secret in the bytes that left, whatever field they might have been in.
    for (const secret of [
      TOKEN,
      WEBHOOK_SECRET,
      OTLP_KEY,
      SENTRY_KEY,
      'dbpass-secret',
      'cookie-secret',
      'env-secret-value',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
  });
});
