/**
 * The inbox's LLM pass through a real server (startServer, SQLite and PostgreSQL) with the
 * real GitHub connector against the local fake GitHub and the scripted OpenAI server:
 * - a sync ends (connector connected, tasks listed) while the model call still hangs: the pass
 *   never delays a sync; the call failing leaves the tasks as they were, and is in the ledger;
 * - the next sync asks again, and GET /v1/tasks and the task detail show the suggestions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { TaskListItem } from '../../src/contracts/index.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { githubIssue } from '../fixtures/inbox/builders.js';
import { startFakeGithub, type FakeGithub } from '../fixtures/inbox/fake-github.js';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import { storeDialects } from '../helpers/services.js';
import { waitFor as waitUntil } from '../helpers/wait.js';
import { call } from './call.js';

const ME = 'mlindqvist';
const TOKEN = 'github_pat_llm_pass_test';
const H = 3_600_000;

/** The shared poll, with the 20 s these server round trips get on a loaded machine. */
const waitFor = <T>(check: () => Promise<T>, what: string, timeoutMs = 20_000) =>
  waitUntil(check, what, timeoutMs, 50);

const tasksOf = async (server: RunningServer) =>
  (await call<{ tasks: TaskListItem[] }>(server, 'GET', '/v1/tasks?limit=10')).body.tasks;

const passCalls = async (server: RunningServer) =>
  (
    await call<{ calls: Array<{ purpose: string; outcome: string }> }>(
      server,
      'GET',
      '/v1/llm/calls?limit=50',
    )
  ).body.calls.filter((c) => c.purpose === 'inbox.label');

describe.each(storeDialects)('inbox LLM pass through the server ($name)', (dialect) => {
  let fake: FakeGithub;
  let llm: ScriptedServer;
  let server: RunningServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  const dirs: string[] = [];

  beforeEach(async () => {
    const now = Date.now();
    fake = await startFakeGithub({
      login: ME,
      issues: [1, 2, 3].map((n) =>
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
      ),
      token: { value: TOKEN, scopes: null },
    });
    llm = await startScriptedServer('/v1');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await llm.close();
    await fake.close();
    await cleanup?.();
    cleanup = undefined;
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('never delays a sync, survives a failed call, and asks again at the next sync', async ({
    skip,
  }) => {
    const opened = await dialect.open();
    if (!opened) return skip();
    cleanup = opened.cleanup;
    const dir = mkdtempSync(join(tmpdir(), 'pb-inbox-llm-'));
    dirs.push(dir);
    const config = loadConfig({
      env: {
        PATCHBAY_DATA_DIR: dir,
        PATCHBAY_DATABASE_URL: opened.url,
        PATCHBAY_PORT: '0',
        PATCHBAY_HOST: '127.0.0.1',
        PATCHBAY_INBOX_KEYS: 'k1:llm pass test key material',
        PATCHBAY_INBOX_APPS: JSON.stringify({
          github: {
            clientId: 'Iv1.fakegithub',
            clientSecret: 'github-secret',
            apiBaseUrl: fake.url,
            authorizeUrl: `${fake.url}/login/oauth/authorize`,
            tokenUrl: `${fake.url}/login/oauth/access_token`,
          },
        }),
        PATCHBAY_INBOX_SYNC_INTERVAL_MS: '600000',
        PATCHBAY_INBOX_LLM: 'on',
        PATCHBAY_OPENAI_API_KEY: 'sk-inbox-llm-server-test',
        PATCHBAY_OPENAI_BASE_URL: llm.baseUrl,
        PATCHBAY_LLM_MAX_RETRIES: '0',
        PATH: '/usr/bin:/bin',
        HOME: tmpdir(),
      },
      cwd: dir,
    });
    // The first model call hangs: its stream starts and never ends until the test says.
    llm.enqueue({
      events: (
        chatStream({
          model: 'gpt-5-mini',
          text: '{"summ',
          usage: { prompt: 1, completion: 1 },
        }) as { events: string[] }
      ).events.slice(0, 2),
      hold: true,
    });
    server = await startServer({ config, log: createSilentLogger(), version: 't' });
    const s = server;
    expect((await call(s, 'POST', '/v1/connectors/github/connect', { token: TOKEN })).status).toBe(
      204,
    );
    // The sync ends while the model is still "thinking": connected, three tasks, no summary.
    await waitFor(async () => {
      const { body } = await call<{
        connectors: Array<{ kind: string; lastSyncAt: string | null }>;
      }>(s, 'GET', '/v1/connectors');
      return body.connectors.find((c) => c.kind === 'github')?.lastSyncAt ?? undefined;
    }, 'the first sync');
    await waitFor(async () => llm.requests.length === 1, 'the hanging model call');
    const first = await tasksOf(s);
    expect(first).toHaveLength(3);
    expect(first.every((t) => t.aiSummary === null && t.aiLabels.length === 0)).toBe(true);

    // The call fails (the stream is cut): in the ledger, and the tasks are untouched.
    llm.reset();
    await waitFor(
      async () => (await passCalls(s)).some((c) => c.outcome !== 'succeeded'),
      'the failed call in the ledger',
    );
    expect(await tasksOf(s)).toEqual(first);

    // The next sync asks about all three again.
    llm.enqueue(
      ...[1, 2, 3].map((n) =>
        chatStream({
          model: 'gpt-5-mini',
          text: JSON.stringify({ summary: `Summary ${n}.`, labels: ['payments', `l${n}`] }),
          usage: { prompt: 50, completion: 12 },
        }),
      ),
    );
    expect((await call(s, 'POST', '/v1/connectors/github/sync')).status).toBe(200);
    const done = await waitFor(async () => {
      const tasks = await tasksOf(s);
      return tasks.every((t) => t.aiSummary) ? tasks : undefined;
    }, 'summaries on every task');
    // Same tasks in the same order (the scores moved only with the clock, by the rescore).
    expect(done.map((t) => t.id)).toEqual(first.map((t) => t.id));
    expect(new Set(done.map((t) => t.aiSummary))).toEqual(
      new Set(['Summary 1.', 'Summary 2.', 'Summary 3.']),
    );
    const detail = await call<TaskListItem>(s, 'GET', `/v1/tasks/${done[0]!.id}`);
    expect(detail.body).toMatchObject({
      aiSummary: done[0]!.aiSummary,
      aiLabels: ['payments', expect.stringMatching(/^l\d$/)],
      aiModel: 'openai:gpt-5-mini',
    });
    const calls = await passCalls(s);
    expect(calls.filter((c) => c.outcome === 'succeeded')).toHaveLength(3);
    expect(calls).toHaveLength(4);
  });
});
