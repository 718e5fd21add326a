/**
 * What a user meets when `patchbay serve` cannot start, and when Redis or PostgreSQL go away
 * later: a one-line refusal with a stable code, in bounded time, no stack trace; `/ready`
 * says what is missing, and a run created meanwhile is not lost.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import {
  cleanupAll,
  freePort,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type CliResult,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

/** Start-up waits for Redis/PostgreSQL this long here; the refusal must come soon after. */
const CONNECT_TIMEOUT_MS = 1500;
/** Node start, module loading and closing on a loaded 2-core CI machine: generous. */
const REFUSAL_BOUND_MS = 15_000;

function serve(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['serve', '--data-dir', tempDir(), ...args], {
    env: { PATCHBAY_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), ...env },
    timeoutMs: REFUSAL_BOUND_MS,
  });
}

/** Exited by itself, non-zero, with the code named and no stack trace or warning flood. */
function expectRefusal(result: CliResult, code: string): void {
  expect(result.signal, `killed after ${REFUSAL_BOUND_MS}ms; stderr:\n${result.stderr}`).toBeNull();
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(`patchbay: ${code}: `);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('[ioredis]');
  expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  expect(result.stdout).toBe('');
}

describe('patchbay serve refuses to start, clearly', () => {
  it('on a port already in use: names the port and how to pick another', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const result = await serve(['--port', String(port)]);
      expectRefusal(result, 'SERVER_PORT_IN_USE');
      expect(result.stderr).toContain(`port ${port}`);
      expect(result.stderr).toContain('--port');
      expect(result.stderr).toContain('PATCHBAY_PORT');
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('on an address that is not this machine’s', async () => {
    // Binding sends nothing: 192.0.2.1 (TEST-NET-1) is simply not a local address.
    const result = await serve(['--host', '192.0.2.1', '--port', String(await freePort())], {
      PATCHBAY_API_TOKENS: 'a-token-long-enough-to-pass',
    });
    expectRefusal(result, 'SERVER_ADDRESS_UNAVAILABLE');
    expect(result.stderr).toContain('192.0.2.1');
    expect(result.stderr).toContain('--host');
  });

  it('when Redis (PATCHBAY_QUEUE_URL) does not answer: masked URL, what to check, in bounded time', async () => {
    const port = await freePort(); // nothing listens there
    const result = await serve(['--port', String(await freePort())], {
      PATCHBAY_QUEUE_URL: `redis://:hunter2@127.0.0.1:${port}`,
    });
    expectRefusal(result, 'QUEUE_UNAVAILABLE');
    expect(result.stderr).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('PATCHBAY_QUEUE_URL');
    // It waited for Redis (retries), but not much longer than asked.
    expect(result.durationMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS);
  });

  it('when PostgreSQL (PATCHBAY_DATABASE_URL) does not answer: STORE_UNAVAILABLE, not MIGRATION_FAILED', async () => {
    const port = await freePort(); // nothing listens there
    const result = await serve(['--port', String(await freePort())], {
      PATCHBAY_DATABASE_URL: `postgres://patchbay:hunter2@127.0.0.1:${port}/test`,
      // The store is shared: the warning about unsealed secrets would come first otherwise.
      PATCHBAY_SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    expectRefusal(result, 'STORE_UNAVAILABLE');
    expect(result.stderr).toContain(`postgres://patchbay:***@127.0.0.1:${port}/test`);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).toContain('PATCHBAY_DATABASE_URL');
    expect(result.durationMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS);
  });

  it.skipIf(!admin)(
    'when PostgreSQL answers with an error (no such database): at once, with its reason',
    async () => {
      const url = new URL(admin!);
      url.pathname = `/patchbay_missing_${randomBytes(4).toString('hex')}`;
      const result = await serve(['--port', String(await freePort())], {
        PATCHBAY_DATABASE_URL: url.toString(),
        PATCHBAY_SECRETS_KEY: randomBytes(32).toString('base64'),
        // Long enough that waiting for it would show.
        PATCHBAY_CONNECT_TIMEOUT_MS: '60000',
      });
      expectRefusal(result, 'STORE_UNAVAILABLE');
      expect(result.stderr).toContain('refused the connection');
      expect(result.stderr).toContain('does not exist');
    },
  );
});

describe.skipIf(!redisUrl)('Redis lost after start (through a proxy that is cut)', () => {
  it('/ready and /health/queue say so, a run created meanwhile starts once Redis is back', async () => {
    const target = new URL(redisUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
    try {
      const server = await startServer({
        env: { PATCHBAY_QUEUE_URL: proxy.rewrite(redisUrl!), PATCHBAY_QUEUE_PREFIX: prefix },
      });
      expect((await server.api.request('GET', '/ready')).status).toBe(200);

      await proxy.cut();
      const ready = await waitFor(async () => {
        const res = await server.api.request('GET', '/ready');
        return res.status === 503 ? res : null;
      }, '/ready to answer 503 once Redis is cut');
      expect(ready.body.error.code).toBe('QUEUE_UNAVAILABLE');
      expect(ready.body.error.message).toContain('PATCHBAY_QUEUE_URL');
      const queue = await server.api.request('GET', '/health/queue');
      expect(queue.status).toBe(503);
      expect(queue.body.error.code).toBe('QUEUE_UNAVAILABLE');

      // Created while Redis is away: its job waits for the connection, it is not dropped.
      const created = server.api.createRun({ command: ['sh', '-c', 'echo survived'] });
      await waitFor(async () => {
        const list = await server.api.request('GET', '/v1/runs');
        return (list.body.runs as { command: string[] | null }[]).some((r) =>
          r.command?.includes('echo survived'),
        );
      }, 'the run to be stored while Redis is away');
      expect((await server.api.request('GET', '/ready')).status).toBe(503);
      await proxy.restore();
      await waitFor(
        async () => (await server.api.request('GET', '/ready')).status === 200,
        '/ready to answer 200 once Redis is back',
        15_000,
      );
      const run = await server.api.waitForStatus((await created).id, undefined, 20_000);
      expect(run.status).toBe('succeeded');
      expect(await server.api.output(run.id)).toBe('survived\n');
      // One line when each connection is lost, one when it is back, one when readiness
      // changes either way: no line per reconnect attempt or per probe.
      const lines = server.stderr().trim().split('\n');
      const lost = lines.filter((l) => l.includes('redis connection lost'));
      const back = lines.filter((l) => l.includes('redis connection back'));
      expect(lost.length).toBeGreaterThan(0);
      expect(new Set(lost.map((l) => JSON.parse(l).connection)).size).toBe(lost.length);
      expect(back.length).toBe(lost.length);
      expect(lines.filter((l) => l.includes('ready')).length, lines.join('\n')).toBeLessThanOrEqual(
        2,
      );
      expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(lost.length * 2 + 2 + 2);
      expect(server.stderr()).not.toMatch(/^\s+at /m);
      await server.stop();
    } finally {
      await proxy.close();
      await deleteRedisKeys(redisUrl!, prefix);
    }
  });
});

describe.skipIf(!admin)('PostgreSQL lost after start (through a proxy that is cut)', () => {
  it('/ready says STORE_UNAVAILABLE with the reason, and recovers when it is back', async () => {
    const database = await createPostgresDatabase(admin!);
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const server = await startServer({
        env: {
          PATCHBAY_DATABASE_URL: proxy.rewrite(database.url),
          PATCHBAY_SECRETS_KEY: randomBytes(32).toString('base64'),
        },
      });
      expect((await server.api.request('GET', '/ready')).status).toBe(200);
      await proxy.cut();
      const ready = await waitFor(async () => {
        const res = await server.api.request('GET', '/ready');
        return res.status === 503 ? res : null;
      }, '/ready to answer 503 once PostgreSQL is cut');
      expect(ready.body.error.code).toBe('STORE_UNAVAILABLE');
      expect(ready.body.error.message).toMatch(/ECONNREFUSED|terminated|closed/i);
      await proxy.restore();
      await waitFor(
        async () => (await server.api.request('GET', '/ready')).status === 200,
        '/ready to answer 200 once PostgreSQL is back',
        15_000,
      );
      const run = await server.api.createRun({ command: ['sh', '-c', 'echo stored'], wait: true });
      expect(run.status).toBe('succeeded');
      expect(server.proc.exitCode).toBeNull();
      expect(server.stderr()).not.toMatch(/^\s+at /m);
      await server.stop();
    } finally {
      await proxy.close();
      await database.drop();
    }
  });
});
