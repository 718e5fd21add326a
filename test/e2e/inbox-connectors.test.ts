/**
 * The inbox end to end with the real connectors: a real `patchbay serve` process whose four
 * OAuth apps point at the local Gmail, Jira, GitHub and Drive fakes (loaded with the fixture
 * corpus), driven only through the HTTP API — connect (authorize URL) → the provider's consent
 * and our OAuth callback (the fake's token endpoint, PKCE) → sync → tasks, de-duplicated across
 * sources → a change at the source shows after the next sync → a deletion archives the task.
 * On SQLite with the embedded queue, and on PostgreSQL with BullMQ.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCorpus, PERSONA } from '../fixtures/inbox/corpus/corpus.js';
import { startFakeDrive, type FakeDrive } from '../fixtures/inbox/fake-drive.js';
import { startFakeGithub, type FakeGithub } from '../fixtures/inbox/fake-github.js';
import { startFakeGmail, type FakeGmail } from '../fixtures/inbox/fake-gmail.js';
import { startFakeJira, type FakeJira } from '../fixtures/inbox/fake-jira.js';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import { cleanupAll, startServer, tempDir, waitFor, type Json } from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

interface Fakes {
  gmail: FakeGmail;
  jira: FakeJira;
  github: FakeGithub;
  drive: FakeDrive;
  close(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const corpus = buildCorpus(Date.now());
  const gmail = await startFakeGmail({ user: PERSONA.email, messages: corpus.gmail });
  const jira = await startFakeJira({
    user: {
      accountId: PERSONA.jiraAccountId,
      displayName: PERSONA.name,
      emailAddress: PERSONA.email,
    },
    issues: corpus.jira,
  });
  const github = await startFakeGithub({ login: PERSONA.githubLogin, issues: corpus.github });
  const drive = await startFakeDrive({
    user: { displayName: PERSONA.name, emailAddress: PERSONA.email },
    files: corpus.drive,
  });
  return {
    gmail,
    jira,
    github,
    drive,
    close: async () => {
      await Promise.all([gmail.close(), jira.close(), github.close(), drive.close()]);
    },
  };
}

/** PATCHBAY_INBOX_APPS: each provider's endpoints on its fake. */
function appsFor(f: Fakes): string {
  const app = (url: string, id: string, secret: string, authorize: string, token: string) => ({
    clientId: id,
    clientSecret: secret,
    apiBaseUrl: url,
    authorizeUrl: url + authorize,
    tokenUrl: url + token,
  });
  return JSON.stringify({
    gmail: app(f.gmail.url, 'gmail-client', 'gmail-secret', '/o/oauth2/v2/auth', '/token'),
    drive: app(f.drive.url, 'drive-client', 'drive-secret', '/o/oauth2/v2/auth', '/token'),
    jira: app(f.jira.url, 'jira-client', 'jira-secret', '/authorize', '/oauth/token'),
    github: app(
      f.github.url,
      'Iv1.fakegithub',
      'github-secret',
      '/login/oauth/authorize',
      '/login/oauth/access_token',
    ),
  });
}

const topologies = [
  { name: 'SQLite + embedded queue', skip: false, env: async () => ({ env: {}, drop: noop }) },
  {
    name: 'PostgreSQL + BullMQ',
    skip: !admin || !redisUrl,
    async env() {
      const database = await createPostgresDatabase(admin!);
      const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
      return {
        env: {
          PATCHBAY_DATABASE_URL: database.url,
          PATCHBAY_QUEUE_URL: redisUrl!,
          PATCHBAY_QUEUE_PREFIX: prefix,
          PATCHBAY_INBOX_KEYS: `e2e:${randomBytes(24).toString('hex')}`,
        },
        async drop() {
          await database.drop();
          await deleteRedisKeys(redisUrl!, prefix);
        },
      };
    },
  },
];
async function noop(): Promise<void> {}

afterAll(cleanupAll);

describe.each(topologies)('inbox with the real connectors over HTTP ($name)', (topology) => {
  it.skipIf(topology.skip)(
    'connects the four providers, syncs, merges across sources, follows a change and archives a deletion',
    async () => {
      const fakes = await startFakes();
      const { env, drop } = await topology.env();
      try {
        const server = await startServer({
          dataDir: tempDir('patchbay-inbox-e2e-'),
          startTimeoutMs: 60_000,
          env: {
            ...env,
            PATCHBAY_INBOX_APPS: appsFor(fakes),
            // No periodic sync during the test: the first follows each connect, the rest are
            // asked for through the API.
            PATCHBAY_INBOX_SYNC_INTERVAL_MS: '3600000',
          },
        });
        const { api } = server;

        for (const kind of ['gmail', 'jira', 'github', 'drive'] as const) {
          const connect = await api.request('POST', `/v1/connectors/${kind}/connect`);
          expect(connect.status, connect.text).toBe(200);
          const authorize = new URL(connect.body.authorizeUrl as string);
          expect(authorize.origin).toBe(new URL(fakes[kind].url).origin);
          // The browser: the provider consents and sends the user back to our callback.
          const consent = await fetch(authorize, { redirect: 'manual' });
          expect(consent.status).toBe(302);
          const back = new URL(consent.headers.get('location')!);
          expect(back.origin + back.pathname).toBe(`${server.url}/v1/oauth/callback/${kind}`);
          const callback = await fetch(back);
          expect(callback.status, await callback.clone().text()).toBe(200);
          // The sync that follows a connect.
          await waitFor(
            async () => {
              const list = await api.request('GET', '/v1/connectors');
              const row = (list.body.connectors as Json[]).find((c) => c.kind === kind);
              if (row?.status === 'error') throw new Error(`${kind}: ${JSON.stringify(row)}`);
              return row?.status === 'connected' && row.lastSyncAt !== null;
            },
            `${kind} connected and synced`,
            60_000,
          );
        }
        const listing = await api.request('GET', '/v1/connectors');
        expect(listing.text).not.toMatch(/accessToken|refreshToken|gho_|ya29|access_token/);

        // Tasks: the GitHub pull request and its notification email are one task.
        const all = await api.request('GET', '/v1/tasks?limit=500');
        expect(all.status).toBe(200);
        const tasks = all.body.tasks as Json[];
        expect(tasks.length).toBeGreaterThan(60);
        const pr = tasks.find((t) => String(t.title).startsWith('acme/payments#44:'));
        expect(pr, 'the PR #44 task').toBeDefined();
        const prDetail = await api.request('GET', `/v1/tasks/${pr.id}`);
        expect((prDetail.body.sources as Json[]).map((s) => s.kind).sort()).toEqual([
          'github',
          'gmail',
        ]);
        // PAY-20 and its notification likewise, with the customer's email suggested.
        const pay20 = tasks.find((t) => String(t.title).startsWith('PAY-20:'));
        const pay20Detail = await api.request('GET', `/v1/tasks/${pay20.id}`);
        expect((pay20Detail.body.sources as Json[]).map((s) => s.kind).sort()).toEqual([
          'gmail',
          'jira',
        ]);

        // A change at the source shows after the next sync.
        const prNode = [...fakes.github.issues.values()].find(
          (i) => i.number === 44 && String(i.repository_url).endsWith('acme/payments'),
        )!.node_id;
        fakes.github.updateIssue(prNode, { title: 'Idempotency keys for every gateway call' });
        const synced = await api.request('POST', '/v1/connectors/github/sync');
        expect(synced.status, synced.text).toBe(200);
        expect(synced.body.updated).toBeGreaterThanOrEqual(1);
        await waitFor(
          async () =>
            (await api.request('GET', `/v1/tasks/${pr.id}`)).body.title ===
            'acme/payments#44: Idempotency keys for every gateway call',
          'the new title on the task',
          20_000,
        );

        // A deletion at the source archives the task (its only source).
        const pay26 = tasks.find((t) => String(t.title).startsWith('PAY-26:'));
        expect(pay26, 'the PAY-26 task').toBeDefined();
        expect(
          (await api.request('GET', `/v1/tasks/${pay26.id}`)).body.sources as Json[],
        ).toHaveLength(1);
        fakes.jira.deleteIssue('10026');
        const jiraSync = await api.request('POST', '/v1/connectors/jira/sync');
        expect(jiraSync.status, jiraSync.text).toBe(200);
        expect(jiraSync.body.archived).toBe(1);
        await waitFor(
          async () => (await api.request('GET', `/v1/tasks/${pay26.id}`)).body.archived === true,
          'PAY-26 archived',
          20_000,
        );
        const after = await api.request('GET', '/v1/tasks?limit=500');
        expect((after.body.tasks as Json[]).some((t) => t.id === pay26.id)).toBe(false);
        await server.stop();
      } finally {
        await fakes.close();
        await drop();
      }
    },
    180_000,
  );
});
