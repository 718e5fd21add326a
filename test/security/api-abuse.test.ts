/**
 * What a hostile client can do to a running server with nothing but the wire format: one huge
 * JSON-RPC batch (it once made /health hang for minutes and killed the process), a request
 * trickled byte by byte, token guessing, secrets in logged URLs, and the optimizer as a way
 * around PATCHBAY_ALLOWED_COMMANDS.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  RpcClient,
  startServer,
  tempDir,
  waitFor,
  type ServerHandle,
} from '../e2e/helpers.js';

afterAll(cleanupAll);

/** Milliseconds of one GET /health. */
async function healthMs(server: ServerHandle): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/health`);
  await res.body?.cancel();
  expect(res.status).toBe(200);
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('JSON-RPC limits', () => {
  let server: ServerHandle;
  let ws: string;
  beforeAll(async () => {
    server = await startServer();
    ws = `ws://127.0.0.1:${server.port}/v1/ws`;
  });

  it('answers a 5,000-call batch with one error, and /health stays fast meanwhile', async () => {
    const rpc = await RpcClient.connect(ws);
    const batch = Array.from({ length: 5000 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'run.list',
      params: { limit: 200 },
    }));
    await healthMs(server); // a warm connection, so the probes time the server only
    const answer = rpc.sendRaw(JSON.stringify(batch), 20_000);
    const probes: number[] = [];
    for (let i = 0; i < 11; i++) probes.push(await healthMs(server));
    const reply = (await answer) as { error: { data: { code: string; details: unknown } } };
    expect(reply.error.data.code).toBe('RPC_BATCH_TOO_LARGE');
    expect(reply.error.data.details).toMatchObject({ calls: 5000 });
    expect(median(probes)).toBeLessThan(50);
    // The connection and the server are still fine.
    expect((await rpc.call('run.list', { limit: 1 })).error).toBeUndefined();
    rpc.close();
  });

  it('bounds the calls one connection has in flight', async () => {
    const rpc = await RpcClient.connect(ws);
    // Calls that wait: a run that sleeps, created with wait: true, 50 at a time.
    const slow = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'run.create',
      params: { command: ['sleep', '2'], wait: true },
    });
    rpc.ws.send(JSON.stringify(Array.from({ length: 50 }, (_, i) => slow(i))));
    const second = (await rpc.sendRaw(
      JSON.stringify(Array.from({ length: 20 }, (_, i) => slow(100 + i))),
      10_000,
    )) as { id: number; error?: { data: { code: string } } }[];
    expect(second).toHaveLength(20);
    expect(second.every((r) => r.error?.data.code === 'RPC_TOO_MANY_IN_FLIGHT')).toBe(true);
    rpc.close();
    expect(await healthMs(server)).toBeLessThan(5000);
  });

  it('a batch within the limit is answered in order, each call once', async () => {
    const rpc = await RpcClient.connect(ws);
    const batch = Array.from({ length: 50 }, (_, i) => ({
      jsonrpc: '2.0',
      id: `c${i}`,
      method: i % 2 ? 'run.list' : 'no.such',
      params: i % 2 ? { limit: 1 } : undefined,
    }));
    const reply = (await rpc.sendRaw(JSON.stringify(batch), 10_000)) as { id: string }[];
    expect(reply.map((r) => r.id)).toEqual(batch.map((b) => b.id));
    rpc.close();
  });
});

describe('slow and guessing clients', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({
      token: 'right-token',
      env: {
        PATCHBAY_API_TOKENS: 'right-token',
        PATCHBAY_REQUEST_TIMEOUT_MS: '1500',
        PATCHBAY_AUTH_FAILURE_LIMIT: '3',
        PATCHBAY_LOG_LEVEL: 'info',
        PATCHBAY_LOG_FORMAT: 'json',
      },
    });
  });

  it('cuts off a body that trickles in, with no token needed to hold the socket', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (c: string) => (received += c));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(
      'POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => socket.write(' '), 200);
    const started = Date.now();
    await closed;
    clearInterval(drip);
    // Cut off near the limit, long before the 1,000 bytes would have arrived (200 s).
    expect(Date.now() - started).toBeLessThan(15_000);
    // 401 at once (no token) or 408 at the limit; either way the socket is gone.
    expect(received).toMatch(/^HTTP\/1\.1 (401|408)|^$/);
  });

  it('stops answering an address that guesses tokens, valid token or not, for a minute', async () => {
    const wrong = { authorization: 'Bearer guess' };
    for (let i = 0; i < 3; i++) {
      expect((await server.api.request('GET', '/v1/runs', undefined, wrong)).status).toBe(401);
    }
    const blocked = await server.api.request('GET', '/v1/runs', undefined, wrong);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right token learns nothing while blocked.
    expect((await server.api.request('GET', '/v1/runs')).status).toBe(429);
  });

  it('never writes a signed URL signature or a query-string token to the log', async () => {
    const secret = 'f'.repeat(64);
    await fetch(`${server.url}/v1/signed/artifacts/x?expires=1&sig=${secret}`);
    await fetch(`${server.url}/v1/runs?token=querytokensecret`);
    await waitFor(() => server.stderr().includes('/v1/runs?token='), 'the request log line');
    expect(server.stderr()).not.toContain(secret);
    expect(server.stderr()).not.toContain('querytokensecret');
  });
});

describe('PATCHBAY_ALLOWED_COMMANDS holds on every spawning path', () => {
  let server: ServerHandle;
  let repoId: string;
  beforeAll(async () => {
    const root = tempDir();
    server = await startServer({
      env: { PATCHBAY_ALLOWED_COMMANDS: 'echo,true', PATCHBAY_WORKSPACE_ROOTS: root },
    });
    const dir = join(root, 'lib');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"name":"lib","scripts":{"test":"true"}}\n');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@x',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@x',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    const repo = await server.api.request('POST', '/v1/repos', { path: dir });
    expect(repo.status, repo.text).toBe(201);
    repoId = repo.body.id;
  });

  it('refuses an optimization, whose test and bench commands run through sh -c', async () => {
    const res = await server.api.request('POST', `/v1/repos/${repoId}/optimize`, {
      test: 'id > /tmp/pwned-by-optimizer',
      bench: 'id',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('COMMAND_NOT_ALLOWED');
    const runs = await server.api.request('GET', '/v1/runs?limit=200');
    expect(runs.body.runs).toHaveLength(0);
  });

  it('refuses a shell run outside the list, and runs one on it', async () => {
    const refused = await server.api.request('POST', '/v1/runs', { command: ['id'] });
    expect(refused.body.error.code).toBe('COMMAND_NOT_ALLOWED');
    const ok = await server.api.request('POST', '/v1/runs', {
      command: ['echo', 'hi'],
      wait: true,
    });
    expect(ok.body.status).toBe('succeeded');
  });
});
