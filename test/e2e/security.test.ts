import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  createApi,
  freePort,
  readSse,
  RpcClient,
  runCli,
  startServer,
  tempDir,
  tryWebSocket,
  type ServerHandle,
} from './helpers.js';

afterAll(cleanupAll);

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('auth: PATCHBAY_API_TOKENS', () => {
  let server: ServerHandle;
  let runId: string;

  beforeAll(async () => {
    server = await startServer({
      // Every route is tried with a wrong token: more guesses than the default throttle allows.
      env: { PATCHBAY_API_TOKENS: 't1,t2', PATCHBAY_AUTH_FAILURE_LIMIT: '10000' },
      token: 't2',
    });
    runId = (await server.api.createRun({ command: ['echo', 'authed'], wait: true })).id;
  });

  const routes = (): [string, string, unknown?][] => [
    ['GET', '/health'],
    ['GET', '/ready'],
    ['GET', '/health/queue'],
    ['GET', '/metrics'],
    ['GET', '/docs/json'],
    ['GET', '/v1/runs'],
    ['POST', '/v1/runs', { command: ['echo', 'x'] }],
    ['GET', `/v1/runs/${runId}`],
    ['GET', `/v1/runs/${runId}/events`],
    ['POST', `/v1/runs/${runId}/cancel`],
    ['GET', '/v1/no-such-route'],
  ];

  it('refuses every route with 401 UNAUTHORIZED without a token or with a wrong one', async () => {
    const anonymous = createApi(server.url);
    const wrong = createApi(server.url, 't3');
    const beforeCount = (await server.api.request('GET', '/v1/runs?limit=200')).body.runs.length;
    for (const [method, path, body] of routes()) {
      for (const [who, api] of [
        ['no token', anonymous],
        ['wrong token', wrong],
      ] as const) {
        const res = await api.request(method, path, body);
        expect(res.status, `${method} ${path} with ${who}`).toBe(401);
        expect(res.body.error.code, `${method} ${path} with ${who}`).toBe('UNAUTHORIZED');
        expect(typeof res.body.error.requestId).toBe('string');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
    }
    for (const header of ['t2', 'Basic dDI6dDI=', 'Bearer', 'Bearer t2 extra', 'bearer  t1x']) {
      const res = await server.api.request('GET', '/health', undefined, { authorization: header });
      expect(res.status, `Authorization: ${header}`).toBe(401);
    }
    // Nothing was created by the refused POSTs.
    const after = (await server.api.request('GET', '/v1/runs?limit=200')).body.runs.length;
    expect(after).toBe(beforeCount);
  });

  it('serves every route with `Authorization: Bearer t2` (and t1)', async () => {
    for (const [method, path, body] of routes()) {
      const res = await server.api.request(method, path, body);
      expect(res.status, `${method} ${path}`).not.toBe(401);
    }
    expect((await server.api.request('GET', '/health')).status).toBe(200);
    expect((await server.api.request('GET', `/v1/runs/${runId}`)).body.status).toBe('succeeded');
    expect((await createApi(server.url, 't1').request('GET', '/v1/runs')).status).toBe(200);
  });

  it('protects the SSE stream', async () => {
    const url = `${server.url}/v1/runs/${runId}/events`;
    const anonymous = await readSse(url);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text).error.code).toBe('UNAUTHORIZED');
    const wrong = await readSse(url, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await readSse(url, { headers: { authorization: 'Bearer t2' } });
    expect(ok.status).toBe(200);
    expect(ok.ended).toBe(true);
    expect(ok.events.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses the WebSocket upgrade without a valid token, and accepts it with one', async () => {
    const url = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
    const anonymous = await tryWebSocket(url);
    expect(anonymous.open).toBe(false);
    if (!anonymous.open) {
      expect(anonymous.status).toBe(401);
      expect(JSON.parse(anonymous.body).error.code).toBe('UNAUTHORIZED');
    }
    const wrong = await tryWebSocket(url, { authorization: 'Bearer t3' });
    expect(wrong.open).toBe(false);
    if (!wrong.open) expect(wrong.status).toBe(401);

    const rpc = await RpcClient.connect(url, { authorization: 'Bearer t2' });
    try {
      const res = await rpc.call('run.get', { id: runId });
      expect(res.result?.status).toBe('succeeded');
    } finally {
      rpc.close();
    }
  });
});

describe('safe bind', () => {
  it('refuses `serve --host 0.0.0.0` without tokens: exits non-zero with SERVER_UNSAFE_BIND, never listens', async () => {
    const port = await freePort();
    const res = await runCli(
      ['serve', '--host', '0.0.0.0', '--port', String(port), '--data-dir', tempDir()],
      { timeoutMs: 10_000 },
    );
    expect(res.signal, 'serve should exit by itself, not be killed by the test timeout').toBeNull();
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('SERVER_UNSAFE_BIND');
    expect(res.stderr).not.toContain('listening');
    expect(await isListening(port)).toBe(false);
  });

  it('starts on 0.0.0.0 when tokens are set', async () => {
    const server = await startServer({
      args: ['--host', '0.0.0.0'],
      env: { PATCHBAY_API_TOKENS: 'bind-token' },
      token: 'bind-token',
    });
    try {
      const res = await server.api.request('GET', '/health');
      expect(res.status).toBe(200);
      expect(server.stderr()).toContain('0.0.0.0');
      expect((await createApi(server.url).request('GET', '/health')).status).toBe(401);
    } finally {
      await server.stop();
    }
  });
});

describe('rate limit on run creation', () => {
  it('answers the 4th POST in a minute with 429 RATE_LIMITED and Retry-After', async () => {
    const server = await startServer({ env: { PATCHBAY_RUN_CREATE_RATE_LIMIT: '3' } });
    try {
      for (let i = 0; i < 3; i++) {
        const ok = await server.api.request('POST', '/v1/runs', { command: ['true'] });
        expect(ok.status, `POST #${i + 1}`).toBe(202);
      }
      const limited = await server.api.request('POST', '/v1/runs', { command: ['true'] });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('RATE_LIMITED');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.body.error.details.retryAfterSeconds).toBe(retryAfter);

      // Only creation is limited; the WebSocket shares the same budget.
      expect((await server.api.request('GET', '/v1/runs')).status).toBe(200);
      const rpc = await RpcClient.connect(`${server.url.replace(/^http/, 'ws')}/v1/ws`);
      try {
        const viaWs = await rpc.call('run.create', { command: ['true'] });
        expect(viaWs.error?.data?.code).toBe('RATE_LIMITED');
      } finally {
        rpc.close();
      }
      const list = await server.api.request('GET', '/v1/runs');
      expect(list.body.runs).toHaveLength(3);
    } finally {
      await server.stop();
    }
  });
});

describe('allowed commands', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: { PATCHBAY_ALLOWED_COMMANDS: 'echo,true' } });
  });

  it('refuses a command off the list with 403 COMMAND_NOT_ALLOWED and spawns nothing', async () => {
    const dir = tempDir();
    const disguised = join(dir, 'echo');
    symlinkSync('/bin/sh', disguised); // named like an allowed command, but it is sh
    for (const command of [
      ['sh', '-c', 'id'],
      ['sh', '-c', 'echo pwned; id'],
      ['sh', '-e', '-c', 'echo pwned'],
      ['/bin/sh', '-c', 'echo pwned'],
      [disguised, '-c', 'echo pwned'],
      ['bash', '-c', 'echo pwned'],
    ]) {
      const res = await server.api.request('POST', '/v1/runs', { command });
      expect(res.status, command.join(' ')).toBe(403);
      expect(res.body.error.code, command.join(' ')).toBe('COMMAND_NOT_ALLOWED');
    }
    // A script the allow-list cannot be applied to is refused as such.
    for (const script of ['echo $(id)', 'echo `id`', 'PATH=/tmp echo x', '(id)']) {
      const res = await server.api.request('POST', '/v1/runs', { command: ['sh', '-c', script] });
      expect(res.status, script).toBe(403);
      expect(res.body.error.code, script).toBe('COMMAND_SCRIPT_UNCHECKABLE');
    }
    const list = await server.api.request('GET', '/v1/runs');
    expect(list.status).toBe(200);
    expect(list.body.runs).toEqual([]);
  });

  it('runs a command on the list', async () => {
    const run = await server.api.createRun({ command: ['echo', 'allowed'], wait: true });
    expect(run.status).toBe('succeeded');
    expect(await server.api.output(run.id)).toBe('allowed\n');
    // sh -c, with sh off the list, runs a script whose every command is on it.
    const script = await server.api.createRun({
      command: ['sh', '-c', 'echo one && true; echo two'],
      wait: true,
    });
    expect(script.status).toBe('succeeded');
    expect(await server.api.output(script.id)).toBe('one\ntwo\n');
  });
});

describe('trusted workspace roots', () => {
  let server: ServerHandle;
  let base: string;
  let rootLink: string;
  let realApp: string;

  beforeAll(async () => {
    base = tempDir();
    // The configured root is itself a symlink: the check must compare real paths.
    mkdirSync(join(base, 'real-root', 'projects', 'app'), { recursive: true });
    mkdirSync(join(base, 'outside'), { recursive: true });
    rootLink = join(base, 'root-link');
    symlinkSync(join(base, 'real-root'), rootLink);
    symlinkSync(join(base, 'outside'), join(base, 'real-root', 'escape'));
    realApp = realpathSync(join(base, 'real-root', 'projects', 'app'));
    server = await startServer({ env: { PATCHBAY_WORKSPACE_ROOTS: rootLink } });
  });

  const refusals = (): [string, string, number, string][] => [
    ['a `..` segment', `${rootLink}/projects/../../outside`, 403, 'WORKDIR_NOT_TRUSTED'],
    ['a relative `..`', '../outside', 403, 'WORKDIR_NOT_TRUSTED'],
    [
      'a symlink inside the root pointing outside',
      `${rootLink}/escape`,
      403,
      'WORKDIR_NOT_TRUSTED',
    ],
    ['a path through that symlink', `${rootLink}/escape/.`, 403, 'WORKDIR_NOT_TRUSTED'],
    ['a directory outside every root', join(base, 'outside'), 403, 'WORKDIR_NOT_TRUSTED'],
    ['the system root', '/', 403, 'WORKDIR_NOT_TRUSTED'],
    ['a `..` that would stay inside the root', `${realApp}/../nope`, 403, 'WORKDIR_NOT_TRUSTED'],
    ['a missing directory inside the real root', `${realApp}/nope`, 400, 'WORKDIR_NOT_FOUND'],
  ];

  it('refuses workdirs outside the trusted roots and creates no run', async () => {
    for (const [what, workdir, status, code] of refusals()) {
      const res = await server.api.request('POST', '/v1/runs', { command: ['pwd'], workdir });
      expect(res.status, what).toBe(status);
      expect(res.body.error.code, what).toBe(code);
    }
    expect((await server.api.request('GET', '/v1/runs')).body.runs).toEqual([]);
  });

  // Regression: with a root reached through a symlink, a missing directory under it was
  // reported as outside every root (403) rather than missing (400).
  it('a missing directory under a symlinked root is WORKDIR_NOT_FOUND, not NOT_TRUSTED', async () => {
    const res = await server.api.request('POST', '/v1/runs', {
      command: ['pwd'],
      workdir: `${rootLink}/projects/nope`,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('WORKDIR_NOT_FOUND');
  });

  it('runs inside a trusted root, in the real path', async () => {
    for (const workdir of [`${rootLink}/projects/app`, 'projects/app', realApp]) {
      const run = await server.api.createRun({ command: ['pwd'], workdir, wait: true });
      expect(run.status, workdir).toBe('succeeded');
      expect(run.workdir, workdir).toBe(realApp);
      expect(await server.api.output(run.id), workdir).toBe(`${realApp}\n`);
    }
  });
});

describe('child environment', () => {
  it('hides server secrets from runs but passes PATH and the run env', async () => {
    const server = await startServer({
      env: {
        PATCHBAY_API_TOKENS: 'secret-token',
        PATCHBAY_WEBHOOK_SECRET: 'whsec',
        SOME_SECRET: 'x',
      },
      token: 'secret-token',
    });
    try {
      const run = await server.api.createRun({
        command: ['env'],
        env: { RUN_ONLY_VAR: 'visible-value' },
        wait: true,
      });
      expect(run.status).toBe('succeeded');
      const out = await server.api.output(run.id);
      const names = out
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(0, line.indexOf('=')));
      expect(out).not.toContain('secret-token');
      expect(out).not.toContain('whsec');
      expect(names).not.toContain('SOME_SECRET');
      expect(names.filter((n) => n.startsWith('PATCHBAY_'))).toEqual([]);
      expect(out).toMatch(/^PATH=\S+/m);
      expect(out).toMatch(/^RUN_ONLY_VAR=visible-value$/m);

      // The run record names the run's variables but never returns their values.
      expect(run.envKeys).toEqual(['RUN_ONLY_VAR']);
      expect(JSON.stringify(run)).not.toContain('visible-value');
    } finally {
      await server.stop();
    }
  });
});
