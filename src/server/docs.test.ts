import { afterEach, describe, expect, it } from 'vitest';
import { injectServers } from '../../test/helpers/inject-server.js';
import { docsContentSecurityPolicy } from './security.js';

const servers = injectServers('pb-docs-');
afterEach(servers.closeAll);

describe('/docs (the Swagger UI built on first use)', () => {
  it('serves the page, its assets and its redirect with the docs CSP', async () => {
    const { app } = await servers.boot();
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/docs/static/swagger-initializer.js');
    expect(page.headers['content-security-policy']).toBe(docsContentSecurityPolicy);
    expect(page.headers['x-content-type-options']).toBe('nosniff');

    const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/^application\/javascript/);
    expect(bundle.rawPayload.length).toBeGreaterThan(100_000);

    // The initializer points the UI at the server's own document (/docs/json).
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain("resolveUrl('./json')");

    const redirect = await app.inject({ method: 'GET', url: '/docs/static/index.html' });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('/docs/');
    expect(redirect.headers['content-type']).toBeUndefined();
  });

  it('answers a missing asset with ROUTE_NOT_FOUND in the one error body', async () => {
    const { app } = await servers.boot();
    const res = await app.inject({ method: 'GET', url: '/docs/static/nothing.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('serves the OpenAPI document as YAML too, without building the UI', async () => {
    const { app } = await servers.boot();
    const res = await app.inject({ method: 'GET', url: '/docs/yaml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-yaml/);
    expect(res.body).toMatch(/^openapi: 3\./m);
    expect(res.body).toContain('/v1/runs:');
  });

  it('asks for a token on the UI when tokens are set', async () => {
    const { app } = await servers.boot({ PATCHBAY_API_TOKENS: 'alpha' });
    const anonymous = await app.inject({ method: 'GET', url: '/docs/static/index.css' });
    expect(anonymous.statusCode).toBe(401);
    const authed = await app.inject({
      method: 'GET',
      url: '/docs/static/index.css',
      headers: { authorization: 'Bearer alpha' },
    });
    expect(authed.statusCode).toBe(200);
    expect(authed.headers['content-type']).toMatch(/^text\/css/);
  });
});
