/**
 * Callbacks cannot be turned against the host's network. A run's callbackUrl that reaches a
 * loopback, private, link-local or otherwise reserved address is refused when the run is
 * created, and a name that resolves to one is refused again at delivery, before any
 * connection (so GET /v1/runs/:id/deliveries cannot be used as a port scanner). Internal
 * targets that must really exist live in a network namespace this test creates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { currentBootId } from '../../src/exec/index.js';
import { startTestEngine } from '../helpers/engine.js';
import { openStore } from '../../src/store/index.js';
import { cleanupAll, ROOT, startServer, type ServerHandle } from '../e2e/helpers.js';
import { REFUSED_RANGES } from '../helpers/address-ranges.js';
import { testRunRecord } from '../helpers/records.js';
import { requireNetns } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback receiver that counts connections, not just requests. */
async function receiver(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server: Server = createServer((req, res) => req.resume().on('end', () => res.end()));
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

describe('a server with the default settings', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(cleanupAll);

  it('refuses a callbackUrl in every refused range when the run is created', async () => {
    for (const { cidr, samples } of REFUSED_RANGES) {
      const sample = samples.find((a) => URL.canParse(`http://[${a}]/`) || !a.includes(':'));
      const host = sample!.includes(':') ? `[${sample}]` : sample!;
      const callbackUrl = `http://${host}:8080/hook`;
      const res = await server.api.request('POST', '/v1/runs', { command: ['true'], callbackUrl });
      expect(res.status, `${cidr}: ${callbackUrl}`).toBe(400);
      expect(res.body.error.code, callbackUrl).toBe('CALLBACK_URL_FORBIDDEN');
    }
    expect((await server.api.request('GET', '/v1/runs')).body.runs).toEqual([]);
  });

  it('refuses a name that resolves to loopback, and the receiver there never hears of it', async () => {
    const hook = await receiver();
    for (const callbackUrl of [
      `http://localhost:${hook.port}/hook`,
      `http://127.0.0.1:${hook.port}/hook`,
      `http://[::ffff:7f00:1]:${hook.port}/hook`,
    ]) {
      const res = await server.api.request('POST', '/v1/runs', { command: ['true'], callbackUrl });
      expect(res.status, callbackUrl).toBe(400);
      expect(res.body.error.code).toBe('CALLBACK_URL_FORBIDDEN');
      expect(res.body.error.message).toMatch(/^refusing callback to /);
    }
    expect(hook.connections()).toBe(0);
  });
});

describe('delivery', () => {
  it('refuses a name that resolves to a private address, once, without connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-sec-callback-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig({
      env: { PATCHBAY_DATA_DIR: dir, PATH: '/usr/bin:/bin', PATCHBAY_CALLBACK_BACKOFF_MS: '10' },
      cwd: dir,
    });
    const store = await openStore({ databaseUrl: config.databaseUrl });
    cleanups.push(() => store.close());
    const hook = await receiver();
    // Stored as if created before the name pointed at loopback (or by an older version), and
    // left undelivered by a dead process: this server's recovery delivers it.
    const url = `http://localhost:${hook.port}/hook`;
    const t = new Date().toISOString();
    const run = testRunRecord(
      { outputPolicy: 'truncate', callbackUrl: url },
      {
        status: 'succeeded',
        startedAt: t,
        finishedAt: t,
        exitCode: 0,
        owner: {
          instanceId: 'inst_dead',
          hostname: hostname(),
          pid: 9_999_999,
          bootId: currentBootId(),
        },
      },
    );
    await store.runs.insert(run);
    await startTestEngine(config, store, cleanups);

    const deliveries = await waitFor(async () => {
      const list = await store.callbacks.listForRun(run.id);
      return list.length > 0 ? list : null;
    }, 'the delivery attempt to be recorded');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ attempt: 1, outcome: 'failed', httpStatus: null });
    expect(deliveries[0]!.error).toBe(
      'refused by the address policy: localhost does not resolve to public addresses only',
    );
    expect(hook.connections()).toBe(0);
  });
});

describe('internal targets that really exist (in a network namespace)', () => {
  it('are refused at creation and at delivery, and reached only when allowed', async () => {
    if (!requireNetns()) return;
    const dir = mkdtempSync(join(tmpdir(), 'pb-sec-netns-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const hosts = join(dir, 'hosts');
    writeFileSync(
      hosts,
      '127.0.0.1 localhost\n169.254.169.254 metadata.patchbay.test\n10.99.0.1 internal.patchbay.test\n',
    );
    // The namespace has only lo: nothing it sends can leave it. /etc/hosts is replaced in
    // its own mount namespace only.
    const script = [
      'ip link set lo up',
      'ip addr add 169.254.169.254/32 dev lo',
      'ip addr add 10.99.0.1/32 dev lo',
      'mount --bind "$1" /etc/hosts',
      'exec "$2" "$3"',
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      'unshare',
      [
        '--net',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-euc',
        script,
        'sh',
        hosts,
        join(ROOT, 'node_modules', '.bin', 'tsx'),
        join(ROOT, 'test', 'security', 'fixtures', 'netns-callbacks.ts'),
      ],
      { cwd: ROOT, timeout: 60_000, encoding: 'utf8' },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
    for (const t of report.targets) {
      expect(t, t.url).toMatchObject({ created: 'CALLBACK_URL_FORBIDDEN', delivered: 'refused' });
    }
    expect(report.targets).toHaveLength(5);
    expect(report.connectionsWhileRefusing).toEqual({ metadata: 0, internal: 0 });
    // The same URLs, allowed: each target was there and answered.
    expect(report.allowed).toEqual(Array(5).fill('ok 204'));
    expect(report.requestsWhenAllowed).toEqual({ metadata: 3, internal: 2 });
  });
});
