import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  freePort,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type ServerHandle,
} from './helpers.js';

afterAll(cleanupAll);

describe('CLI without a server (embedded run, store fallback)', () => {
  let env: Record<string, string>;
  let runId: string;

  beforeAll(async () => {
    // No PATCHBAY_URL, and nothing listens on PATCHBAY_PORT: `runs`/`logs` read the store.
    env = { PATCHBAY_DATA_DIR: tempDir(), PATCHBAY_PORT: String(await freePort()) };
  });

  it('`patchbay run` runs embedded: stdout, stderr and the exit code pass through', async () => {
    const res = await runCli(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    expect(res.signal).toBeNull();
    expect(res.code).toBe(3);
    expect(res.stdout).toBe('out\n');
    expect(res.stderr).toContain('err\n');
    const m = /run (run_[0-9A-Z]+) \(embedded/.exec(res.stderr);
    expect(m, `run id in stderr: ${res.stderr}`).not.toBeNull();
    runId = m![1]!;
  });

  it('`patchbay runs` lists it from the store', async () => {
    const res = await runCli(['runs'], { env });
    expect(res.code).toBe(0);
    const line = res.stdout.split('\n').find((l) => l.startsWith(runId));
    expect(line, res.stdout).toBeDefined();
    expect(line).toContain('failed');
    expect(line).toContain('sh -c echo out; echo err >&2; exit 3');
    expect(res.stderr).toContain('reading');

    const json = await runCli(['runs', '--json'], { env });
    const runs = JSON.parse(json.stdout) as { id: string; exitCode: number; status: string }[];
    expect(runs.find((r) => r.id === runId)).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('`patchbay logs <id>` prints its output', async () => {
    const res = await runCli(['logs', runId], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('out\n');
    expect(res.stderr).toContain('err\n');
  });

  it('`patchbay logs` of an unknown id fails with RUN_NOT_FOUND', async () => {
    const res = await runCli(['logs', 'run_nope'], { env });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('RUN_NOT_FOUND');
  });

  it('`patchbay migrate status` lists 0001-runs-and-events as applied', async () => {
    const res = await runCli(['migrate', 'status'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^applied\s+0001-runs-and-events\b/m);
    expect(res.stdout).not.toMatch(/^pending/m);
  });

  it('`patchbay migrate status` on a fresh store lists it as pending', async () => {
    const res = await runCli(['migrate', 'status'], {
      env: { ...env, PATCHBAY_DATA_DIR: tempDir() },
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^pending\s+0001-runs-and-events\b/m);
  });

  it('an embedded timeout exits 124, like timeout(1)', async () => {
    const res = await runCli(['run', '--timeout', '300', '--', 'sleep', '10'], {
      env: { ...env, PATCHBAY_KILL_GRACE_MS: '300' },
    });
    expect(res.code).toBe(124);
    expect(res.stderr).toContain('RUN_TIMEOUT');
  });
});

describe('CLI configuration errors', () => {
  it('reports CONFIG_INVALID with every problem and exits non-zero', async () => {
    const res = await runCli(['serve', '--data-dir', tempDir()], {
      env: { PATCHBAY_PORT: 'notaport', PATCHBAY_MAX_CONCURRENT_RUNS: '0' },
      timeoutMs: 10_000,
    });
    expect(res.signal, 'serve must fail, not start').toBeNull();
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('CONFIG_INVALID');
    expect(res.stderr).toContain('PATCHBAY_PORT');
    expect(res.stderr).toContain('PATCHBAY_MAX_CONCURRENT_RUNS');
    expect(res.stderr).not.toContain('listening');
  });
});

describe.concurrent('CLI with a server (PATCHBAY_URL)', () => {
  let server: ServerHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startServer({ env: { PATCHBAY_KILL_GRACE_MS: '500' } });
    // A different data dir for the CLI: everything must go through the server.
    env = { PATCHBAY_URL: server.url, PATCHBAY_DATA_DIR: tempDir() };
  });

  it('`patchbay run -- echo hi` prints hi and exits 0', async ({ expect }) => {
    const res = await runCli(['run', '--', 'echo', 'hi'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('hi\n');
    const m = /run (run_[0-9A-Z]+) queued on/.exec(res.stderr);
    expect(m, res.stderr).not.toBeNull();
    const run = await server.api.getRun(m![1]!);
    expect(run).toMatchObject({ status: 'succeeded', command: ['echo', 'hi'] });
  });

  it('`patchbay run` exits with the remote run exit code', async ({ expect }) => {
    const res = await runCli(['run', '--', 'sh', '-c', 'echo e >&2; exit 5'], { env });
    expect(res.code).toBe(5);
    expect(res.stderr).toContain('e\n');
  });

  it('`patchbay logs <id> -f` follows a running run to its end', async ({ expect }) => {
    const run = await server.api.createRun({
      command: ['sh', '-c', 'echo first; sleep 0.8; echo second'],
    });
    await waitFor(async () => (await server.api.output(run.id)).includes('first'), 'first line');
    const res = await runCli(['logs', run.id, '-f'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('first\nsecond\n');
    expect(res.durationMs).toBeGreaterThanOrEqual(400); // it waited for the second line
    expect((await server.api.getRun(run.id)).status).toBe('succeeded');
    expect(res.stderr).toMatch(/succeeded/);
  });

  it('`patchbay cancel <id>` cancels a running run', async ({ expect }) => {
    const run = await server.api.createRun({ command: ['sleep', '30'] });
    await server.api.waitForStatus(run.id, ['running']);
    const res = await runCli(['cancel', run.id], { env });
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(`${run.id} cancelled`);
    expect((await server.api.getRun(run.id)).status).toBe('cancelled');

    const again = await runCli(['cancel', run.id], { env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('RUN_NOT_ACTIVE');
  });

  it('`patchbay runs` lists the server runs, and an unreachable PATCHBAY_URL is an error', async ({
    expect,
  }) => {
    const run = await server.api.createRun({ command: ['true'], wait: true });
    const res = await runCli(['runs', '--limit', '200'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(run.id);

    const port = await freePort();
    const down = await runCli(['runs'], {
      env: { ...env, PATCHBAY_URL: `http://127.0.0.1:${port}` },
    });
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain('SERVER_UNREACHABLE');
  });
});

describe('patchbay doctor', () => {
  it('reports each agent CLI: installed with its version, or not installed', async () => {
    const fake = new URL('../fixtures/agents/fake-version.sh', import.meta.url).pathname;
    const env = {
      PATCHBAY_DATA_DIR: tempDir(),
      PATCHBAY_PORT: String(await freePort()),
      PATCHBAY_AGENT_CLAUDE_BIN: fake,
      PATCHBAY_AGENT_CODEX_BIN: '/nonexistent/codex',
    };
    const res = await runCli(['doctor', '--json'], { env });
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as {
      agents: { name: string; installed: boolean; version: string | null }[];
    };
    const byName = Object.fromEntries(report.agents.map((a) => [a.name, a]));
    expect(byName.claude).toMatchObject({ installed: true, version: '9.9.9 (fake)' });
    expect(byName.codex).toMatchObject({ installed: false, version: null });
    expect(byName.shell).toMatchObject({ installed: true });
  });

  it('reports which containment runs get', async () => {
    const base = { PATCHBAY_DATA_DIR: tempDir(), PATCHBAY_PORT: String(await freePort()) };
    const checks = async (env: Record<string, string>) => {
      const res = await runCli(['doctor', '--json'], { env: { ...base, ...env } });
      const report = JSON.parse(res.stdout) as {
        checks: { name: string; ok: boolean; detail: string }[];
      };
      return { code: res.code, contain: report.checks.find((c) => c.name === 'contain') };
    };
    // As root (here and in CI) a PID namespace is always available.
    expect(await checks({})).toMatchObject({
      code: 0,
      contain: { ok: true, detail: expect.stringMatching(/^pidns: PID namespace per run/) },
    });
    expect(await checks({ PATCHBAY_RUN_CONTAINMENT: 'none' })).toMatchObject({
      contain: { ok: true, detail: expect.stringMatching(/^none: process group only/) },
    });
  });
});
