import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, type ServerHandle } from './helpers.js';

// One server for the file: these tests only read, apart from one short run for the metrics.
let server: ServerHandle;

beforeAll(async () => {
  server = await startServer();
});
afterAll(cleanupAll);

describe('health, readiness, metrics and docs', () => {
  it('GET /health answers exactly {status, service, version}', async () => {
    const res = await server.api.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['service', 'status', 'version']);
    expect(res.body).toEqual({ status: 'ok', service: 'patchbay', version: expect.any(String) });
    expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('GET /ready answers 200 once the store answers', async () => {
    const res = await server.api.request('GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('GET /metrics exposes run, event, HTTP and event-loop metrics in Prometheus text', async () => {
    const run = await server.api.createRun({ command: ['echo', 'metrics'], wait: true });
    expect(run.status).toBe('succeeded');
    await server.api.request('GET', '/health');

    const res = await server.api.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toContain('# TYPE patchbay_runs gauge');
    expect(text).toMatch(/^patchbay_runs\{status="succeeded"\} 1$/m);
    const written = /^patchbay_events_written_total (\d+)/m.exec(text);
    expect(written, 'patchbay_events_written_total sample').not.toBeNull();
    // queued, running, output, succeeded: at least four events were written.
    expect(Number(written![1])).toBeGreaterThanOrEqual(4);
    expect(text).toContain('# TYPE patchbay_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /^patchbay_http_request_duration_seconds_count\{[^}]*route="\/health"[^}]*\} \d+/m,
    );
    expect(text).toMatch(/^patchbay_nodejs_eventloop_lag_seconds \d/m);
  });

  it('GET /docs serves the HTML UI and /docs/json an OpenAPI document with /v1/runs', async () => {
    const ui = await fetch(`${server.url}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    expect((await ui.text()).toLowerCase()).toContain('<html');

    const res = await server.api.request('GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(String(res.body.openapi)).toMatch(/^3\./);
    expect(res.body.paths['/v1/runs']).toBeDefined();
    expect(Object.keys(res.body.paths['/v1/runs'])).toEqual(
      expect.arrayContaining(['get', 'post']),
    );
    expect(res.body.paths['/v1/runs/{id}/events']).toBeDefined();
  });
});

describe('request ids and security headers', () => {
  it('keeps a caller-supplied X-Request-ID and echoes it in error bodies', async () => {
    const res = await server.api.request('GET', '/v1/runs/run_missing', undefined, {
      'x-request-id': 'e2e-req-42',
    });
    expect(res.headers.get('x-request-id')).toBe('e2e-req-42');
    expect(res.status).toBe(404);
    expect(res.body.error.requestId).toBe('e2e-req-42');
  });

  it('generates a request id when none is given, a different one per request', async () => {
    const a = await server.api.request('GET', '/health');
    const b = await server.api.request('GET', '/health');
    const idA = a.headers.get('x-request-id');
    const idB = b.headers.get('x-request-id');
    expect(idA).toMatch(/^[A-Za-z0-9._:-]{8,}$/);
    expect(idB).toMatch(/^[A-Za-z0-9._:-]{8,}$/);
    expect(idA).not.toBe(idB);
  });

  it('replaces a malformed X-Request-ID instead of reflecting it', async () => {
    const res = await server.api.request('GET', '/health', undefined, {
      'x-request-id': 'bad id <script>',
    });
    expect(res.headers.get('x-request-id')).not.toContain(' ');
    expect(res.headers.get('x-request-id')).not.toContain('<');
  });

  it.each([
    ['/health', 200],
    ['/v1/runs', 200],
    ['/v1/nothing-here', 404],
  ])('sets the security headers on %s (%i)', async (path, status) => {
    const res = await server.api.request('GET', path);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an unknown route with ROUTE_NOT_FOUND in the one error body', async () => {
    const res = await server.api.request('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: expect.any(String),
        requestId: expect.any(String),
      },
    });
  });
});
