import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcExecutorClient } from './cc-executor-client.js';
import {
  cleanupAll,
  isAlive,
  ROOT,
  sleep,
  startServer,
  tempDir,
  trackPids,
  tryWebSocket,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

/**
 * The cc_executor layer against real `patchbay serve` processes, driven by a client that knows
 * only cc_executor's wire format (./cc-executor-client.ts).
 */

const ALLOWED = 'echo,printf,sleep,head,tr,cat,false,node';
const FAKE_CLAUDE = join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.sh');

let server: ServerHandle;
let off: ServerHandle;
let guarded: ServerHandle;
const clients: CcExecutorClient[] = [];
const wsOf = (s: ServerHandle, path = '/ws/mcp') => `${s.url.replace(/^http/, 'ws')}${path}`;

async function connect(options: { answerPings?: boolean } = {}): Promise<CcExecutorClient> {
  const client = await CcExecutorClient.connect(wsOf(server), options);
  clients.push(client);
  await client.waitFor('connected');
  return client;
}

/** The state letter of /proc/<pid>/stat (R, S, T…), or null once it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

beforeAll(async () => {
  [server, off, guarded] = await Promise.all([
    startServer({
      env: {
        PATCHBAY_COMPAT: 'cc-executor',
        PATCHBAY_CC_EXECUTOR_HEARTBEAT_MS: '1000',
        PATCHBAY_ALLOWED_COMMANDS: ALLOWED,
        PATCHBAY_KILL_GRACE_MS: '500',
        PATCHBAY_MAX_CONCURRENT_RUNS: '8',
        PATCHBAY_AGENT_CLAUDE_BIN: FAKE_CLAUDE,
        PATCHBAY_WORKSPACE_ROOTS: tempDir(),
      },
    }),
    startServer(),
    startServer({
      env: { PATCHBAY_COMPAT: 'cc-executor', PATCHBAY_API_TOKENS: 'cc-secret-token' },
      token: 'cc-secret-token',
    }),
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cleanupAll();
});

describe('cc_executor WebSocket protocol', () => {
  it('greets with connected, runs a shell string, streams its output and completes', async () => {
    const c = await connect();
    const hello = c.of('connected')[0];
    expect(hello.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(hello.capabilities).toEqual(['execute', 'control', 'stream']);

    const res = await c.execute("printf 'one\\ntwo\\n' && echo three | cat && echo err >&2");
    expect(res.error).toBeUndefined();
    expect(res.result).toMatchObject({ status: 'started' });
    expect(res.result.pid).toBeGreaterThan(1);
    trackPids(res.result.pid);
    const started = await c.waitFor('process.started');
    expect(started).toMatchObject({ status: 'started', pid: res.result.pid, exit_code: null });
    const done = await c.waitFor('process.completed');
    expect(done).toMatchObject({ status: 'completed', exit_code: 0, pid: res.result.pid });
    expect(done.execution_time).toBeGreaterThanOrEqual(0);
    expect(c.stdout()).toBe('one\ntwo\nthree\n');
    expect(c.of('process.output').find((p) => p.type === 'stderr')).toMatchObject({
      data: 'err\n',
      truncated: false,
    });

    // One process per session: the next starts once the first is over; a failure is `failed`.
    const second = await c.execute('echo again && false');
    expect(second.result.status).toBe('started');
    await waitFor(() => c.of('process.completed').length === 2, 'the second completion', 30_000);
    expect(c.of('process.completed')[1]).toMatchObject({ status: 'failed', exit_code: 1 });
  });

  it('answers /ws too, and its JSON-RPC errors with the original codes', async () => {
    const c = await CcExecutorClient.connect(wsOf(server, '/ws'));
    clients.push(c);
    await c.waitFor('connected');
    expect((await c.request('nope')).error).toMatchObject({ code: -32601 });
    expect((await c.request('execute', {})).error).toMatchObject({ code: -32602 });
    expect((await c.control('PAUSE')).error).toMatchObject({ code: -32002 });
    expect((await c.request('control', { type: 'STOP' })).error).toMatchObject({ code: -32602 });
    expect((await c.request('hook_status')).result).toMatchObject({ enabled: false });
    c.ws.send('{not json');
    await waitFor(() => c.of('(unmatched)').length > 0, 'the parse error', 10_000);
    expect(c.of('(unmatched)')[0].error.code).toBe(-32700);
    const running = await c.execute('sleep 30');
    trackPids(running.result.pid);
    expect((await c.execute('echo second')).error).toMatchObject({
      code: -32602,
      message: 'A process is already running',
    });
    await c.control('CANCEL');
  });

  it('denies a command off the allow-list anywhere in the string, and what it cannot read', async () => {
    const c = await connect();
    for (const command of [
      'rm -rf /tmp/nothing',
      'echo hi; rm -rf /tmp/nothing',
      'echo hi | sh',
      'echo $(id)',
      'echo `id`',
      'PATH=/tmp echo hi',
      '(echo hi)',
      'echo hi & echo there',
    ]) {
      const res = await c.execute(command);
      expect(res.error, command).toMatchObject({
        code: -32602,
        data: { type: 'SECURITY_DENIED' },
      });
    }
    expect(c.of('process.started')).toEqual([]);
  });

  it('kills a process at its timeout and reports a failure, never completed', async () => {
    const c = await connect();
    const res = await c.execute('echo begun && sleep 60', 1);
    const pid = res.result.pid as number;
    trackPids(pid);
    const done = await c.waitFor('process.completed', 30_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/time/i);
    expect(c.of('process.error')[0].error).toMatch(/time/i);
    await waitFor(() => !isAlive(pid), 'the timed-out process to be gone', 10_000);
  });

  it('chunks a 200 KB line into 64 KB process.output messages that rejoin to the line', async () => {
    const c = await connect();
    await c.execute("head -c 204800 /dev/zero | tr '\\0' a && echo");
    await c.waitFor('process.completed');
    const chunks = c.of('process.output').filter((p) => p.type === 'stdout');
    expect(chunks.map((p) => p.chunk_index)).toEqual([0, 1, 2, 3]);
    expect(chunks.every((p) => p.total_chunks === 4)).toBe(true);
    expect(chunks.map((p) => p.truncated)).toEqual([true, true, true, false]);
    expect(chunks.every((p) => p.data.length <= 65_536)).toBe(true);
    expect(c.stdout()).toBe(`${'a'.repeat(204_800)}\n`);
  });

  it('PAUSE, RESUME and CANCEL in three sessions at once stop, restart and end each process', async () => {
    const ticker = `node -e "setInterval(() => console.log('tick'), 50)"`;
    const sessions = await Promise.all([connect(), connect(), connect()]);
    const pids = await Promise.all(
      sessions.map(async (c) => {
        const res = await c.execute(ticker);
        expect(res.result.status).toBe('started');
        trackPids(res.result.pid);
        await waitFor(() => c.stdout().includes('tick'), 'ticks', 30_000);
        return res.result.pid as number;
      }),
    );
    await Promise.all(
      sessions.map(async (c, k) => {
        expect((await c.control('PAUSE')).result).toEqual({ status: 'paused' });
        expect(await c.waitFor('process.paused')).toMatchObject({ status: 'paused' });
        await waitFor(() => procState(pids[k]!) === 'T', 'the process stopped', 10_000);
        // Give what was in flight time to arrive, then nothing more may come while paused.
        await sleep(400);
        const frozen = c.stdout().length;
        await sleep(600);
        expect(c.stdout().length).toBe(frozen);

        expect((await c.control('RESUME')).result).toEqual({ status: 'resumed' });
        await c.waitFor('process.resumed');
        await waitFor(() => c.stdout().length > frozen, 'ticks after RESUME', 30_000);

        expect((await c.control('CANCEL')).result).toEqual({ status: 'canceled' });
        expect(await c.waitFor('process.canceled')).toMatchObject({ status: 'canceled' });
        await waitFor(() => !isAlive(pids[k]!), 'the cancelled process to be gone', 15_000);
      }),
    );
    await sleep(300);
    for (const c of sessions) expect(c.of('process.completed')).toEqual([]);
  });

  it('ends the process of a session whose client goes away', async () => {
    const c = await connect();
    const res = await c.execute('echo up && sleep 60');
    const pid = res.result.pid as number;
    trackPids(pid);
    await waitFor(() => c.stdout() === 'up\n', 'the first line', 30_000);
    c.close();
    await waitFor(() => !isAlive(pid), 'the abandoned process to be gone', 15_000);
  });

  it('sends ping and closes a session that answers none for two intervals', async () => {
    const quiet = await connect({ answerPings: false });
    const polite = await connect();
    await waitFor(() => quiet.closeCode !== null, 'the silent session to be closed', 20_000);
    expect(quiet.closeCode).toBe(1006);
    expect(quiet.pings.length).toBeGreaterThanOrEqual(1);
    expect(typeof quiet.pings[0]).toBe('number');
    expect(polite.closeCode).toBeNull();
    expect(polite.pings.length).toBeGreaterThanOrEqual(1);
  });
});

describe('cc_executor REST layer', () => {
  it('GET /healthz, POST /execute runs each task as a claude run, then status and results', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${server.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: ['say hello', 'fail please'], execution_id: 'ex-1' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ execution_id: 'ex-1', total_tasks: 2, completed_tasks: 2 });
    expect(body.failed_tasks).toBe(1);
    expect(body.results[0]).toMatchObject({ task_number: 1, exit_code: 0 });
    expect(body.results[1].exit_code).not.toBe(0);
    const status = (await (await fetch(`${server.url}/executions/ex-1/status`)).json()) as Json;
    expect(status).toMatchObject({
      execution_id: 'ex-1',
      status: 'failed',
      progress: '2/2 tasks completed',
    });
    const results = (await (await fetch(`${server.url}/executions/ex-1/results`)).json()) as Json;
    expect(results.results).toHaveLength(2);
    const del = await fetch(`${server.url}/executions/ex-1`, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect(((await del.json()) as Json).detail).toBe('Execution is not running');
    const missing = await fetch(`${server.url}/executions/nope/status`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).detail).toBe('Execution not found');
  });
});

describe('cc_executor layer switch and guards', () => {
  it('is off by default: 404 for its routes, its upgrade refused', async () => {
    expect((await fetch(`${off.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${off.url}/executions/x/status`)).status).toBe(404);
    for (const path of ['/ws/mcp', '/ws']) {
      const outcome = await tryWebSocket(wsOf(off, path));
      expect(outcome.open).toBe(false);
      if (!outcome.open) expect(outcome.status).toBe(404);
    }
  });

  it('requires the bearer token when tokens are set, and refuses a foreign origin', async () => {
    const anonymous = await tryWebSocket(wsOf(guarded));
    expect(anonymous.open ? 0 : anonymous.status).toBe(401);
    const foreign = await tryWebSocket(wsOf(guarded), {
      authorization: 'Bearer cc-secret-token',
      origin: 'https://evil.example',
    });
    expect(foreign.open ? 0 : foreign.status).toBe(403);
    const c = await CcExecutorClient.connect(wsOf(guarded), {
      headers: { authorization: 'Bearer cc-secret-token' },
    });
    clients.push(c);
    await c.waitFor('connected');
    expect((await fetch(`${guarded.url}/healthz`)).status).toBe(401);
  });
});
