import { injectServers } from '../../test/helpers/inject-server.js';
import { afterEach, describe, expect, it } from 'vitest';

const servers = injectServers('pb-app-');
const boot = servers.boot;
afterEach(servers.closeAll);

describe('server app (inject)', () => {
  it('answers /health with the service and version', async () => {
    const { app } = await boot();
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', service: 'patchbay', version: '9.9.9' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('keeps a sane X-Request-ID and replaces a hostile one', async () => {
    const { app } = await boot();
    const kept = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'bad id with spaces\n' },
    });
    expect(replaced.headers['x-request-id']).not.toContain(' ');
    expect(replaced.json().error.requestId).toBe(replaced.headers['x-request-id']);
  });

  it('answers an unknown route with ROUTE_NOT_FOUND in the one error body', async () => {
    const { app } = await boot();
    const res = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(res.statusCode).toBe(404);
    const body = res.json();
    expect(body.error.code).toBe('ROUTE_NOT_FOUND');
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.requestId).toBe('string');
  });

  it('rejects an invalid body with VALIDATION_FAILED naming every offending field', async () => {
    const { app } = await boot();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { agent: 'shell', command: 'not-an-array', timeoutMs: -1, surprise: true },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    const paths = body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['command', 'timeoutMs']));
  });

  it('rejects malformed JSON and non-JSON bodies with stable codes', async () => {
    const { app } = await boot();
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { 'content-type': 'application/json' },
      payload: '{"agent":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
    const text = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a shell run without a command', async () => {
    const { app } = await boot();
    const res = await app.inject({ method: 'POST', url: '/v1/runs', payload: { agent: 'shell' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('RUN_COMMAND_REQUIRED');
  });

  it('requires a bearer token on every route when tokens are set', async () => {
    const { app } = await boot({ PATCHBAY_API_TOKENS: 'alpha,beta' });
    for (const url of [
      '/health',
      '/ready',
      '/metrics',
      '/v1/runs',
      '/docs/json',
      '/health/queue',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
      const wrong = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer gamma' },
      });
      expect(wrong.statusCode, url).toBe(401);
    }
    const ok = await app.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: 'Bearer beta' },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('rate-limits run creation per client with Retry-After', async () => {
    const { app } = await boot({ PATCHBAY_RUN_CREATE_RATE_LIMIT: '2' });
    const create = () =>
      app.inject({
        method: 'POST',
        url: '/v1/runs',
        payload: { agent: 'shell', command: ['true'] },
      });
    expect((await create()).statusCode).toBe(202);
    expect((await create()).statusCode).toBe(202);
    const limited = await create();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses to start on a public address without tokens', async () => {
    await expect(boot({ PATCHBAY_HOST: '0.0.0.0' })).rejects.toMatchObject({
      code: 'SERVER_UNSAFE_BIND',
    });
    const server = await boot({ PATCHBAY_HOST: '0.0.0.0', PATCHBAY_API_TOKENS: 'x' });
    expect(server.app).toBeDefined();
  });

  it('runs a command to the end with wait:true and reports its events', async () => {
    const { app } = await boot();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { agent: 'shell', command: ['sh', '-c', 'echo one; echo two >&2'], wait: true },
    });
    expect(res.statusCode).toBe(200);
    const run = res.json();
    expect(run.status).toBe('succeeded');
    expect(run.exitCode).toBe(0);
    const events = (await app.inject({ method: 'GET', url: `/v1/runs/${run.id}/events` })).json();
    expect(events.done).toBe(true);
    const types = events.events.map((e: { type: string }) => e.type);
    expect(types[0]).toBe('status');
    expect(types.at(-1)).toBe('status');
    const text = events.events
      .filter((e: { type: string }) => e.type === 'output')
      .map((e: { data: { stream: string; text: string } }) => `${e.data.stream}:${e.data.text}`)
      .join('');
    expect(text).toContain('stdout:one\n');
    expect(text).toContain('stderr:two\n');
  });

  it('serves the OpenAPI document with the runs routes', async () => {
    const { app } = await boot();
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/runs', '/v1/runs/{id}/events']),
    );
  });
});
