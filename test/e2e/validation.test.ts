/**
 * Validation gates of repository runs, end to end: a real `patchbay serve`, a git repository
 * in a temp dir whose own checks (pinned in `.patchbay.json`) pass or fail depending on what
 * the agent wrote, and the scripted Claude CLI (test/fixtures/agents/fake-claude.sh), which
 * writes its prompt (Patchbay's fix turn included) into AGENT_NOTES.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeMark, killWithArg, processesWithArg } from '../helpers/processes.js';
import { requirePidNamespace } from '../helpers/services.js';
import {
  cleanupAll,
  gitIn,
  ROOT,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type RunEvent,
  type ServerHandle,
} from './helpers.js';

const CLAUDE = join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.sh');
const MARKER = 'marker-7f3a';

/**
 * The repository: a build that passes, and a test that passes only once AGENT_NOTES.md carries
 * the marker its failure message names (so it passes after a fix turn that got that message).
 * A note asking for `hang-gate` makes the test start a marked `sleep` and wait for it.
 */
function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'gated');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# gated\n');
  // The build leaves products git does not ignore: they must not become the agent's work.
  writeFileSync(
    join(path, 'build.sh'),
    [
      'echo "building"',
      // What a gate's environment holds: CI, and never the agent's provider key.
      'echo "CI=$CI key=${ANTHROPIC_API_KEY:-none}"',
      'echo built > build-output.txt',
      'echo "stamped by the build" >> README.md',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(path, 'test.sh'),
    [
      'echo "running 2 tests"',
      'if grep -q hang-gate AGENT_NOTES.md 2>/dev/null; then',
      '  sleep "1000.$GATE_MARK" &',
      // With GATE_ESCAPE, a second one leaves the process group as a daemon would.
      '  if [ -n "$GATE_ESCAPE" ]; then setsid sleep "1000.$GATE_MARK" </dev/null >/dev/null 2>&1 & fi',
      '  echo "gate waiting"; wait',
      'fi',
      'echo "ok 1 - readme exists"',
      `if grep -q ${MARKER} AGENT_NOTES.md 2>/dev/null; then echo "ok 2 - notes"; exit 0; fi`,
      `printf '\\033[31mnot ok 2 - AGENT_NOTES.md must mention ${MARKER}\\033[0m\\n'`,
      'exit 1',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(path, '.patchbay.json'),
    JSON.stringify({ commands: { build: 'sh build.sh', test: 'sh test.sh' } }, null, 2),
  );
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

afterAll(cleanupAll);

describe('validation gates after an agent run on a repository', () => {
  let server: ServerHandle;
  let repoPath: string;
  let repo: Json;

  beforeAll(async () => {
    const dataDir = tempDir();
    repoPath = makeRepo(dataDir);
    // The agent gets its provider key from the server's environment; the gates must not.
    server = await startServer({
      dataDir,
      env: { PATCHBAY_AGENT_CLAUDE_BIN: CLAUDE, ANTHROPIC_API_KEY: 'sk-ant-gate-test' },
    });
    const res = await server.api.request('POST', '/v1/repos', { path: repoPath });
    expect(res.status, res.text).toBe(201);
    repo = res.body;
  });

  const gateEvents = (events: RunEvent[]) =>
    events
      .filter((e) => e.type === 'gate')
      .map(
        (e) =>
          `${String(e.data.round)}:${String(e.data.gate)}:${String(e.data.status ?? e.data.phase)}`,
      );

  it('report (the default): records each gate, a failing test does not fail the run; its log downloads', async () => {
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit the notes',
      repo: repo.id,
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.validate).toBe('report');
    expect(run.fixRounds).toBe(0);
    const validation = run.validation as Json[];
    expect(validation.map((g) => [g.gate, g.status, g.command, g.round])).toEqual([
      ['build', 'passed', 'sh build.sh', 0],
      ['test', 'failed', 'sh test.sh', 0],
    ]);
    expect(validation[1].exitCode).toBe(1);
    expect(validation[1].durationMs).toBeGreaterThanOrEqual(0);

    const events = await server.api.events(run.id);
    expect(gateEvents(events)).toEqual([
      '0:build:started',
      '0:build:passed',
      '0:test:started',
      '0:test:failed',
    ]);
    // The gates run after the agent's answer and before the end.
    const seqOf = (pred: (e: RunEvent) => boolean) => events.find(pred)!.seq;
    expect(seqOf((e) => e.type === 'result')).toBeLessThan(seqOf((e) => e.type === 'gate'));
    expect(seqOf((e) => e.type === 'gate' && e.data.status === 'failed')).toBeLessThan(
      seqOf((e) => e.type === 'status' && e.data.status === 'succeeded'),
    );
    // Its output streamed as events of the gate.
    const testOutput = events
      .filter((e) => e.type === 'output' && e.data.gate === 'test')
      .map((e) => String(e.data.text))
      .join('');
    expect(testOutput).toContain(`not ok 2 - AGENT_NOTES.md must mention ${MARKER}`);

    // The log is an artifact of the run, downloadable like any other.
    const log = await server.api.request(
      'GET',
      `/v1/artifacts/${String(validation[1].logArtifact)}`,
    );
    expect(log.status).toBe(200);
    expect(log.headers.get('content-type')).toContain('text/plain');
    expect(log.text).toContain('ok 1 - readme exists');
    expect(log.text).toContain(`not ok 2`);
    const buildLog = await server.api.request(
      'GET',
      `/v1/artifacts/${String(validation[0].logArtifact)}`,
    );
    expect(buildLog.text).toContain('CI=true key=none');
    const listed = await server.api.request('GET', `/v1/artifacts?runId=${run.id}`);
    expect((listed.body.artifacts as Json[]).map((a) => a.name).sort()).toEqual([
      'gate-0-build.log',
      'gate-0-test.log',
    ]);
    const metrics = await server.api.request('GET', '/metrics');
    expect(metrics.text).toMatch(
      /patchbay_gate_duration_seconds_count\{gate="test",status="failed"\} [1-9]/,
    );
    // Run summaries carry the gates too.
    const list = await server.api.request('GET', `/v1/repos/${repo.id}/runs?limit=5`);
    const summary = (list.body.runs as Json[]).find((r) => r.id === run.id);
    expect(summary.validation).toEqual(validation);
    // The diff is the agent's edit, without what the build wrote.
    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain('+edit the notes');
    expect(diff.text).toContain('+edited by fake-claude');
    expect(diff.text).not.toContain('build-output.txt');
    expect(diff.text).not.toContain('stamped by the build');
    expect(gitIn(repoPath, 'show', '--stat', '--format=', String(run.headCommit))).not.toContain(
      'build-output',
    );
  });

  it('fix: the failing output goes back to the agent in its session; the gates pass after one round', async () => {
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit the notes again',
      repo: repo.id,
      validate: 'fix',
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.validate).toBe('fix');
    expect(run.fixRounds).toBe(1);
    expect((run.validation as Json[]).map((g) => [g.gate, g.status, g.round])).toEqual([
      ['build', 'passed', 1],
      ['test', 'passed', 1],
    ]);
    const events = await server.api.events(run.id);
    expect(gateEvents(events)).toEqual([
      '0:build:started',
      '0:build:passed',
      '0:test:started',
      '0:test:failed',
      '1:build:started',
      '1:build:passed',
      '1:test:started',
      '1:test:passed',
    ]);
    // Two agent turns, both of the same session.
    expect(events.filter((e) => e.type === 'result')).toHaveLength(2);
    expect(run.sessionId).toBe('9753c268-0000-4000-8000-000000000001');
    // The fix round's change (the failing output, de-ANSI'd, as the agent got it) is in the
    // diff and in the run's commit.
    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain(`not ok 2 - AGENT_NOTES.md must mention ${MARKER}`);
    expect(diff.text).not.toContain('\\033[31m');
    expect(diff.text).not.toContain('\u001b[');
    const committed = gitIn(repoPath, 'show', `${String(run.headCommit)}:AGENT_NOTES.md`);
    expect(committed).toContain("Patchbay ran the repository's checks");
    expect(committed).toContain('## test: `sh test.sh` failed (exit 1)');
  });

  it('off runs nothing; validate and fix are refused where they cannot apply', async () => {
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit quietly',
      repo: repo.id,
      validate: 'off',
      wait: true,
    });
    expect(run.status).toBe('succeeded');
    expect(run.validate).toBe('off');
    expect(run.validation).toBeNull();
    expect((await server.api.events(run.id)).filter((e) => e.type === 'gate')).toEqual([]);
    expect(
      (await server.api.request('GET', `/v1/artifacts?runId=${run.id}`)).body.artifacts,
    ).toEqual([]);

    const noRepo = await server.api.request('POST', '/v1/runs', {
      command: ['true'],
      validate: 'report',
    });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.error.code).toBe('VALIDATION_FAILED');
    expect(noRepo.text).toContain('repository');
    const shellFix = await server.api.request('POST', '/v1/runs', {
      command: ['true'],
      repo: repo.id,
      validate: 'fix',
    });
    expect(shellFix.status).toBe(400);
    expect(shellFix.text).toContain('cannot continue a session');
    const badMode = await server.api.request('POST', '/v1/runs', {
      command: ['true'],
      repo: repo.id,
      validate: 'always',
    });
    expect(badMode.status).toBe(400);
    expect(badMode.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('a shell run on a repository is validated too; the CLI prints the gates', async () => {
    const cli = await runCli(
      ['run', '--repo', String(repo.id), '--', 'sh', '-c', `echo ${MARKER} > AGENT_NOTES.md`],
      { env: { PATCHBAY_URL: server.url } },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toContain('gate test: sh test.sh');
    expect(cli.stderr).toContain('gates: build passed, test passed');
  });

  it(".patchbay.json's validate block is the repository's default; fixing stops at maxFixRounds", async () => {
    const path = join(server.dataDir, 'workspaces', 'never-green');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'test.sh'), 'echo "not ok 1 - never passes"\nexit 1\n');
    writeFileSync(
      join(path, '.patchbay.json'),
      JSON.stringify({
        commands: { test: 'sh test.sh' },
        validate: { mode: 'fix', maxFixRounds: 1 },
      }),
    );
    gitIn(path, 'init', '-q', '-b', 'main');
    gitIn(path, 'add', '.');
    gitIn(path, 'commit', '-q', '-m', 'initial');
    const registered = await server.api.request('POST', '/v1/repos', { path });
    expect(registered.status, registered.text).toBe(201);
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit something',
      repo: registered.body.id,
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.validate).toBe('fix');
    expect(run.fixRounds).toBe(1);
    expect((run.validation as Json[]).map((g) => [g.gate, g.status, g.round])).toEqual([
      ['test', 'failed', 1],
    ]);
    const events = await server.api.events(run.id);
    expect(events.filter((e) => e.type === 'result')).toHaveLength(2);
    // The request wins over the file.
    const reported = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit something else',
      repo: registered.body.id,
      validate: 'report',
      wait: true,
    });
    expect(reported.validate).toBe('report');
    expect(reported.fixRounds).toBe(0);
    // A command cannot take a follow-up turn: the repository's `fix` reports for it.
    const shell = await server.api.createRun({
      command: ['true'],
      repo: registered.body.id,
      wait: true,
    });
    expect(shell.status).toBe('succeeded');
    expect(shell.validate).toBe('report');
    expect((shell.validation as Json[]).map((g) => [g.gate, g.status, g.round])).toEqual([
      ['test', 'failed', 0],
    ]);
  });

  it('cancel during a gate stops it and everything it started, escapees included', async () => {
    const { mark, arg } = escapeMark();
    // A gate is contained like the agent: in a PID namespace (the server's default where one
    // can be made), a process that left the gate's group goes with it.
    const escape = (await requirePidNamespace()) !== null;
    try {
      const run = await server.api.createRun({
        agent: 'claude',
        prompt: 'edit hang-gate',
        repo: repo.id,
        env: { GATE_MARK: mark, ...(escape ? { GATE_ESCAPE: '1' } : {}) },
      });
      await waitFor(
        () => processesWithArg(arg).length === (escape ? 2 : 1),
        'the test gate to start its sleep',
        30_000,
      );
      const cancelled = await server.api.request('POST', `/v1/runs/${run.id}/cancel`);
      expect(cancelled.status).toBe(200);
      const ended = await server.api.waitForStatus(run.id, undefined, 30_000);
      expect(ended.status).toBe('cancelled');
      expect(ended.error?.code).toBe('RUN_CANCELLED');
      expect((ended.validation as Json[]).map((g) => [g.gate, g.status])).toEqual([
        ['build', 'passed'],
        ['test', 'failed'],
      ]);
      await waitFor(
        () => processesWithArg(arg).length === 0,
        `no process left with ${arg}`,
        10_000,
      );
    } finally {
      killWithArg(arg);
    }
  });
});
