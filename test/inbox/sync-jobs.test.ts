/**
 * Connector syncs as queue jobs, through real servers (startServer) on real stores, the real
 * GitHub connector against the local fake GitHub (its wire format and rate-limit answers):
 * - a token connect queues a sync at once (the interval is 10 minutes: only the job syncs);
 * - two servers on one PostgreSQL store (embedded queue, then BullMQ on Redis), each taking
 *   sync jobs and hammered with "sync now", never sync one connector at the same time;
 * - a server restarted while the connector is rate limited sends nothing before the time the
 *   provider named, then syncs (SQLite and PostgreSQL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createConnector } from '../../src/intake/connectors/index.js';
import { INBOX_SYNC_QUEUE, syncJobId, type CreateConnector } from '../../src/intake/index.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { githubIssue } from '../fixtures/inbox/builders.js';
import { startFakeGithub, type FakeGithub } from '../fixtures/inbox/fake-github.js';
import {
  deleteRedisKeys,
  requireRedis,
  storeDialects,
  type StoreDialect,
} from '../helpers/services.js';
import { waitFor as waitUntil } from '../helpers/wait.js';
import { call } from './call.js';

const ME = 'mlindqvist';
const TOKEN = 'github_pat_sync_jobs_test';
const H = 3_600_000;

/** The shared poll, with the 20 s these server round trips get on a loaded machine. */
const waitFor = <T>(check: () => Promise<T>, what: string, timeoutMs = 20_000) =>
  waitUntil(check, what, timeoutMs, 50);

interface Connector {
  kind: string;
  status: string;
  message: string | null;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  blockedUntil: string | null;
}

async function github(server: RunningServer): Promise<Connector> {
  const { body } = await call<{ connectors: Connector[] }>(server, 'GET', '/v1/connectors');
  return body.connectors.find((c) => c.kind === 'github')!;
}

/** The real connector, its `sync` watched: how many run at once, across every server here. */
function watched(stats: { now: number; max: number; total: number }): CreateConnector {
  return (kind, app, doFetch) => {
    const real = createConnector(kind, app, doFetch);
    return {
      ...real,
      async sync(credentials, cursor) {
        stats.now++;
        stats.total++;
        stats.max = Math.max(stats.max, stats.now);
        try {
          return await real.sync(credentials, cursor);
        } finally {
          stats.now--;
        }
      },
    };
  };
}

/** Every request to the fake takes `ms` more: syncs last long enough to overlap if they can. */
const slowFetch =
  (ms: number): typeof fetch =>
  async (input, init) => {
    await new Promise((r) => setTimeout(r, ms));
    return fetch(input, init);
  };

function issues(now: number) {
  return [1, 2, 3].map((n) =>
    githubIssue({
      repo: 'acme/payments',
      number: n,
      title: `Payments issue ${n}`,
      body: 'details',
      author: 'jpark',
      assignees: [ME],
      created: now - 5 * H,
      updated: now - n * H,
    }),
  );
}

describe('inbox syncs as queue jobs', () => {
  let fake: FakeGithub;
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    fake = await startFakeGithub({
      login: ME,
      issues: issues(Date.now()),
      token: { value: TOKEN, scopes: null },
    });
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await fake.close();
    for (const c of cleanups.splice(0)) await c();
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function boot(
    databaseUrl: string,
    options: {
      intervalMs?: number;
      queueUrl?: string;
      prefix?: string;
      createConnector?: CreateConnector;
      fetch?: typeof fetch;
    } = {},
  ): Promise<RunningServer> {
    const dir = mkdtempSync(join(tmpdir(), 'pb-inbox-sync-'));
    dirs.push(dir);
    const config = loadConfig({
      env: {
        PATCHBAY_DATA_DIR: dir,
        PATCHBAY_DATABASE_URL: databaseUrl,
        ...(options.queueUrl
          ? { PATCHBAY_QUEUE_URL: options.queueUrl, PATCHBAY_QUEUE_PREFIX: options.prefix! }
          : {}),
        PATCHBAY_PORT: '0',
        PATCHBAY_HOST: '127.0.0.1',
        PATCHBAY_INBOX_KEYS: 'k1:sync jobs test key material',
        PATCHBAY_INBOX_APPS: JSON.stringify({
          github: {
            clientId: 'Iv1.fakegithub',
            clientSecret: 'github-secret',
            apiBaseUrl: fake.url,
            authorizeUrl: `${fake.url}/login/oauth/authorize`,
            tokenUrl: `${fake.url}/login/oauth/access_token`,
          },
        }),
        PATCHBAY_INBOX_SYNC_INTERVAL_MS: String(options.intervalMs ?? 600_000),
        PATCHBAY_RUN_LEASE_MS: '3000',
        PATH: '/usr/bin:/bin',
        HOME: tmpdir(),
      },
      cwd: dir,
    });
    const server = await startServer({
      config,
      log: createSilentLogger(),
      version: 't',
      ...(options.createConnector ? { createConnector: options.createConnector } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    servers.push(server);
    return server;
  }

  async function openDialect(dialect: StoreDialect): Promise<string | null> {
    const opened = await dialect.open();
    if (!opened) return null;
    cleanups.push(opened.cleanup);
    return opened.url;
  }

  it.each(storeDialects)(
    'a token connect queues a sync at once, as a job ($name)',
    async (dialect) => {
      const url = await openDialect(dialect);
      if (!url) return;
      const server = await boot(url);
      // Not connected yet: nothing to sync (not a 409: there is no sync to be in).
      expect(await call(server, 'POST', '/v1/connectors/github/sync')).toMatchObject({
        status: 200,
        body: null,
      });
      const connected = await call(server, 'POST', '/v1/connectors/github/connect', {
        token: TOKEN,
      });
      expect(connected.status).toBe(204);
      // The interval is 10 minutes and nothing else syncs: the job queued by the connect does.
      const synced = await waitFor(async () => {
        const c = await github(server);
        return c.lastSyncAt ? c : undefined;
      }, 'the first sync');
      expect(synced).toMatchObject({ status: 'connected', message: null });
      const tasks = await call<{ tasks: unknown[] }>(server, 'GET', '/v1/tasks?limit=10');
      expect(tasks.body.tasks).toHaveLength(3);
      // The job for the next sync waits (delayed) for the interval, named by its due time.
      const next = Date.parse(synced.nextSyncAt!);
      expect(next - Date.parse(synced.lastSyncAt!)).toBeGreaterThan(590_000);
      await waitFor(
        async () =>
          (await server.engine.queue.getJob(INBOX_SYNC_QUEUE, syncJobId('github', next)))
            ?.status === 'delayed',
        'the next sync job, delayed',
      );
    },
  );

  const topologies = [
    { name: 'embedded queue', redis: false },
    { name: 'BullMQ', redis: true },
  ];
  it.each(topologies)(
    'two servers on one PostgreSQL store never sync one connector at once ($name)',
    async ({ redis }) => {
      const url = await openDialect(storeDialects.find((d) => d.name === 'postgres')!);
      if (!url) return;
      let queueUrl: string | undefined;
      const prefix = `pb-inbox-sync-${process.pid}-${Date.now()}`;
      if (redis) {
        const found = await requireRedis();
        if (!found) return;
        queueUrl = found;
        cleanups.push(() => deleteRedisKeys(found, prefix));
      }
      const stats = { now: 0, max: 0, total: 0 };
      const options = {
        intervalMs: 200,
        createConnector: watched(stats),
        fetch: slowFetch(40),
        ...(queueUrl ? { queueUrl, prefix } : {}),
      };
      const a = await boot(url, options);
      const b = await boot(url, options);
      expect(
        (await call(a, 'POST', '/v1/connectors/github/connect', { token: TOKEN })).status,
      ).toBe(204);
      // Jobs every 200 ms on both servers, plus "sync now" on both at once, until there were
      // enough syncs and both answers (a sync, a refusal while the other one syncs).
      const answers: number[] = [];
      await waitFor(
        async () => {
          const both = await Promise.all([
            call(a, 'POST', '/v1/connectors/github/sync'),
            call(b, 'POST', '/v1/connectors/github/sync'),
          ]);
          answers.push(...both.map((r) => r.status));
          return stats.total > 5 && answers.includes(200) && answers.includes(409);
        },
        'syncs and refusals on both servers',
        45_000,
      );
      await waitFor(async () => stats.now === 0, 'syncs in flight to end');
      expect(stats.max).toBe(1);
      expect(stats.total).toBeGreaterThan(5);
      // Both outcomes happened: syncs, and refusals while the other server was syncing.
      expect(answers).toContain(200);
      expect(answers).toContain(409);
      expect(answers.every((s) => s === 200 || s === 409)).toBe(true);
      const c = await github(a);
      expect(c.status).toBe('connected');
    },
    90_000,
  );

  it.each(storeDialects)(
    'a server restarted while rate limited sends nothing before the time named, then syncs ($name)',
    async (dialect) => {
      const url = await openDialect(dialect);
      if (!url) return;
      const first = await boot(url);
      await call(first, 'POST', '/v1/connectors/github/connect', { token: TOKEN });
      await waitFor(async () => (await github(first)).lastSyncAt ?? undefined, 'the first sync');
      const lastSyncAt = (await github(first)).lastSyncAt!;
      // GitHub's primary rate limit, reset in 10 s (room for a restart on a loaded machine).
      fake.rateLimitNext(100, { resetInS: 10 });
      const refused = await call(first, 'POST', '/v1/connectors/github/sync');
      expect(refused).toMatchObject({ status: 200, body: null });
      const blocked = await github(first);
      expect(blocked.status).toBe('error');
      expect(blocked.message).toMatch(/rate limited until/);
      expect(blocked.blockedUntil).not.toBeNull();
      const until = Date.parse(blocked.blockedUntil!);
      expect(Date.parse(blocked.nextSyncAt!)).toBe(until);
      fake.rateLimitNext(0);
      await first.close();
      servers.splice(servers.indexOf(first), 1);

      const sentBefore = fake.apiRequests().length;
      const second = await boot(url);
      // Sync now, test: refused without a request while blocked.
      expect(await call(second, 'POST', '/v1/connectors/github/sync')).toMatchObject({
        status: 200,
        body: null,
      });
      const tested = await call<{ ok: boolean; steps: Array<{ detail: string }> }>(
        second,
        'POST',
        '/v1/connectors/github/test',
      );
      expect(tested.body.ok).toBe(false);
      expect(tested.body.steps[0]!.detail).toMatch(/rate limited until/);
      const job = await second.engine.queue.getJob(INBOX_SYNC_QUEUE, syncJobId('github', until));
      expect(job?.status).toBe('delayed');
      // Then, once the time has come, the job syncs.
      const synced = await waitFor(
        async () => {
          const c = await github(second);
          return c.lastSyncAt !== lastSyncAt && c.status === 'connected' ? c : undefined;
        },
        'the sync after the rate limit',
        30_000,
      );
      expect(synced.blockedUntil).toBeNull();
      const after = fake.apiRequests().slice(sentBefore);
      expect(after.length).toBeGreaterThan(0);
      // The fake records a request when it answers; none was sent before the time named.
      expect(Math.min(...after.map((r) => r.at))).toBeGreaterThanOrEqual(until);
    },
    60_000,
  );
});
