import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  cleanEnv,
  cleanupAll,
  freePort,
  gitIn,
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
    expect(res.code).toBe(66);
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
      ANTHROPIC_API_KEY: 'sk-ant-doctor-test',
    };
    const res = await runCli(['doctor', '--json'], { env });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as {
      agents: { name: string; installed: boolean; version: string | null }[];
    };
    const byName = Object.fromEntries(report.agents.map((a) => [a.name, a]));
    expect(byName.claude).toMatchObject({
      installed: true,
      version: '9.9.9',
      versionLine: '9.9.9 (fake)',
      credentials: [{ kind: 'env', names: ['ANTHROPIC_API_KEY'], from: 'agent-credentials' }],
    });
    // A binary configured by path that is not there fails doctor (see doctor-agents.test.ts).
    expect(byName.codex).toMatchObject({
      installed: false,
      status: 'fail',
      version: null,
      install: 'npm install -g @openai/codex',
    });
    // Which variables, never their values.
    expect(res.stdout).not.toContain('sk-ant-doctor-test');
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

  it("says how runs' env values are sealed, and fails when a shared store would keep them in clear", async () => {
    const base = { PATCHBAY_DATA_DIR: tempDir(), PATCHBAY_PORT: String(await freePort()) };
    const secrets = async (env: Record<string, string>) => {
      const res = await runCli(['doctor', '--json'], { env: { ...base, ...env } });
      const report = JSON.parse(res.stdout) as { checks: { name: string; ok: boolean }[] };
      return report.checks.find((c) => c.name === 'secrets');
    };
    expect(await secrets({})).toMatchObject({ ok: true });
    const pg = { PATCHBAY_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    expect(await secrets(pg)).toMatchObject({ ok: false });
    expect(
      await secrets({ ...pg, PATCHBAY_SECRETS_KEY: 'a key long enough to seal' }),
    ).toMatchObject({ ok: true });
  });
});

describe('CLI: one rule for --url, --data-dir and --token; exit codes', () => {
  let home: string;
  let base: Record<string, string>;

  beforeAll(async () => {
    // A HOME of its own, to see that nothing creates ~/.patchbay behind the user's back.
    home = tempDir();
    base = { HOME: home, PATCHBAY_PORT: String(await freePort()) };
  });

  it('embedded `run` uses --data-dir given after the subcommand; `runs` reads it either side', async () => {
    const dataDir = join(tempDir(), 'data');
    const res = await runCli(['run', '--data-dir', dataDir, '--', 'echo', 'in data dir'], {
      env: base,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`(embedded, data: ${dataDir})`);
    expect(existsSync(join(dataDir, 'patchbay.db'))).toBe(true);
    expect(existsSync(join(home, '.patchbay'))).toBe(false);
    const id = /run (run_[0-9A-Z]+) \(embedded/.exec(res.stderr)![1]!;

    for (const args of [
      ['runs', '--data-dir', dataDir],
      ['--data-dir', dataDir, 'runs'],
    ]) {
      const runs = await runCli(args, { env: base });
      expect(runs.code, runs.stderr).toBe(0);
      expect(runs.stdout).toContain(id);
    }
  });

  it('`runs` with no server and no store says so (exit 69) and creates no data dir', async () => {
    const res = await runCli(['runs'], { env: base });
    expect(res.code).toBe(69);
    expect(res.stderr).toContain('CLI_NO_SERVER_OR_STORE');
    expect(res.stderr).toContain(join(home, '.patchbay'));
    expect(res.stderr).toContain('patchbay serve');
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(home, '.patchbay'))).toBe(false);

    const named = join(tempDir(), 'typo');
    const typo = await runCli(['logs', 'run_x', '--data-dir', named], { env: base });
    expect(typo.code).toBe(69);
    expect(typo.stderr).toContain(`${named} holds no store`);
    expect(existsSync(named)).toBe(false);
  });

  it('a usage error exits 2 and a server that does not answer 69, without a stack trace', async () => {
    const usage = await runCli(['runs', '--no-such-flag'], { env: base });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option '--no-such-flag'");

    const url = `http://127.0.0.1:${await freePort()}`;
    const down = await runCli(['repos', 'list', '--url', url], { env: base });
    expect(down.code).toBe(69);
    expect(down.stderr).toContain(`SERVER_UNREACHABLE: cannot reach ${url}`);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});

/** A git repository inside the server's default trusted root. */
function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'app');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# app\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

/** Runs the CLI on a pseudo-terminal (script(1)), as a person at a terminal would. */
function runOnTty(args: string[], env: Record<string, string>): string {
  const line = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const res = spawnSync('script', ['-qec', line, '/dev/null'], {
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return res.stdout;
}

describe('CLI against a server with tokens: PATCHBAY_TOKEN, diff, files, colour', () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  let runId: string;
  const ESC = '\u001b[';

  beforeAll(async () => {
    const dataDir = tempDir();
    const path = makeRepo(dataDir);
    server = await startServer({
      dataDir,
      env: { PATCHBAY_API_TOKENS: 'tok-a,tok-b' },
      token: 'tok-b',
    });
    const repo = await server.api.request('POST', '/v1/repos', { path });
    expect(repo.status, repo.text).toBe(201);
    // No PATCHBAY_URL: --url is given after the subcommand; the token is the client's own.
    env = { PATCHBAY_DATA_DIR: tempDir(), PATCHBAY_TOKEN: 'tok-b' };
    const res = await runCli(
      [
        'run',
        '--url',
        server.url,
        '--repo',
        repo.body.id,
        '--',
        'sh',
        '-c',
        'echo more >> README.md; echo new > added.txt',
      ],
      { env },
    );
    expect(res.code, res.stderr).toBe(0);
    runId = /run (run_[0-9A-Z]+) queued on/.exec(res.stderr)![1]!;
    // The end of a repository run names its branch and the files it changed.
    expect(res.stderr).toContain(`branch patchbay/${runId}: 2 file(s) changed`);
    expect(res.stderr).toMatch(/\+1 -0\tREADME\.md/);
    expect(res.stderr).toContain(`patchbay diff ${runId}`);
  });

  it('authenticates with PATCHBAY_TOKEN or --token; without one it is UNAUTHORIZED, exit 77', async () => {
    const ok = await runCli(['runs', '--url', server.url], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(runId);

    const flag = await runCli(['--url', server.url, 'runs', '--token', 'tok-a'], {
      env: { PATCHBAY_DATA_DIR: env.PATCHBAY_DATA_DIR! },
    });
    expect(flag.code, flag.stderr).toBe(0);

    const none = await runCli(['runs', '--url', server.url], {
      env: { PATCHBAY_DATA_DIR: env.PATCHBAY_DATA_DIR! },
    });
    expect(none.code).toBe(77);
    expect(none.stderr).toContain('UNAUTHORIZED');
    expect(none.stderr).toContain('PATCHBAY_TOKEN');
  });

  it('`files` and `diff` print what the run changed, from the server or from its store', async () => {
    const files = await runCli(['files', runId, '--url', server.url], { env });
    expect(files.code, files.stderr).toBe(0);
    expect(files.stdout).toBe('+1 -0\tREADME.md\n+1 -0\tadded.txt\n');

    const diff = await runCli(['diff', runId, '--url', server.url], { env });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('diff --git a/added.txt b/added.txt');
    expect(diff.stdout).toContain('+more\n');
    expect(diff.stdout).not.toContain(ESC);

    // No --url and nothing on PATCHBAY_PORT: the same answers from the server's data dir.
    const local = { PATCHBAY_DATA_DIR: server.dataDir, PATCHBAY_PORT: String(await freePort()) };
    const localFiles = await runCli(['files', runId], { env: local });
    expect(localFiles.code, localFiles.stderr).toBe(0);
    expect(localFiles.stdout).toBe(files.stdout);
    const localDiff = await runCli(['diff', runId], { env: local });
    expect(localDiff.stdout).toBe(diff.stdout);

    const shell = await server.api.createRun({ command: ['true'], wait: true });
    const none = await runCli(['diff', shell.id, '--url', server.url], { env });
    expect(none.code).toBe(66);
    expect(none.stderr).toContain('RUN_DIFF_NOT_AVAILABLE');
  });

  it('colours a terminal, not a pipe; NO_COLOR turns it off and FORCE_COLOR on', async () => {
    const args = ['diff', runId, '--url', server.url];
    const tty = runOnTty(args, env);
    expect(tty).toContain(`${ESC}32m+more`);
    expect(tty).toContain(`${ESC}1mdiff --git`);
    expect(runOnTty(args, { ...env, NO_COLOR: '1' })).not.toContain(ESC);
    expect(runOnTty(args, { ...env, NO_COLOR: '1' })).toContain('+more');

    const forced = await runCli(['files', runId, '--url', server.url], {
      env: { ...env, FORCE_COLOR: '1' },
    });
    expect(forced.stdout).toContain(`${ESC}32m+1${ESC}39m`);
  });
});
