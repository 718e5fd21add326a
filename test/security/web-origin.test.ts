/**
 * A web page must not be able to drive a default install (no tokens, loopback): a cross-site
 * WebSocket and a DNS-rebinding `Host` both once ran `id` on the host. Driven the way a browser
 * would: raw HTTP with the headers a browser sends, and the `ws` client with an `Origin`.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, tryWebSocket, type ServerHandle } from '../e2e/helpers.js';

interface RawResponse {
  status: number;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let us set Host). */
function raw(
  server: ServerHandle,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const codeOf = (r: RawResponse): string | undefined =>
  (JSON.parse(r.body) as { error?: { code?: string } }).error?.code;

const runCount = async (server: ServerHandle): Promise<number> =>
  (await server.api.request<{ runs: unknown[] }>('GET', '/v1/runs?limit=200')).body.runs.length;

const ATTACK = { command: ['sh', '-c', 'id > pwned'] };

describe('default install (no tokens): web pages cannot reach the API', () => {
  let server: ServerHandle;
  let ws: string;
  beforeAll(async () => {
    server = await startServer({ env: { PATCHBAY_ALLOWED_HOSTS: 'patchbay.lan' } });
    ws = `ws://127.0.0.1:${server.port}/v1/ws`;
  });
  afterAll(cleanupAll);

  it('refuses a WebSocket upgrade from another site, before anything runs', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null']) {
      const outcome = await tryWebSocket(ws, { origin });
      expect(outcome.open, origin).toBe(false);
      if (outcome.open) continue;
      expect(outcome.status, origin).toBe(403);
      expect(JSON.parse(outcome.body).error.code).toBe('ORIGIN_NOT_ALLOWED');
    }
    // Another port on loopback is another origin (another local web app).
    const otherPort = await tryWebSocket(ws, { origin: `http://127.0.0.1:${server.port + 1}` });
    expect(otherPort.open).toBe(false);
  });

  it("accepts the server's own origin and clients that send no Origin (CLI, SDKs)", async () => {
    const cases: Record<string, string>[] = [{ origin: `http://127.0.0.1:${server.port}` }, {}];
    for (const headers of cases) {
      const outcome = await tryWebSocket(ws, headers);
      expect(outcome.open, JSON.stringify(headers)).toBe(true);
      if (outcome.open) outcome.ws.close();
    }
  });

  it('refuses a rebinding Host on every method, and creates nothing', async () => {
    const before = await runCount(server);
    for (const host of ['rebind.attacker.example', 'rebind.attacker.example:7070', '10.0.0.5']) {
      const post = await raw(server, 'POST', '/v1/runs', { host }, ATTACK);
      expect(post.status, host).toBe(421);
      expect(codeOf(post)).toBe('HOST_NOT_ALLOWED');
      const get = await raw(server, 'GET', '/v1/runs', { host });
      expect(get.status, host).toBe(421);
    }
    const upgrade = await tryWebSocket(ws, { host: 'rebind.attacker.example' });
    expect(upgrade.open).toBe(false);
    expect(await runCount(server)).toBe(before);
  });

  it('answers loopback names and PATCHBAY_ALLOWED_HOSTS', async () => {
    for (const host of [
      `127.0.0.1:${server.port}`,
      `localhost:${server.port}`,
      `[::1]:${server.port}`,
      `app.localhost:${server.port}`,
      `patchbay.lan:${server.port}`,
    ]) {
      expect((await raw(server, 'GET', '/health', { host })).status, host).toBe(200);
    }
  });

  it('refuses a cross-site POST (a form or fetch from another page) but not reads', async () => {
    const before = await runCount(server);
    const post = await raw(server, 'POST', '/v1/runs', { origin: 'https://evil.example' }, ATTACK);
    expect(post.status).toBe(403);
    expect(codeOf(post)).toBe('ORIGIN_NOT_ALLOWED');
    expect(await runCount(server)).toBe(before);
    const read = await raw(server, 'GET', '/health', { origin: 'https://evil.example' });
    expect(read.status).toBe(200);
    const own = await raw(
      server,
      'POST',
      '/v1/runs',
      { origin: `http://127.0.0.1:${server.port}` },
      { command: ['true'] },
    );
    expect(own.status).toBe(202);
  });
});

describe('with tokens and PATCHBAY_ALLOWED_ORIGINS', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({
      env: {
        PATCHBAY_API_TOKENS: 'tok-origin',
        PATCHBAY_ALLOWED_ORIGINS: 'https://tools.example.com',
      },
      token: 'tok-origin',
    });
  });
  afterAll(cleanupAll);

  it('answers any Host with a valid token (a page cannot authenticate), never without', async () => {
    const auth = { authorization: 'Bearer tok-origin' };
    expect((await raw(server, 'GET', '/health', { host: 'proxy.example', ...auth })).status).toBe(
      200,
    );
    expect((await raw(server, 'GET', '/health', { host: 'proxy.example' })).status).toBe(401);
  });

  it('still refuses foreign origins on the WebSocket, and accepts listed ones', async () => {
    const ws = `ws://127.0.0.1:${server.port}/v1/ws`;
    const auth = { authorization: 'Bearer tok-origin' };
    const evil = await tryWebSocket(ws, { ...auth, origin: 'https://evil.example' });
    expect(evil.open).toBe(false);
    const listed = await tryWebSocket(ws, { ...auth, origin: 'https://tools.example.com' });
    expect(listed.open).toBe(true);
    if (listed.open) listed.ws.close();
  });
});
