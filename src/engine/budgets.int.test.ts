import { tmpdir } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { testRunRecord } from '../../test/helpers/records.js';
import { loadConfig, type ResolvedConfig } from '../config/index.js';
import { isPatchbayError, type PatchbayError } from '../contracts/index.js';
import { createMetrics, createSilentLogger } from '../observability/index.js';
import { openStore, type RunRecord, type Store } from '../store/index.js';
import { createBudgets, dayWindow } from './budgets.js';
import { createEngine } from './engine.js';

const dialects = storeDialects;

const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function run(fields: Partial<RunRecord> = {}): RunRecord {
  return testRunRecord({}, fields);
}

async function refusal(promise: Promise<unknown>): Promise<PatchbayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPatchbayError(err)) throw new Error(`expected a PatchbayError, got ${String(err)}`);
  return err;
}

describe.each(dialects)('budgets ($name)', (dialect) => {
  let url: string;
  let store: Store;
  let config: ResolvedConfig;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    url = opened.url;
    cleanup = opened.cleanup;
    store = await openStore({ databaseUrl: url });
    config = loadConfig({
      env: { PATCHBAY_DATA_DIR: tmpdir(), PATCHBAY_DATABASE_URL: url, PATH: '/usr/bin:/bin' },
      cwd: tmpdir(),
    });
  });

  afterAll(async () => {
    await store?.close();
    // pg's Pool.end() resolves before its sockets have closed: dropping the database WITH
    // (FORCE) at once has the server kill them, which pg reports as an unhandled error.
    await new Promise((r) => setTimeout(r, 200));
    await cleanup?.();
  });

  // Each test starts from an empty runs and budgets table: usage is counted over all of them.
  beforeEach(async () => {
    if (skip) return;
    await store.handle.db.deleteFrom('runs').execute();
    await store.handle.db.deleteFrom('jobs').execute();
    await store.handle.db.deleteFrom('budgets').execute();
    await store.handle.db.deleteFrom('llm_calls').execute();
  });

  const budgetsOf = () => createBudgets({ store, config: { ...config }, metrics: createMetrics() });

  it('stores, replaces, lists and deletes budgets', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const at = new Date().toISOString();
    const limits = {
      maxConcurrentRuns: null,
      maxRunsPerDay: null,
      maxAgentMinutesPerDay: null,
      maxUsdPerDay: null,
      updatedAt: at,
    };
    await store.budgets.put({ ...limits, scope: 'repo_b', maxRunsPerDay: 5 });
    await store.budgets.put({ ...limits, scope: 'global', maxUsdPerDay: 12.5 });
    await store.budgets.put({ ...limits, scope: 'repo_a', maxAgentMinutesPerDay: 90.5 });
    await store.budgets.put({ ...limits, scope: 'repo_b', maxConcurrentRuns: 2 });
    expect((await store.budgets.list()).map((b) => b.scope)).toEqual([
      'global',
      'repo_a',
      'repo_b',
    ]);
    expect(await store.budgets.getMany(['repo_b', 'repo_c'])).toEqual([
      { ...limits, scope: 'repo_b', maxConcurrentRuns: 2 },
    ]);
    expect((await store.budgets.getMany(['global']))[0]!.maxUsdPerDay).toBe(12.5);
    expect(await store.budgets.delete('repo_a')).toBe(true);
    expect(await store.budgets.delete('repo_a')).toBe(false);
    expect((await store.budgets.list()).map((b) => b.scope)).toEqual(['global', 'repo_b']);
  });

  it('reads active runs and the runs created since a time, per repository or all', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const now = Date.now();
    await store.runs.insert(run({ status: 'running', repoId: 'repo_a' }));
    await store.runs.insert(run({ status: 'paused' }));
    await store.runs.insert(run({ status: 'queued', repoId: 'repo_b' }));
    await store.runs.insert(run({ status: 'succeeded', repoId: 'repo_a', costUsd: 0.5 }));
    await store.runs.insert(run({ status: 'failed', createdAt: iso(now - 3 * 86_400_000) }));
    expect(await store.runs.countActive()).toBe(3);
    expect(await store.runs.countActive('repo_a')).toBe(1);
    const since = iso(now - 86_400_000);
    expect(await store.runs.listUsageSince(since)).toHaveLength(4);
    const a = await store.runs.listUsageSince(since, 'repo_a');
    expect(a.map((r) => r.costUsd).sort()).toEqual([0.5, null]);
  });

  it('rolls the insert back when the check throws', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const refused = run();
    await expect(
      store.runs.insertChecked(refused, ['global'], async (reader) => {
        expect(await reader.countActive()).toBe(0);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await store.runs.get(refused.id)).toBeUndefined();
    const allowed = run();
    await store.runs.insertChecked(allowed, ['global'], async () => {});
    expect(await store.runs.get(allowed.id)).toBeDefined();
  });

  it('refuses past the concurrency limit; finished runs free their slot', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    await budgets.put({ kind: 'global' }, { maxConcurrentRuns: 2 });
    await budgets.insertRun(run());
    await budgets.insertRun(run({ status: 'paused' }));
    const err = await refusal(budgets.insertRun(run()));
    expect(err.code).toBe('BUDGET_EXCEEDED');
    expect(err.details).toMatchObject({
      scope: 'global',
      limit: 'maxConcurrentRuns',
      max: 2,
      used: 2,
      resetAt: null,
      retryAfterSeconds: 15,
    });
    await store.handle.db.updateTable('runs').set({ status: 'succeeded' }).execute();
    await budgets.insertRun(run());
    expect(await store.runs.countActive()).toBe(1);
  });

  it('refuses past the runs per day until the next midnight; older runs do not count', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    await budgets.put({ kind: 'global' }, { maxRunsPerDay: 2 });
    const { start, resetAt } = dayWindow(Date.now(), 'UTC');
    await store.runs.insert(run({ status: 'succeeded', createdAt: iso(Date.parse(start) - 1) }));
    await budgets.insertRun(run());
    await budgets.insertRun(run());
    const before = Date.now();
    const err = await refusal(budgets.insertRun(run()));
    const details = err.details as { retryAfterSeconds: number; resetAt: string };
    expect(details).toMatchObject({ limit: 'maxRunsPerDay', used: 2, resetAt });
    const expected = Math.ceil((Date.parse(resetAt) - before) / 1000);
    expect(details.retryAfterSeconds).toBeGreaterThanOrEqual(expected - 2);
    expect(details.retryAfterSeconds).toBeLessThanOrEqual(expected);
    expect(err.message).toContain('at most 2 runs per day (2 created today)');
  });

  it('counts agent minutes from started to finished, or to now while running', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    const now = Date.now();
    await store.runs.insert(
      run({
        status: 'succeeded',
        startedAt: iso(now - 30 * MINUTE),
        finishedAt: iso(now - 20 * MINUTE),
      }),
    );
    await store.runs.insert(run({ status: 'succeeded', startedAt: iso(now - 5 * MINUTE) }));
    // 10 + 5 minutes used: 16 leaves room, 15 does not.
    await budgets.put({ kind: 'global' }, { maxAgentMinutesPerDay: 16 });
    await budgets.insertRun(run());
    await budgets.put({ kind: 'global' }, { maxAgentMinutesPerDay: 15 });
    const err = await refusal(budgets.insertRun(run()));
    expect(err.details).toMatchObject({ limit: 'maxAgentMinutesPerDay', max: 15 });
    const listed = (await budgets.list()).budgets[0]!;
    expect(listed.usage.agentMinutesToday).toBeGreaterThanOrEqual(15);
    expect(listed.usage.agentMinutesToday).toBeLessThan(15.5);
  });

  it('counts reported cost and estimates it from tokens when none was reported', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    await store.runs.insert(run({ status: 'succeeded', costUsd: 1.5 }));
    await store.runs.insert(
      run({
        status: 'succeeded',
        usage: { input: 500_000, output: 0, cacheRead: 0, cacheWrite: 0 },
      }),
    );
    await budgets.put({ kind: 'global' }, { maxUsdPerDay: 3.01 });
    await budgets.insertRun(run());
    await budgets.put({ kind: 'global' }, { maxUsdPerDay: 3 });
    const err = await refusal(budgets.insertRun(run()));
    expect(err.details).toMatchObject({ limit: 'maxUsdPerDay', max: 3, used: 3 });
    const listed = (await budgets.list()).budgets[0]!;
    expect(listed.usage).toMatchObject({ usdToday: 3, estimatedUsdToday: 1.5, runsToday: 3 });
  });

  it('counts model calls from the ledger, per repository, once for a run reporting its cost', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    const costed = run({ status: 'succeeded', costUsd: 1, repoId: 'repo_a' });
    const uncosted = run({ status: 'succeeded', repoId: 'repo_a' });
    await store.runs.insert(costed);
    await store.runs.insert(uncosted);
    const call = (
      id: string,
      fields: { runId: string | null; repoId: string | null; usd: number },
    ) =>
      store.llmCalls.insert({
        id,
        runId: fields.runId,
        repoId: fields.repoId,
        purpose: 'test',
        provider: 'openai',
        model: 'gpt-5-mini',
        inputTokens: 1,
        outputTokens: 1,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costUsd: fields.usd,
        latencyMs: 5,
        attempts: 1,
        outcome: 'succeeded',
        rawUsage: { prompt_tokens: 1 },
        createdAt: iso(Date.now()),
      });
    // Counted: a call of repo_a without a run, one of a run that reports no cost, one of repo_b.
    await call('c1', { runId: null, repoId: 'repo_a', usd: 0.25 });
    await call('c2', { runId: uncosted.id, repoId: 'repo_a', usd: 0.5 });
    await call('c3', { runId: null, repoId: 'repo_b', usd: 2 });
    // Not counted again: the run's own cost (1 USD) already covers its calls.
    await call('c4', { runId: costed.id, repoId: 'repo_a', usd: 1 });
    // Yesterday's call is not today's.
    await store.llmCalls.insert({
      ...(await store.llmCalls.listByRun(uncosted.id))[0]!,
      id: 'c5',
      createdAt: iso(Date.now() - 2 * 24 * 60 * MINUTE),
    });
    await store.budgets.put({
      scope: 'repo_a',
      maxConcurrentRuns: null,
      maxRunsPerDay: null,
      maxAgentMinutesPerDay: null,
      maxUsdPerDay: 1.75,
      updatedAt: iso(Date.now()),
    });
    const err = await refusal(budgets.insertRun(run({ repoId: 'repo_a' })));
    expect(err.code).toBe('BUDGET_EXCEEDED');
    expect(err.details).toMatchObject({ scope: 'repo_a', limit: 'maxUsdPerDay', used: 1.75 });
    await budgets.put({ kind: 'global' }, { maxUsdPerDay: 10 });
    const global = (await budgets.list()).budgets.find((b) => b.scope === 'global')!;
    expect(global.usage.usdToday).toBe(3.75);
  });

  it("limits a repository's runs by its budget and every run by the global one", async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const budgets = budgetsOf();
    await store.budgets.put({
      scope: 'repo_a',
      maxConcurrentRuns: null,
      maxRunsPerDay: 1,
      maxAgentMinutesPerDay: null,
      maxUsdPerDay: null,
      updatedAt: iso(Date.now()),
    });
    await budgets.insertRun(run({ repoId: 'repo_a' }));
    const err = await refusal(budgets.insertRun(run({ repoId: 'repo_a' })));
    expect(err.details).toMatchObject({ scope: 'repo_a', limit: 'maxRunsPerDay' });
    expect(err.message).toContain('budget of repository repo_a');
    // Other repositories and runs without one are not limited by repo_a's budget.
    await budgets.insertRun(run({ repoId: 'repo_b' }));
    await budgets.insertRun(run());
    await budgets.put({ kind: 'global' }, { maxRunsPerDay: 3 });
    const global = await refusal(budgets.insertRun(run({ repoId: 'repo_b' })));
    expect(global.details).toMatchObject({ scope: 'global', used: 3 });
  });

  it('lets exactly N of many concurrent createRun calls through a budget of N', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const N = 3;
    // Two API nodes on PostgreSQL: two pools, so only the advisory lock orders the checks. On
    // SQLite one process has one connection (better-sqlite3 waits for a lock synchronously,
    // so a second connection in the same thread would wait on itself); nodes are processes.
    const second = dialect.name === 'postgres' ? await openStore({ databaseUrl: url }) : store;
    const engines = [store, second].map((s) =>
      createEngine({
        config,
        store: s,
        log: createSilentLogger(),
        metrics: createMetrics(),
        version: 't',
      }),
    );
    try {
      await createBudgets({ store, config }).put({ kind: 'global' }, { maxConcurrentRuns: N });
      const attempts = Array.from({ length: 24 }, (_, i) =>
        engines[i % 2]!.createRun({ agent: 'shell', command: ['true'] }),
      );
      const results = await Promise.allSettled(attempts);
      const created = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter(
        (r) =>
          r.status === 'rejected' &&
          isPatchbayError(r.reason) &&
          r.reason.code === 'BUDGET_EXCEEDED',
      );
      expect(created).toHaveLength(N);
      expect(refused).toHaveLength(24 - N);
      expect(await store.runs.countActive()).toBe(N);
    } finally {
      await Promise.all(engines.map((e) => e.stop()));
      if (second !== store) await second.close();
    }
  });
});
