/**
 * Seeds what the conversations, repositories, optimizer, schedules, budgets and workers pages
 * show, as users and Patchbay itself make it: a repository, a conversation answered by the
 * scripted claude CLI, a schedule and budgets through the real HTTP API; an optimization
 * through the store's own repositories, from the artifacts of a real `patchbay optimize` run
 * of test/fixtures/repos/lib-math (recorded in ./fixtures/optimization: a real run takes
 * minutes of benchmarking, too long for a browser test).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Proposal } from '../../src/contracts/index.js';
import { openStore, ulid, type RunRecord } from '../../src/store/index.js';
import { testRunRecord } from '../helpers/records.js';
import { GIT_ENV, ROOT, type Json } from '../e2e/helpers.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'optimization');
export const AGENT_BINS = {
  PATCHBAY_AGENT_CLAUDE_BIN: join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.sh'),
};

/** What a page test needs to reach the seeded rows. */
export interface PagesSeed {
  repoId: string;
  conversationId: string;
  scheduleId: string;
  optimizationId: string;
  proposalId: string;
}

/** Minimal HTTP access to the server under test (bearer token optional). */
export interface SeedApi {
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; body: Json }>;
}

/** The lib-math fixture as a git repository under `root` (a trusted root of the server). */
export function fixtureRepo(root: string, name = 'lib-math'): string {
  const dir = join(root, name);
  cpSync(join(ROOT, 'test', 'fixtures', 'repos', 'lib-math'), dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: GIT_ENV });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'fixture');
  return dir;
}

async function ok(
  api: SeedApi,
  method: string,
  path: string,
  body: unknown,
  want: number[],
): Promise<Json> {
  const res = await api.request(method, path, body);
  if (!want.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * Seeds everything. `root` must be a trusted root (PATCHBAY_WORKSPACE_ROOTS) and the server
 * must run with AGENT_BINS; `dataDir` is the server's, whose SQLite store the optimization is
 * written into while it runs (WAL: the server sees the rows at once).
 */
export async function seedPages(api: SeedApi, dataDir: string, root: string): Promise<PagesSeed> {
  const repo = await ok(api, 'POST', '/v1/repos', { path: fixtureRepo(root) }, [201]);
  const conv = await ok(
    api,
    'POST',
    '/v1/conversations',
    { agent: 'claude', title: 'Tidy the README', repo: repo.id },
    [201],
  );
  await ok(
    api,
    'POST',
    `/v1/conversations/${conv.id}/messages`,
    { prompt: 'Please tidy the README.', wait: true },
    [200],
  );
  const schedule = await ok(
    api,
    'POST',
    '/v1/schedules',
    {
      name: 'nightly tests',
      cron: '0 3 * * *',
      timezone: 'UTC',
      run: { agent: 'shell', command: ['echo', 'nightly'] },
    },
    [201],
  );
  await ok(api, 'PUT', '/v1/budgets/global', { maxRunsPerDay: 200, maxUsdPerDay: 25 }, [200]);
  await ok(api, 'PUT', `/v1/budgets/repos/${repo.id}`, { maxConcurrentRuns: 2 }, [200]);
  const { optimizationId, proposalId } = await seedOptimization(dataDir, repo.id);
  return {
    repoId: repo.id,
    conversationId: conv.id,
    scheduleId: schedule.id,
    optimizationId,
    proposalId,
  };
}

/**
 * One finished optimization of `repoId`: its six stage runs, the validate and propose stages'
 * artifacts (files under `<dataDir>/artifacts`, as the stages store them) and its proposals,
 * written with the store's repositories.
 */
export async function seedOptimization(
  dataDir: string,
  repoId: string,
): Promise<{ optimizationId: string; proposalId: string }> {
  const store = await openStore({ databaseUrl: join(dataDir, 'patchbay.db'), migrate: false });
  try {
    const stages = ['detect', 'baseline', 'scan', 'patch', 'validate', 'propose'] as const;
    const start = Date.now() - 10 * 60_000;
    let first: RunRecord | undefined;
    const runs: Record<string, RunRecord> = {};
    for (const [i, stage] of stages.entries()) {
      const at = (s: number) => new Date(start + i * 60_000 + s * 1000).toISOString();
      const run = testRunRecord(
        { agent: 'shell', command: null, prompt: null },
        {
          kind: `optimize.${stage}`,
          repoId,
          status: 'succeeded',
          createdAt: at(0),
          startedAt: at(1),
          finishedAt: at(40),
          exitCode: 0,
        },
      );
      first ??= run;
      run.parentId = first.id;
      runs[stage] = run;
      await store.runs.insert(run);
    }
    const optimizationId = first!.id;
    const artifacts: [keyof typeof runs, string, string][] = [
      ['baseline', 'logs.txt', 'text/plain'],
      ['baseline', 'baseline.json', 'application/json'],
      ['validate', 'attempts.json', 'application/json'],
      ['propose', 'proposals.json', 'application/json'],
    ];
    for (const [stage, name, contentType] of artifacts) {
      const runId = runs[stage]!.id;
      const bytes = readFileSync(join(FIXTURE, name));
      // Laid out as the engine stores a stage's artifacts: <dataDir>/artifacts/<id>/<name>.
      const id = `art_${ulid()}`;
      const path = join(id, name);
      mkdirSync(join(dataDir, 'artifacts', id), { recursive: true });
      writeFileSync(join(dataDir, 'artifacts', path), bytes);
      await store.artifacts.insert({
        id,
        runId,
        optimizationId,
        repoId,
        name,
        path,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        contentType,
        createdAt: runs[stage]!.finishedAt!,
      });
    }
    const proposals = JSON.parse(
      readFileSync(join(FIXTURE, 'proposals.json'), 'utf8'),
    ) as Proposal[];
    const ids = proposals.map(
      // The engine's id: unique per optimization, the same when a stage is retried.
      (p) =>
        `prop_${createHash('sha256').update(`${optimizationId}/${p.id}`).digest('hex').slice(0, 20)}`,
    );
    for (const [i, p] of proposals.entries()) {
      await store.proposals.insert({
        ...p,
        id: ids[i]!,
        optimizationId,
        runId: runs.propose!.id,
        repoId,
        createdAt: runs.propose!.finishedAt!,
      });
    }
    return { optimizationId, proposalId: ids[0]! };
  } finally {
    await store.close();
  }
}
