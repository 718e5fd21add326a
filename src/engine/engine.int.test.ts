import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../contracts/index.js';
import { loadConfig } from '../config/index.js';
import { currentBootId } from '../exec/index.js';
import { git } from '../workspaces/index.js';
import { testRunRecord } from '../../test/helpers/records.js';
import { requireBwrap } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { openStore, type RunRecord } from '../store/index.js';
import { startTestEngine } from '../../test/helpers/engine.js';
import type { Engine } from './engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pb-engine-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    env: { PATCHBAY_DATA_DIR: dir, PATH: '/usr/bin:/bin', ...env },
    cwd: dir,
  });
  const store = await openStore({ databaseUrl: config.databaseUrl });
  cleanups.push(() => store.close());
  const start = (): Promise<Engine> => startTestEngine(config, store, cleanups);
  return { config, store, start };
}

async function receiver(): Promise<{ url: string; hits: IncomingHttpHeaders[] }> {
  const hits: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.headers);
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/hook`, hits };
}

function finishedRun(callbackUrl: string, ownerPid: number): RunRecord {
  const t = new Date().toISOString();
  return testRunRecord(
    { outputPolicy: 'truncate', callbackUrl },
    {
      status: 'succeeded',
      startedAt: t,
      finishedAt: t,
      exitCode: 0,
      owner: {
        instanceId: 'inst_dead',
        hostname: hostname(),
        pid: ownerPid,
        bootId: currentBootId(),
      },
    },
  );
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

/** A pid that is not running (well above the default pid_max of 4 194 304). */
const DEAD_PID = 9_999_999;

/** The receivers listen on 127.0.0.1, which callbacks may reach only when allowed. */
const LOOPBACK_CALLBACKS = { PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1' };

describe('engine recovery of callbacks', () => {
  it("continues a dead process's callback delivery from the next attempt", async () => {
    const { store, start } = await setup({
      ...LOOPBACK_CALLBACKS,
      PATCHBAY_CALLBACK_BACKOFF_MS: '10',
    });
    const hook = await receiver();
    const run = finishedRun(hook.url, DEAD_PID);
    await store.runs.insert(run);
    await store.callbacks.record({
      runId: run.id,
      url: hook.url,
      attempt: 2,
      outcome: 'retrying',
      httpStatus: 503,
      error: null,
    });
    await start();
    expect(await until(() => hook.hits.length === 1)).toBe(true);
    expect(hook.hits[0]!['x-patchbay-attempt']).toBe('3');
    expect(hook.hits[0]!['x-patchbay-run-id']).toBe(run.id);
    // The attempt is recorded after the receiver answered: wait for the record too.
    let deliveries = await store.callbacks.listForRun(run.id);
    for (let i = 0; i < 100 && deliveries.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      deliveries = await store.callbacks.listForRun(run.id);
    }
    expect(deliveries.map((d) => [d.attempt, d.outcome])).toEqual([
      [2, 'retrying'],
      [3, 'delivered'],
    ]);
  });

  it('leaves finished deliveries and live owners alone', async () => {
    const { store, start } = await setup(LOOPBACK_CALLBACKS);
    const hook = await receiver();
    const delivered = finishedRun(hook.url, DEAD_PID);
    await store.runs.insert(delivered);
    await store.callbacks.record({
      runId: delivered.id,
      url: hook.url,
      attempt: 1,
      outcome: 'delivered',
      httpStatus: 200,
      error: null,
    });
    const live = finishedRun(hook.url, process.pid); // this very process is alive
    await store.runs.insert(live);
    await start();
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.hits).toHaveLength(0);
  });
});

describe('engine event pages', () => {
  it('cuts a JSON page at ~4 MiB of text and pages on to the end', async () => {
    const { start } = await setup();
    const engine = await start();
    const run = await engine.createRun({
      agent: 'shell',
      command: ['sh', '-c', "head -c 9000000 /dev/zero | tr '\\0' a"],
    });
    expect((await engine.waitForRun(run.id)).status).toBe('succeeded');
    const first = await engine.listEvents(run.id, 0, 5000);
    const firstBytes = first.events.reduce((n, e) => n + String(e.data.text ?? '').length, 0);
    expect(firstBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(first.done).toBe(false);
    let after = first.lastSeq;
    let total = firstBytes;
    let done = false;
    for (let i = 0; i < 10 && !done; i++) {
      const page = await engine.listEvents(run.id, after, 5000);
      total += page.events.reduce((n, e) => n + String(e.data.text ?? '').length, 0);
      after = page.lastSeq;
      done = page.done;
    }
    expect(done).toBe(true);
    expect(total).toBe(9_000_000);
  });
});

describe('coding-agent runs (scripted fake Claude CLI)', () => {
  const fakeClaude = new URL('../../test/fixtures/agents/fake-claude.sh', import.meta.url).pathname;

  it('streams normalized events and records session, result, usage and cost', async () => {
    const { start } = await setup({ PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude });
    const engine = await start();
    const run = await engine.createRun({ agent: 'claude', prompt: 'update the README' });
    const done = await engine.waitForRun(run.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      sessionId: '9753c268-0000-4000-8000-000000000001',
      resultText: 'Done: README updated.',
      costUsd: 0.0641688,
      numTurns: 3,
      model: 'claude-sonnet-4-5',
      usage: { input: 20, output: 184, cacheRead: 29568, cacheWrite: 29658 },
    });
    const types = (await engine.listEvents(run.id, 0, 100)).events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'message',
        'thinking',
        'tool_call',
        'tool_result',
        'usage',
        'result',
      ]),
    );
    expect(types.filter((t) => t === 'output')).toEqual([]);
  });

  it('fails with the agent error code, and a context-window error has its own', async () => {
    const { start } = await setup({ PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude });
    const engine = await start();
    const failed = await engine.waitForRun(
      (await engine.createRun({ agent: 'claude', prompt: 'fail' })).id,
    );
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'AGENT_RESULT_ERROR' } });
    const ctx = await engine.waitForRun(
      (await engine.createRun({ agent: 'claude', prompt: 'context' })).id,
    );
    expect(ctx).toMatchObject({
      status: 'failed',
      error: { code: 'AGENT_CONTEXT_WINDOW_EXCEEDED' },
    });
  });

  it('a crash without a result line fails the run', async () => {
    const { start } = await setup({ PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude });
    const engine = await start();
    const run = await engine.waitForRun(
      (await engine.createRun({ agent: 'claude', prompt: 'crash' })).id,
    );
    expect(run).toMatchObject({
      status: 'failed',
      error: { code: 'RUN_KILLED_BY_SIGNAL' },
      sessionId: '9753c268-0000-4000-8000-000000000001',
    });
  });

  it('an agent hanging after its result is ended after the grace and still succeeds', async () => {
    const { start } = await setup({
      PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude,
      PATCHBAY_RESULT_GRACE_MS: '200',
    });
    const engine = await start();
    const run = await engine.waitForRun(
      (await engine.createRun({ agent: 'claude', prompt: 'hang-after-result' })).id,
    );
    expect(run).toMatchObject({ status: 'succeeded', resultText: 'Done: README updated.' });
  });

  it('passes --resume with the session id', async () => {
    const { start } = await setup({ PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude });
    const engine = await start();
    const run = await engine.waitForRun(
      (await engine.createRun({ agent: 'claude', prompt: 'go on', resumeSessionId: 'sess-42' })).id,
    );
    expect(run).toMatchObject({ status: 'succeeded', sessionId: 'sess-42' });
  });

  it('refuses a missing CLI or prompt before queuing', async () => {
    const { start } = await setup({ PATCHBAY_AGENT_CODEX_BIN: '/nonexistent/codex' });
    const engine = await start();
    await expect(engine.createRun({ agent: 'codex', prompt: 'x' })).rejects.toMatchObject({
      code: 'AGENT_NOT_INSTALLED',
    });
    await expect(engine.createRun({ agent: 'claude' })).rejects.toMatchObject({
      code: 'RUN_PROMPT_REQUIRED',
    });
    expect((await engine.listRuns({ limit: 10 })).runs).toEqual([]);
  });
});

describe.each([
  {
    agent: 'claude',
    bin: 'fake-claude.sh',
    session: '9753c268-0000-4000-8000-000000000001',
    result: 'Done: README updated.',
  },
  {
    agent: 'cursor',
    bin: 'fake-cursor.sh',
    session: 'chat-1',
    result: 'Listing files.There is a README.',
  },
  {
    agent: 'codex',
    bin: 'fake-codex.sh',
    session: '0199a1b2-0000-7000-8000-000000000001',
    result: 'Done.',
  },
  { agent: 'gemini', bin: 'fake-gemini.sh', session: 'gem-1', result: 'Hello' },
] as const)('$agent runs through its fake CLI', ({ agent, bin, session, result }) => {
  const env = {
    [`PATCHBAY_AGENT_${agent.toUpperCase()}_BIN`]: new URL(
      `../../test/fixtures/agents/${bin}`,
      import.meta.url,
    ).pathname,
  };

  it('succeeds with the session id and the final text', async () => {
    const engine = await (await setup(env)).start();
    const run = await engine.waitForRun((await engine.createRun({ agent, prompt: 'do it' })).id);
    expect(run).toMatchObject({ status: 'succeeded', sessionId: session, resultText: result });
    const types = (await engine.listEvents(run.id, 0, 100)).events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['tool_call', 'tool_result', 'result']));
  });

  it('resumes a session by id', async () => {
    const engine = await (await setup(env)).start();
    const run = await engine.waitForRun(
      (await engine.createRun({ agent, prompt: 'go on', resumeSessionId: 'resumed-1' })).id,
    );
    expect(run).toMatchObject({ status: 'succeeded', sessionId: 'resumed-1' });
  });

  it('fails with the agent error codes', async () => {
    const engine = await (await setup(env)).start();
    const failed = await engine.waitForRun((await engine.createRun({ agent, prompt: 'fail' })).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'AGENT_RESULT_ERROR' } });
    const ctx = await engine.waitForRun((await engine.createRun({ agent, prompt: 'context' })).id);
    expect(ctx).toMatchObject({
      status: 'failed',
      error: { code: 'AGENT_CONTEXT_WINDOW_EXCEEDED' },
    });
  });
});

describe('interrupting an agent turn', () => {
  it('ends the turn as cancelled with AGENT_TURN_INTERRUPTED and keeps the session id', async () => {
    const fake = new URL('../../test/fixtures/agents/fake-claude.sh', import.meta.url).pathname;
    const engine = await (await setup({ PATCHBAY_AGENT_CLAUDE_BIN: fake })).start();
    const run = await engine.createRun({ agent: 'claude', prompt: 'slow work' });
    // Wait until the session is known (the init line has been parsed).
    for (let i = 0; i < 100; i++) {
      const events = (await engine.listEvents(run.id, 0, 10)).events;
      if (events.some((e) => e.type === 'message')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const interrupted = await engine.interruptRun(run.id);
    expect(interrupted).toMatchObject({
      status: 'cancelled',
      error: { code: 'AGENT_TURN_INTERRUPTED' },
      sessionId: '9753c268-0000-4000-8000-000000000001',
    });
    await expect(engine.interruptRun(run.id)).rejects.toMatchObject({ code: 'RUN_NOT_ACTIVE' });
  });
});

describe('expired workspaces', () => {
  it('removes finished worktrees and branches (not pushed ones) and fresh directories, never a given workdir', async () => {
    const { store, start, config } = await setup({ PATCHBAY_WORKSPACE_TTL_MS: '1' });
    const gitEnv = { env: { PATH: '/usr/bin:/bin', HOME: tmpdir() } };
    const repoPath = join(config.workspaceRoots[0]!, 'proj');
    mkdirSync(repoPath, { recursive: true });
    await git(['init', '-q', '-b', 'main'], repoPath, gitEnv);
    await git(
      ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'],
      repoPath,
      gitEnv,
    );
    await store.repos.insert({
      id: 'repo_1',
      name: 'proj',
      url: null,
      path: repoPath,
      defaultBranch: 'main',
      managed: false,
      createdAt: new Date().toISOString(),
    });
    const engine = await start();
    const wait = async (request: Parameters<Engine['createRun']>[0]) =>
      engine.waitForRun((await engine.createRun(request)).id);
    const plain = await wait({
      agent: 'shell',
      repo: 'repo_1',
      command: ['sh', '-c', 'echo a > a.txt'],
    });
    const pushed = await wait({
      agent: 'shell',
      repo: 'repo_1',
      command: ['sh', '-c', 'echo b > b.txt'],
    });
    // Pretend `pushed` was pushed: a remote-tracking ref contains its branch head.
    await git(
      ['update-ref', `refs/remotes/origin/${pushed.branch}`, pushed.headCommit!],
      repoPath,
      gitEnv,
    );
    const fresh = await wait({ agent: 'shell', command: ['true'] });
    const given = await wait({ agent: 'shell', workdir: 'proj', command: ['true'] });
    await new Promise((r) => setTimeout(r, 10));

    const swept = await engine.sweepWorkspaces();
    expect(swept.sort()).toEqual([plain.id, pushed.id, fresh.id].sort());
    expect(existsSync(plain.workdir!)).toBe(false);
    expect(existsSync(fresh.workdir!)).toBe(false);
    expect(existsSync(given.workdir!)).toBe(true); // a workdir the user gave stays
    const branches = await git(['branch', '--list', 'patchbay/*'], repoPath, gitEnv);
    expect(branches).not.toContain(plain.branch!);
    expect(branches).toContain(pushed.branch!);
    expect(await engine.sweepWorkspaces()).toEqual([]); // nothing left to do
  });
});

describe('optimizations', () => {
  it('queues the stage after one whose process died before queueing it, exactly once', async () => {
    const { store, start, config } = await setup({ PATCHBAY_RUN_LEASE_MS: '1000' });
    const repo = join(config.dataDir, 'repo');
    mkdirSync(repo);
    await git(['init', '-q', '-b', 'main'], repo);
    await store.repos.insert({
      id: 'repo_stall',
      name: 'stall',
      url: null,
      path: repo,
      defaultBranch: 'main',
      managed: false,
      createdAt: new Date().toISOString(),
    });
    const finished = new Date(Date.now() - 5000).toISOString();
    const scan = testRunRecord(
      { kind: 'optimize.scan', repoId: 'repo_stall', command: ['patchbay', 'optimize-stage'] },
      { status: 'succeeded', startedAt: finished, finishedAt: finished, exitCode: 0 },
    );
    scan.parentId = 'run_optimization';
    // A failed stage ends its optimization; after propose there is nothing more.
    const failed = testRunRecord(
      { kind: 'optimize.baseline', repoId: 'repo_stall', command: ['patchbay', 'optimize-stage'] },
      { status: 'failed', startedAt: finished, finishedAt: finished, exitCode: 1 },
    );
    failed.parentId = 'run_other';
    const last = testRunRecord(
      { kind: 'optimize.propose', repoId: 'repo_stall', command: ['patchbay', 'optimize-stage'] },
      { status: 'succeeded', startedAt: finished, finishedAt: finished, exitCode: 0 },
    );
    last.parentId = 'run_third';
    for (const r of [scan, failed, last]) await store.runs.insert(r);
    // Two processes on one store race for it.
    await Promise.all([start(), start()]);
    const next = async () => store.runs.list({ limit: 10, parentId: 'run_optimization' });
    expect(await until(() => false, 1200)).toBe(false); // a few heartbeats
    const stages = await next();
    expect(stages.map((r) => r.kind).sort()).toEqual(['optimize.patch', 'optimize.scan']);
    const patch = stages.find((r) => r.kind === 'optimize.patch')!;
    expect(patch).toMatchObject({ repoId: 'repo_stall', workspaceOf: scan.id });
    expect(patch.command?.slice(1, 3)).toEqual(['optimize-stage', 'patch']);
    expect((await store.runs.list({ limit: 10, parentId: 'run_other' })).length).toBe(1);
    expect((await store.runs.list({ limit: 10, parentId: 'run_third' })).length).toBe(1);
  });

  it('a per-day budget ends the optimization with a failed stage; a concurrency limit holds it', async () => {
    const { store, start, config } = await setup({ PATCHBAY_RUN_LEASE_MS: '1000' });
    const repo = join(config.dataDir, 'repo');
    mkdirSync(repo);
    await git(['init', '-q', '-b', 'main'], repo);
    const repoFields = { name: 'budgeted', url: null, path: repo, defaultBranch: 'main' };
    const created = new Date().toISOString();
    for (const id of ['repo_daily', 'repo_busy']) {
      await store.repos.insert({ id, ...repoFields, managed: false, createdAt: created });
    }
    const budget = { maxAgentMinutesPerDay: null, maxUsdPerDay: null, updatedAt: created };
    await store.budgets.put({
      scope: 'repo_daily',
      maxConcurrentRuns: null,
      maxRunsPerDay: 1,
      ...budget,
    });
    await store.budgets.put({
      scope: 'repo_busy',
      maxConcurrentRuns: 1,
      maxRunsPerDay: null,
      ...budget,
    });
    const finished = new Date(Date.now() - 5000).toISOString();
    const scanOf = (repoId: string, parentId: string) => {
      const scan = testRunRecord(
        { kind: 'optimize.scan', repoId, command: ['patchbay', 'optimize-stage'] },
        { status: 'succeeded', startedAt: finished, finishedAt: finished, exitCode: 0 },
      );
      scan.parentId = parentId;
      return scan;
    };
    await store.runs.insert(scanOf('repo_daily', 'run_daily'));
    await store.runs.insert(scanOf('repo_busy', 'run_busy'));
    // Another run of the busy repository holds its only slot.
    const other = testRunRecord(
      { repoId: 'repo_busy', command: ['sleep', '1'] },
      {
        status: 'running',
        startedAt: created,
        owner: {
          instanceId: 'inst_alive',
          hostname: hostname(),
          pid: process.pid,
          bootId: currentBootId(),
        },
      },
    );
    await store.runs.insert(other);
    await start();
    const patchOf = async (parentId: string) =>
      (await store.runs.list({ limit: 10, parentId, kind: 'optimize.patch' }))[0];

    expect(await until(() => false, 1500)).toBe(false); // a few heartbeats
    // The day's only run was the scan: the patch stage is recorded, failed, with the refusal.
    const refused = await patchOf('run_daily');
    expect(refused).toMatchObject({ status: 'failed', errorCode: 'BUDGET_EXCEEDED' });
    expect(refused!.errorMessage).toMatch(/^optimize\.patch was not started: budget of repository/);
    expect(refused!.startedAt).toBeNull();
    // The busy repository's patch stage waits, and is queued once the slot frees.
    expect(await patchOf('run_busy')).toBeUndefined();
    await store.runs.transition(other.id, ['running'], {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
    });
    let queued: RunRecord | undefined;
    for (let i = 0; i < 100 && !queued; i++) {
      queued = await patchOf('run_busy');
      if (!queued) await new Promise((r) => setTimeout(r, 50));
    }
    expect(queued).toMatchObject({ repoId: 'repo_busy', kind: 'optimize.patch' });
  });
});

const bwrap = await requireBwrap();

/**
 * An engine under the sandbox, where the engine looks up paths after the claim, with `act`
 * called on a run the moment it turns `running`: before its process exists.
 */
async function actBeforeSpawn(act: (engine: Engine, id: string) => Promise<Run>) {
  const { store, start } = await setup({ PATCHBAY_SANDBOX: 'bwrap' });
  const engine = await start();
  let acting: Promise<Run> | undefined;
  const transition = store.runs.transition.bind(store.runs);
  store.runs.transition = async (id, from, patch) => {
    const ok = await transition(id, from, patch);
    if (ok && patch.status === 'running' && !acting) acting = act(engine, id);
    return ok;
  };
  const run = await engine.createRun({
    agent: 'shell',
    command: ['sh', '-c', 'echo started; sleep 0.3; echo done'],
  });
  expect(await until(() => acting !== undefined)).toBe(true);
  const statuses = async () =>
    (await engine.listEvents(run.id, 0, 100)).events
      .filter((e) => e.type === 'status')
      .map((e) => e.data.status);
  return { engine, run, acted: await acting!, statuses };
}

describe("control between a run's claim and its spawn", () => {
  it.skipIf(!bwrap)(
    'a pause stops the process as soon as it starts, and resume lets it finish',
    async () => {
      const { engine, run, acted, statuses } = await actBeforeSpawn((e, id) => e.pauseRun(id));
      expect(acted).toMatchObject({ status: 'paused' });
      let spawned: { status?: unknown; pid?: unknown } | undefined;
      for (let i = 0; i < 100 && !spawned; i++) {
        const events = (await engine.listEvents(run.id, 0, 100)).events;
        spawned = events.find((e) => e.type === 'status' && e.data.pid)?.data;
        if (!spawned) await new Promise((r) => setTimeout(r, 20));
      }
      // Started stopped: its first status with a pid says paused, and the kernel agrees.
      expect(spawned?.status).toBe('paused');
      // SIGSTOP takes effect when the process is next scheduled: a loaded machine may still show
      // it running for a moment, so the state is polled, not read once.
      const state = (): string => {
        const stat = readFileSync(`/proc/${String(spawned?.pid)}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
      };
      await waitFor(() => state() === 'T', 'the paused process to be stopped (state T)', 5000, 20);
      await new Promise((r) => setTimeout(r, 500));
      expect((await engine.getRun(run.id)).status).toBe('paused');
      await engine.resumeRun(run.id);
      const ended = await engine.waitForRun(run.id);
      expect(ended.status).toBe('succeeded');
      expect(await statuses()).toEqual(['queued', 'paused', 'paused', 'running', 'succeeded']);
    },
  );

  it.skipIf(!bwrap)('an interrupt ends the run at its spawn, as a turn interrupted', async () => {
    const { engine, run, statuses } = await actBeforeSpawn((e, id) => e.interruptRun(id));
    const ended = await engine.waitForRun(run.id);
    expect(ended).toMatchObject({ status: 'cancelled' });
    expect(ended.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(await statuses()).toEqual(['queued', 'running', 'cancelled']);
  });
});
