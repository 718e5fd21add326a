/**
 * Dashboard login over real HTTP against a real `patchbay serve` with tokens: the session
 * cookie's attributes, that every surface (REST, SSE, WebSocket) takes it instead of the bearer
 * token, the CSRF rule for cookie requests that change something (bearer clients untouched),
 * logout, expiry, a removed token ending its sessions, and the throttle on failed logins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  readSse,
  startServer,
  tempDir,
  tryWebSocket,
  waitFor,
  type ApiResponse,
  type ServerHandle,
} from '../e2e/helpers.js';

const TOKEN = 'dash-token-0123456789';
const OTHER = 'other-token-9876543210';

afterAll(cleanupAll);

/** The headers the dashboard's own page sends with a write. */
function browserWrite(server: ServerHandle, cookie?: string): Record<string, string> {
  return {
    origin: server.url,
    'sec-fetch-site': 'same-origin',
    'x-patchbay-csrf': '1',
    ...(cookie ? { cookie } : {}),
  };
}

/** A client without a bearer token: what a browser is. */
function anonymous(server: ServerHandle) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? null : JSON.stringify(body),
    }).then(async (res): Promise<ApiResponse> => {
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    });
}

async function login(server: ServerHandle, token = TOKEN): Promise<string> {
  const res = await anonymous(server)('POST', '/v1/auth/login', { token }, browserWrite(server));
  expect(res.status, res.text).toBe(200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return setCookie.split(';')[0]!;
}

describe('dashboard sessions (tokens set)', () => {
  let server: ServerHandle;
  let http: ReturnType<typeof anonymous>;
  beforeAll(async () => {
    server = await startServer({
      env: { PATCHBAY_API_TOKENS: `${TOKEN},${OTHER}` },
      token: TOKEN,
    });
    http = anonymous(server);
  });

  const runCount = async (): Promise<number> =>
    (await server.api.request<{ runs: unknown[] }>('GET', '/v1/runs?limit=200')).body.runs.length;

  it('tells the login page that auth is on and nobody is logged in', async () => {
    const res = await http('GET', '/v1/auth/session');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authEnabled: true,
      authenticated: false,
      via: null,
      expiresAt: null,
      csrfHeader: 'x-patchbay-csrf',
    });
    expect((await http('GET', '/v1/runs')).status).toBe(401);
  });

  it('sets an HttpOnly, SameSite=Strict cookie for a valid token only', async () => {
    const wrong = await http('POST', '/v1/auth/login', { token: 'nope' }, browserWrite(server));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    // Not from the dashboard's page: no custom header.
    const bare = await http('POST', '/v1/auth/login', { token: TOKEN }, { origin: server.url });
    expect(bare.status).toBe(403);
    expect(bare.body.error.code).toBe('CSRF_CHECK_FAILED');

    const res = await http('POST', '/v1/auth/login', { token: TOKEN }, browserWrite(server));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ authEnabled: true, authenticated: true, via: 'cookie' });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^patchbay_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).toMatch(/Max-Age=43200/);
    // Plain http on loopback: Secure would make the browser drop it.
    expect(cookie).not.toContain('Secure');
  });

  it('accepts the cookie on REST, SSE and the WebSocket', async () => {
    const cookie = await login(server);
    const session = await http('GET', '/v1/auth/session', undefined, { cookie });
    expect(session.body).toMatchObject({ authenticated: true, via: 'cookie' });
    expect((await http('GET', '/v1/runs', undefined, { cookie })).status).toBe(200);

    const run = await server.api.createRun({ command: ['sh', '-c', 'echo via-cookie'] });
    await server.api.waitForStatus(run.id);
    const sse = await readSse(`${server.url}/v1/runs/${run.id}/events`, { headers: { cookie } });
    expect(sse.status).toBe(200);
    expect(sse.frames.map((f) => f.data).join('\n')).toContain('via-cookie');

    const ws = server.url.replace(/^http/, 'ws') + '/v1/ws';
    const open = await tryWebSocket(ws, { cookie, origin: server.url });
    expect(open.open).toBe(true);
    if (open.open) open.ws.close();
    // A WebSocket carries no custom header: its Origin must be this server's.
    const noOrigin = await tryWebSocket(ws, { cookie });
    expect(noOrigin).toMatchObject({ open: false, status: 403 });
    const foreign = await tryWebSocket(ws, { cookie, origin: 'https://evil.example' });
    expect(foreign).toMatchObject({ open: false, status: 403 });
    expect(await tryWebSocket(ws, { origin: server.url })).toMatchObject({
      open: false,
      status: 401,
    });
  });

  it('refuses cookie writes without the CSRF proofs; bearer clients need none', async () => {
    const cookie = await login(server);
    const before = await runCount();
    const body = { command: ['sh', '-c', 'echo csrf'] };
    const refusals: [string, Record<string, string>, string][] = [
      ['no custom header', { cookie, origin: server.url }, 'CSRF_CHECK_FAILED'],
      ['no Origin', { cookie, 'x-patchbay-csrf': '1' }, 'CSRF_CHECK_FAILED'],
      [
        'cross-site fetch metadata',
        { ...browserWrite(server, cookie), 'sec-fetch-site': 'cross-site' },
        'CSRF_CHECK_FAILED',
      ],
      [
        'foreign Origin',
        { ...browserWrite(server, cookie), origin: 'https://evil.example' },
        'ORIGIN_NOT_ALLOWED',
      ],
      [
        'wrong header value',
        { ...browserWrite(server, cookie), 'x-patchbay-csrf': 'yes' },
        'CSRF_CHECK_FAILED',
      ],
    ];
    for (const [why, headers, code] of refusals) {
      const res = await http('POST', '/v1/runs', body, headers);
      expect(res.status, why).toBe(403);
      expect(res.body.error.code, why).toBe(code);
    }
    expect(await runCount()).toBe(before);

    const ok = await http('POST', '/v1/runs', body, browserWrite(server, cookie));
    expect(ok.status, ok.text).toBe(202);
    // A bearer client sends neither Origin nor the header.
    const bearer = await server.api.request('POST', '/v1/runs', body);
    expect(bearer.status, bearer.text).toBe(202);
    expect(await runCount()).toBe(before + 2);
  });

  it('logout ends the session: the same cookie is refused afterwards', async () => {
    const cookie = await login(server);
    expect((await http('GET', '/v1/runs', undefined, { cookie })).status).toBe(200);
    const out = await http('POST', '/v1/auth/logout', undefined, browserWrite(server, cookie));
    expect(out.status, out.text).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^patchbay_session=; .*Max-Age=0/);
    const after = await http('GET', '/v1/runs', undefined, { cookie });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toMatch(/log in again/);
    expect((await http('GET', '/v1/auth/session', undefined, { cookie })).body).toMatchObject({
      authenticated: false,
    });
  });

  it('a made-up or tampered cookie is refused', async () => {
    const cookie = await login(server);
    const tampered = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA');
    expect((await http('GET', '/v1/runs', undefined, { cookie: tampered })).status).toBe(401);
    const made = `patchbay_session=${'A'.repeat(43)}`;
    expect((await http('GET', '/v1/runs', undefined, { cookie: made })).status).toBe(401);
  });
});

describe('dashboard sessions: expiry, removed tokens, throttled logins', () => {
  it('a session stops working after PATCHBAY_SESSION_TTL_MS', async () => {
    const server = await startServer({
      env: { PATCHBAY_API_TOKENS: TOKEN, PATCHBAY_SESSION_TTL_MS: '2000' },
      token: TOKEN,
    });
    const http = anonymous(server);
    const cookie = await login(server);
    expect((await http('GET', '/v1/runs', undefined, { cookie })).status).toBe(200);
    await waitFor(
      async () => (await http('GET', '/v1/runs', undefined, { cookie })).status === 401,
      'the session to expire',
      20_000,
      200,
    );
    await server.stop();
  });

  it('sessions of a token that is no longer configured are refused after a restart', async () => {
    const dataDir = tempDir();
    const first = await startServer({
      dataDir,
      env: { PATCHBAY_API_TOKENS: `${TOKEN},${OTHER}` },
      token: TOKEN,
    });
    const ofOther = await login(first, OTHER);
    const ofToken = await login(first, TOKEN);
    await first.stop();
    const second = await startServer({
      dataDir,
      env: { PATCHBAY_API_TOKENS: TOKEN },
      token: TOKEN,
    });
    const http = anonymous(second);
    expect((await http('GET', '/v1/runs', undefined, { cookie: ofToken })).status).toBe(200);
    expect((await http('GET', '/v1/runs', undefined, { cookie: ofOther })).status).toBe(401);
    await second.stop();
  });

  it('after PATCHBAY_AUTH_FAILURE_LIMIT wrong logins, even the right token waits', async () => {
    const server = await startServer({
      env: { PATCHBAY_API_TOKENS: TOKEN, PATCHBAY_AUTH_FAILURE_LIMIT: '3' },
      token: TOKEN,
    });
    const http = anonymous(server);
    for (let i = 0; i < 3; i++) {
      const res = await http(
        'POST',
        '/v1/auth/login',
        { token: `guess-${i}` },
        browserWrite(server),
      );
      expect(res.status).toBe(401);
    }
    const blocked = await http('POST', '/v1/auth/login', { token: TOKEN }, browserWrite(server));
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    await server.stop();
  });
});

describe('dashboard sessions behind https', () => {
  it('marks the cookie Secure when PATCHBAY_PUBLIC_URL is https (a TLS proxy in front)', async () => {
    const publicUrl = 'https://patchbay.example.com';
    const server = await startServer({
      env: { PATCHBAY_API_TOKENS: TOKEN, PATCHBAY_PUBLIC_URL: publicUrl },
      token: TOKEN,
    });
    const res = await anonymous(server)(
      'POST',
      '/v1/auth/login',
      { token: TOKEN },
      { origin: publicUrl, 'sec-fetch-site': 'same-origin', 'x-patchbay-csrf': '1' },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
    await server.stop();
  });
});

describe('dashboard sessions without tokens', () => {
  it('says auth is off, and login is refused with AUTH_NOT_ENABLED', async () => {
    const server = await startServer();
    const http = anonymous(server);
    expect((await http('GET', '/v1/auth/session')).body).toMatchObject({
      authEnabled: false,
      authenticated: true,
    });
    const res = await http('POST', '/v1/auth/login', { token: 'x' }, browserWrite(server));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('AUTH_NOT_ENABLED');
    await server.stop();
  });
});
