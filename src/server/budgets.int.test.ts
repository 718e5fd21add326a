import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { injectServers } from '../../test/helpers/inject-server.js';
import { afterEach, describe, expect, it } from 'vitest';
import { testRunRecord } from '../../test/helpers/records.js';
import type { RunRecord } from '../store/index.js';
import { git } from '../workspaces/index.js';
import { type RunningServer } from './serve.js';

const env = { PATH: '/usr/bin:/bin', HOME: tmpdir() };
const fakeClaude = resolve('test/fixtures/agents/fake-claude.sh');
const servers = injectServers('pb-budgets-');
afterEach(servers.closeAll);

async function boot(): Promise<{ server: RunningServer; root: string }> {
  const server = await servers.boot({ PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude, HOME: tmpdir() });
  return { server, root: join(server.dataDir, 'workspaces') };
}

async function registerRepo(server: RunningServer, root: string, name: string) {
  const path = join(root, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# hi\n');
  await git(['init', '-q', '-b', 'main'], path, { env });
  await git(['add', '.'], path, { env });
  await git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init'], path, {
    env,
  });
  const res = await server.app.inject({ method: 'POST', url: '/v1/repos', payload: { path } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; name: string };
}

const put = (server: RunningServer, url: string, payload: unknown) =>
  server.app.inject({ method: 'PUT', url, payload: payload as object });
const createRun = (server: RunningServer, payload: object = {}) =>
  server.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: { agent: 'shell', command: ['true'], ...payload },
  });
/** A run that already happened today, as the store records it. */
const pastRun = (server: RunningServer, fields: Partial<RunRecord>) =>
  server.store.runs.insert(testRunRecord({}, { status: 'succeeded', ...fields }));

function expectRefused(
  res: Awaited<ReturnType<typeof createRun>>,
  details: Record<string, unknown>,
): number {
  expect(res.statusCode).toBe(429);
  const error = res.json().error;
  expect(error.code).toBe('BUDGET_EXCEEDED');
  expect(error.details).toMatchObject(details);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBe(error.details.retryAfterSeconds);
  return retryAfter;
}

/** Seconds from now to the next UTC midnight. */
const toMidnight = (): number => {
  const now = new Date();
  return Math.ceil(
    (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) /
      1000,
  );
};

describe('/v1/budgets', () => {
  it('sets, lists with usage, replaces and removes the global budget', async () => {
    const { server } = await boot();
    expect((await server.app.inject({ method: 'GET', url: '/v1/budgets' })).json()).toEqual({
      timezone: 'UTC',
      budgets: [],
    });
    await pastRun(server, { costUsd: 0.25 });
    const set = await put(server, '/v1/budgets/global', { maxRunsPerDay: 10, maxUsdPerDay: 5 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      scope: 'global',
      repoId: null,
      maxConcurrentRuns: null,
      maxRunsPerDay: 10,
      maxAgentMinutesPerDay: null,
      maxUsdPerDay: 5,
      usage: { concurrentRuns: 0, runsToday: 1, usdToday: 0.25, agentMinutesToday: 0 },
    });
    const list = (await server.app.inject({ method: 'GET', url: '/v1/budgets' })).json();
    expect(list.budgets).toHaveLength(1);
    expect(Date.parse(list.budgets[0].resetAt) - Date.now()).toBeLessThanOrEqual(86_400_000);
    // PUT replaces: limits left out are lifted.
    const replaced = await put(server, '/v1/budgets/global', { maxConcurrentRuns: 3 });
    expect(replaced.json()).toMatchObject({ maxConcurrentRuns: 3, maxRunsPerDay: null });
    const removed = await server.app.inject({ method: 'DELETE', url: '/v1/budgets/global' });
    expect(removed.statusCode).toBe(200);
    expect(removed.json().maxConcurrentRuns).toBe(3);
    const again = await server.app.inject({ method: 'DELETE', url: '/v1/budgets/global' });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('BUDGET_NOT_FOUND');
  });

  it('refuses invalid limits with VALIDATION_FAILED and unknown repositories with REPO_NOT_FOUND', async () => {
    const { server } = await boot();
    for (const body of [
      {},
      { maxRunsPerDay: null },
      { maxRunsPerDay: -1 },
      { maxConcurrentRuns: 1.5 },
      { maxUsdPerDay: '5' },
      { maxRunsPerDay: 1, maxRuns: 2 },
    ]) {
      const res = await put(server, '/v1/budgets/global', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await put(server, '/v1/budgets/repos/nope', { maxRunsPerDay: 1 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('REPO_NOT_FOUND');
  });

  it("names a repository's budget by id or name, and it limits only that repository's runs", async () => {
    const { server, root } = await boot();
    const repo = await registerRepo(server, root, 'app');
    const set = await put(server, '/v1/budgets/repos/app', { maxRunsPerDay: 0 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ scope: repo.id, repoId: repo.id, repoName: 'app' });
    const refused = await createRun(server, { repo: repo.id });
    expectRefused(refused, { scope: repo.id, limit: 'maxRunsPerDay', max: 0, used: 0 });
    expect(refused.json().error.message).toContain(`budget of repository ${repo.id}`);
    expect((await createRun(server)).statusCode).toBe(202);
    const removed = await server.app.inject({
      method: 'DELETE',
      url: `/v1/budgets/repos/${repo.id}`,
    });
    expect(removed.statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/v1/budgets' })).json().budgets).toEqual(
      [],
    );
  });

  it('answers 429 with Retry-After for the concurrency limit', async () => {
    const { server } = await boot();
    await pastRun(server, { status: 'paused', startedAt: new Date().toISOString() });
    await put(server, '/v1/budgets/global', { maxConcurrentRuns: 1 });
    const retryAfter = expectRefused(await createRun(server), {
      scope: 'global',
      limit: 'maxConcurrentRuns',
      used: 1,
      resetAt: null,
    });
    expect(retryAfter).toBe(15);
  });

  it('answers 429 with Retry-After at the next midnight for runs per day', async () => {
    const { server } = await boot();
    await put(server, '/v1/budgets/global', { maxRunsPerDay: 1 });
    expect((await createRun(server)).statusCode).toBe(202);
    const before = toMidnight();
    const retryAfter = expectRefused(await createRun(server), { limit: 'maxRunsPerDay', used: 1 });
    expect(retryAfter).toBeGreaterThanOrEqual(before - 2);
    expect(retryAfter).toBeLessThanOrEqual(before);
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /patchbay_budget_refusals_total\{scope="global",limit="maxRunsPerDay"\} 1/,
    );
  });

  it('answers 429 for agent minutes per day', async () => {
    const { server } = await boot();
    const now = Date.now();
    await pastRun(server, {
      startedAt: new Date(now - 10 * 60_000).toISOString(),
      finishedAt: new Date(now - 4 * 60_000).toISOString(),
    });
    await put(server, '/v1/budgets/global', { maxAgentMinutesPerDay: 6 });
    const retryAfter = expectRefused(await createRun(server), {
      limit: 'maxAgentMinutesPerDay',
      max: 6,
      used: 6,
    });
    expect(retryAfter).toBeGreaterThan(0);
  });

  it('answers 429 for USD per day, reported or estimated from tokens', async () => {
    const { server } = await boot();
    await pastRun(server, { agent: 'claude', costUsd: 1 });
    // 100k output tokens at the default 15 USD per million: 1.5 USD, estimated.
    await pastRun(server, {
      agent: 'codex',
      usage: { input: 0, output: 100_000, cacheRead: 0, cacheWrite: 0 },
    });
    await put(server, '/v1/budgets/global', { maxUsdPerDay: 2.5 });
    expectRefused(await createRun(server), { limit: 'maxUsdPerDay', max: 2.5, used: 2.5 });
    const [budget] = (await server.app.inject({ method: 'GET', url: '/v1/budgets' })).json()
      .budgets;
    expect(budget.usage).toMatchObject({ usdToday: 2.5, estimatedUsdToday: 1.5 });
  });

  it("refuses a conversation's next message like any other run", async () => {
    const { server } = await boot();
    const conversation = (
      await server.app.inject({
        method: 'POST',
        url: '/v1/conversations',
        payload: { agent: 'claude' },
      })
    ).json();
    await put(server, '/v1/budgets/global', { maxRunsPerDay: 0 });
    const res = await server.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversation.id}/messages`,
      payload: { prompt: 'hello' },
    });
    expectRefused(res, { scope: 'global', limit: 'maxRunsPerDay' });
    const after = (
      await server.app.inject({ method: 'GET', url: `/v1/conversations/${conversation.id}` })
    ).json();
    expect(after.messages).toEqual([]);
  });
});
