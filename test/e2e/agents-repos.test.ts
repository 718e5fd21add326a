import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBwrap } from '../helpers/services.js';
import {
  cleanupAll,
  gitIn,
  ROOT,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type Run,
  type ServerHandle,
} from './helpers.js';

const AGENTS = join(ROOT, 'test', 'fixtures', 'agents');
const agentBins = {
  PATCHBAY_AGENT_CLAUDE_BIN: join(AGENTS, 'fake-claude.sh'),
  PATCHBAY_AGENT_CURSOR_BIN: join(AGENTS, 'fake-cursor.sh'),
  PATCHBAY_AGENT_CODEX_BIN: join(AGENTS, 'fake-codex.sh'),
  PATCHBAY_AGENT_GEMINI_BIN: join(AGENTS, 'fake-gemini.sh'),
};
/** A small git repository inside the server's default trusted root. */
function makeFixtureRepo(dataDir: string, name: string): string {
  const path = join(dataDir, 'workspaces', name);
  mkdirSync(join(path, 'src'), { recursive: true });
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  writeFileSync(join(path, 'src', 'index.ts'), 'export const answer = 42;\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

async function registerRepo(server: ServerHandle, path: string): Promise<Json> {
  const res = await server.api.request('POST', '/v1/repos', { path });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

afterAll(cleanupAll);

describe('coding agents on a registered repository, through the HTTP API', () => {
  let server: ServerHandle;
  let repoPath: string;
  let repo: Json;

  beforeAll(async () => {
    const dataDir = tempDir();
    repoPath = makeFixtureRepo(dataDir, 'app');
    server = await startServer({ dataDir, env: agentBins });
    repo = await registerRepo(server, repoPath);
  });

  const expectedSession = {
    claude: '9753c268-0000-4000-8000-000000000001',
    cursor: 'chat-1',
    codex: '0199a1b2-0000-7000-8000-000000000001',
    gemini: 'gem-1',
  } as const;

  for (const agent of ['claude', 'cursor', 'codex', 'gemini'] as const) {
    it(`${agent}: edits files in its own worktree; diff, branch, commit, usage and session recorded`, async () => {
      const run = await server.api.createRun({
        agent,
        prompt: `edit the readme (${agent})`,
        repo: repo.id,
        wait: true,
      });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect(run.branch).toBe(`patchbay/${run.id}`);
      expect(run.workdir).not.toBe(repoPath);
      expect(run.baseCommit).toBe(gitIn(repoPath, 'rev-parse', 'main'));
      expect(run.headCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(run.headCommit).not.toBe(run.baseCommit);
      expect(run.sessionId).toBe(expectedSession[agent]);
      if (agent === 'cursor') {
        expect(run.usage).toBeNull(); // cursor-agent reports no token usage
      } else {
        expect((run.usage as { output: number }).output).toBeGreaterThan(0);
      }
      if (agent === 'claude') expect(run.costUsd).toBeCloseTo(0.0641688, 6);

      // The commit is on the run branch of the repository, named after the run.
      expect(gitIn(repoPath, 'log', '-1', '--format=%s', run.branch as string)).toContain(run.id);
      expect(gitIn(repoPath, 'rev-parse', run.branch as string)).toBe(run.headCommit);
      // main is untouched.
      expect(readFileSync(join(repoPath, 'README.md'), 'utf8')).toBe('# fixture\n');

      const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
      expect(diff.status).toBe(200);
      expect(diff.headers.get('content-type')).toContain('text/x-diff');
      expect(diff.text).toContain(`+edited by fake-${agent}`);
      expect(diff.text).toContain('+++ b/AGENT_NOTES.md');
      const files = await server.api.request('GET', `/v1/runs/${run.id}/files`);
      expect(files.body.files).toEqual([
        { path: 'AGENT_NOTES.md', added: 1, removed: 0, binary: false },
        { path: 'README.md', added: 1, removed: 0, binary: false },
      ]);
    });
  }

  it("`patchbay run --agent` prints the agent's answer on stdout and its tool calls as notes", async () => {
    const env = { PATCHBAY_URL: server.url };
    const claude = await runCli(['run', '--agent', 'claude', '--repo', repo.id, '--', 'look'], {
      env,
    });
    expect(claude.code, claude.stderr).toBe(0);
    expect(claude.stdout).toBe('Let me check\nDone: README updated.\n');
    expect(claude.stderr).toContain('tool: Bash');
    // Gemini streams its answer in deltas: printed as they come, the line ended by the result.
    const gemini = await runCli(['run', '--agent', 'gemini', '--', 'hello'], { env });
    expect(gemini.code, gemini.stderr).toBe(0);
    expect(gemini.stdout).toBe('Hello\n');
    expect(gemini.stderr).toContain('agent warning: loop detection is off');
  });

  it('resumes a session in the same workspace, continuing the branch', async () => {
    const first = await server.api.createRun({
      agent: 'codex',
      prompt: 'edit once',
      repo: repo.id,
      wait: true,
    });
    const second = await server.api.createRun({
      agent: 'codex',
      prompt: 'edit again',
      workspaceOf: first.id,
      resumeSessionId: 'resumed-thread-7',
      wait: true,
    });
    expect(second.status).toBe('succeeded');
    expect(second.sessionId).toBe('resumed-thread-7');
    expect(second.workdir).toBe(first.workdir);
    expect(second.branch).toBe(first.branch);
    expect(second.baseCommit).toBe(first.headCommit);
    const notes = readFileSync(join(first.workdir as string, 'AGENT_NOTES.md'), 'utf8');
    expect(notes).toBe('edit once\nedit again\n');
  });

  it('interrupts an agent without a control channel with SIGINT (codex)', async () => {
    const run = await server.api.createRun({ agent: 'codex', prompt: 'slow work', repo: repo.id });
    await waitFor(
      async () => (await server.api.events(run.id)).some((e) => e.type !== 'status'),
      'codex to start its thread',
      10_000,
    );
    const res = await server.api.request('POST', `/v1/runs/${run.id}/interrupt`);
    expect(res.status).toBe(200);
    const ended = await server.api.waitForStatus(run.id);
    expect(ended.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(ended.signal).toBe('SIGINT');
  });

  it('interrupts a turn: the run ends AGENT_TURN_INTERRUPTED and keeps its session', async () => {
    const run = await server.api.createRun({ agent: 'claude', prompt: 'slow work', repo: repo.id });
    await waitFor(
      async () =>
        (await server.api.events(run.id)).some(
          (e) => e.type === 'message' || e.type === 'tool_call',
        ),
      'the agent to start talking',
      10_000,
    );
    const res = await server.api.request('POST', `/v1/runs/${run.id}/interrupt`);
    expect(res.status).toBe(200);
    const ended = await server.api.waitForStatus(run.id);
    expect(ended.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(ended.sessionId).toBe(expectedSession.claude);
    // Claude's turn was ended by a control request on stdin, not a signal: the fake CLI
    // answered it with its own (error) result, cost included, and exited by itself (with 1,
    // as the real CLI does after an error result).
    expect(ended.costUsd).toBe(0.001);
    expect(ended.signal).toBeNull();
    expect(ended.exitCode).toBe(1);
  });
});

describe('conversations: one agent session over many runs', () => {
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    const dataDir = tempDir();
    const path = makeFixtureRepo(dataDir, 'app');
    server = await startServer({ dataDir, env: agentBins });
    repo = await registerRepo(server, path);
  });

  async function send(id: string, body: Record<string, unknown>): Promise<Run> {
    const res = await server.api.request('POST', `/v1/conversations/${id}/messages`, body);
    expect([200, 202], res.text).toContain(res.status);
    return res.body;
  }

  it('resumes the session in the same worktree, and records every prompt and answer', async () => {
    const created = await server.api.request('POST', '/v1/conversations', {
      agent: 'claude',
      repo: repo.id,
      title: 'readme work',
    });
    expect(created.status, created.text).toBe(201);
    const conv = created.body;
    expect(conv).toMatchObject({ agent: 'claude', sessionId: null, messageCount: 0 });

    const one = await send(conv.id, { prompt: 'edit one', wait: true });
    expect(one.status).toBe('succeeded');
    expect(one.conversationId).toBe(conv.id);
    expect(one.resumeSessionId).toBeNull();
    const two = await send(conv.id, { prompt: 'edit two', wait: true });
    expect(two.status).toBe('succeeded');
    expect(two.resumeSessionId).toBe(one.sessionId);
    expect(two.workspaceOf).toBe(one.id);
    expect(two.workdir).toBe(one.workdir);
    expect(two.branch).toBe(one.branch);

    const got = (await server.api.request('GET', `/v1/conversations/${conv.id}`)).body;
    expect(got.workspaceRunId).toBe(one.id);
    expect(got.sessionId).toBe(one.sessionId);
    expect(got.messages.map((m: Json) => [m.role, m.content, m.runId])).toEqual([
      ['user', 'edit one', one.id],
      ['assistant', 'Done: README updated.', one.id],
      ['user', 'edit two', two.id],
      ['assistant', 'Done: README updated.', two.id],
    ]);
    const list = (await server.api.request('GET', '/v1/conversations')).body;
    expect(list.conversations.map((c: Json) => c.id)).toContain(conv.id);
  });

  it('a message sent while the previous one is still queued waits for it and resumes its session', async () => {
    const conv = (
      await server.api.request('POST', '/v1/conversations', { agent: 'cursor', repo: repo.id })
    ).body;
    const a = await send(conv.id, { prompt: 'edit a' });
    const b = await send(conv.id, { prompt: 'edit b' });
    expect(b.workspaceOf).toBe(a.id);
    const endA = await server.api.waitForStatus(a.id);
    const endB = await server.api.waitForStatus(b.id);
    expect([endA.status, endB.status]).toEqual(['succeeded', 'succeeded']);
    expect(endB.resumeSessionId).toBe(endA.sessionId);
    expect(endB.startedAt! >= endA.finishedAt!).toBe(true);
    expect(readFileSync(join(endA.workdir as string, 'AGENT_NOTES.md'), 'utf8')).toBe(
      'edit a\nedit b\n',
    );
  });

  it('after a context-window overflow, the next run starts a fresh session seeded with a summary', async () => {
    const conv = (
      await server.api.request('POST', '/v1/conversations', { agent: 'claude', repo: repo.id })
    ).body;
    await send(conv.id, { prompt: 'edit the first thing', wait: true });
    const overflow = await send(conv.id, { prompt: 'context grows too big', wait: true });
    expect(overflow.status).toBe('failed');
    expect(overflow.error?.code).toBe('AGENT_CONTEXT_WINDOW_EXCEEDED');

    const after = (await server.api.request('GET', `/v1/conversations/${conv.id}`)).body;
    expect(after.sessionId).toBeNull();
    expect(after.summary).toContain('edit the first thing');
    expect(after.summary).toContain('context grows too big');
    expect(after.summary).toContain('- AGENT_NOTES.md (+1 -0)');
    expect(after.summary).toContain('- README.md (+1 -0)');
    expect(after.messages.at(-1)).toMatchObject({ role: 'summary', content: after.summary });

    const fresh = await send(conv.id, { prompt: 'edit after the summary', wait: true });
    expect(fresh.status).toBe('succeeded');
    expect(fresh.resumeSessionId).toBeNull();
    expect(fresh.prompt).toBe(`${after.summary}\n\n## Now\nedit after the summary`);
    expect(fresh.workdir).toBe(overflow.workdir);
    const done = (await server.api.request('GET', `/v1/conversations/${conv.id}`)).body;
    expect(done.summary).toBeNull();
    expect(done.sessionId).toBe(fresh.sessionId);
  });

  it('the CLI starts a conversation, sends prompts to it and shows it', async () => {
    const env = { PATCHBAY_URL: server.url };
    const created = await runCli(
      ['conversations', 'new', '--agent', 'claude', '--repo', repo.id, '--title', 'cli'],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^conv_/);
    for (const prompt of ['edit from the cli', 'and again']) {
      const sent = await runCli(['run', '--conversation', id, '--', ...prompt.split(' ')], { env });
      expect(sent.code, sent.stderr).toBe(0);
    }
    const shown = await runCli(['conversations', 'show', id, '--json'], { env });
    const conv = JSON.parse(shown.stdout);
    expect(conv.messages.map((m: Json) => m.content)).toEqual([
      'edit from the cli',
      'Done: README updated.',
      'and again',
      'Done: README updated.',
    ]);
    const runs = conv.messages.map((m: Json) => m.runId);
    const second = await server.api.getRun(runs[2]);
    expect(second.resumeSessionId).toBe(conv.sessionId);
    const listed = await runCli(['conversations', 'list'], { env });
    expect(listed.stdout).toContain(`${id}  claude  cli`);
  });

  it('refuses what would break a conversation, with stable codes', async () => {
    const conv = (await server.api.request('POST', '/v1/conversations', { agent: 'gemini' })).body;
    const missing = await server.api.request('POST', '/v1/conversations/conv_nope/messages', {
      prompt: 'x',
    });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
    const mismatch = await server.api.request('POST', '/v1/runs', {
      agent: 'claude',
      prompt: 'x',
      conversationId: conv.id,
    });
    expect([mismatch.status, mismatch.body.error.code]).toEqual([
      400,
      'CONVERSATION_AGENT_MISMATCH',
    ]);
    const workdir = await server.api.request('POST', '/v1/runs', {
      prompt: 'x',
      conversationId: conv.id,
      repo: repo.id,
    });
    expect([workdir.status, workdir.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const noPrompt = await server.api.request('POST', `/v1/conversations/${conv.id}/messages`, {});
    expect(noPrompt.status).toBe(400);
    const shell = await server.api.request('POST', '/v1/conversations', { agent: 'shell' });
    expect(shell.status).toBe(400);
    // A run with conversationId and no agent takes the conversation's agent.
    const run = await server.api.createRun({
      prompt: 'hello',
      conversationId: conv.id,
      wait: true,
    });
    expect([run.agent, run.status]).toEqual(['gemini', 'succeeded']);
  });
});

const bwrap = await requireBwrap();

describe.skipIf(!bwrap)('PATCHBAY_SANDBOX=bwrap', () => {
  let server: ServerHandle;
  let repo: Json;
  let http: Server;
  let port: number;
  const escape = join(homedir(), `patchbay-e2e-escape-${process.pid}`);

  beforeAll(async () => {
    http = createServer((_req, res) => res.end('reachable'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    port = (http.address() as { port: number }).port;
    const dataDir = tempDir();
    const path = makeFixtureRepo(dataDir, 'app');
    server = await startServer({ dataDir, env: { ...agentBins, PATCHBAY_SANDBOX: 'bwrap' } });
    repo = await registerRepo(server, path);
  });
  afterAll(async () => {
    await new Promise((r) => http.close(r));
  });

  it('a run writes its worktree (and the diff is recorded) but nothing outside it', async () => {
    const run = await server.api.createRun({
      command: [
        'sh',
        '-c',
        `echo sandboxed >> README.md; echo x > ${escape}; echo "escape=$?"; ls -A ${server.dataDir}`,
      ],
      repo: repo.id,
      wait: true,
    });
    expect(run.status).toBe('succeeded');
    expect(run.sandbox).toBe('bwrap');
    const output = await server.api.output(run.id);
    expect(output).toMatch(/escape=[1-9]/);
    // The data dir (database, other runs) is hidden: only the path to this worktree shows.
    expect(output).not.toContain('patchbay.db');
    expect(existsSync(escape)).toBe(false);
    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain('+sandboxed');
  });

  it('has no network unless the run sets network: true', async () => {
    const script = `fetch('http://127.0.0.1:${port}/').then(r=>r.text()).then(t=>console.log(t),e=>console.log('blocked',e.cause?.code??e.message))`;
    const blocked = await server.api.createRun({ command: ['node', '-e', script], wait: true });
    expect(await server.api.output(blocked.id)).toMatch(/^blocked/);
    expect(blocked.network).toBe(false);
    const allowed = await server.api.createRun({
      command: ['node', '-e', script],
      network: true,
      wait: true,
    });
    expect((await server.api.output(allowed.id)).trim()).toBe('reachable');
  });

  it('a coding agent works in the sandbox: its edits are committed by Patchbay', async () => {
    const run = await server.api.createRun({
      agent: 'claude',
      prompt: 'edit inside the sandbox',
      repo: repo.id,
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.headCommit).not.toBe(run.baseCommit);
  });

  it('a program under /tmp (private in the sandbox) still runs, with the files next to it', async () => {
    const tools = tempDir('patchbay-tools-');
    writeFileSync(join(tools, 'data.txt'), 'beside the script\n');
    writeFileSync(join(tools, 'hello.sh'), '#!/bin/sh\ncat "$(dirname "$0")/data.txt"\n', {
      mode: 0o755,
    });
    const run = await server.api.createRun({ command: [join(tools, 'hello.sh')], wait: true });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(await server.api.output(run.id)).toBe('beside the script\n');
  });

  it('cancel reaches every process in the sandbox', async () => {
    const marker = '987.654'; // a sleep length nothing else on the machine uses
    const alive = (): boolean => {
      try {
        execFileSync('pgrep', ['-f', `sleep ${marker}`]);
        return true;
      } catch {
        return false;
      }
    };
    const run = await server.api.createRun({
      command: ['sh', '-c', `sleep ${marker} & sleep ${marker} & echo started; wait`],
    });
    await waitFor(
      async () => (await server.api.output(run.id)).includes('started') && alive(),
      'the sandboxed run to start',
      10_000,
    );
    await server.api.request('POST', `/v1/runs/${run.id}/cancel`);
    expect((await server.api.waitForStatus(run.id)).status).toBe('cancelled');
    await waitFor(async () => !alive(), 'no process of the sandbox left', 5000);
  });
});
