/**
 * The real, pinned Claude Code CLI through `patchbay serve` over HTTP, against a scripted
 * Anthropic Messages API on loopback (test/agents-real/claude/server.ts). The CLI is pointed at
 * it the way a user points it at a gateway: ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY in the
 * server's environment (PATCHBAY_AGENT_CREDENTIALS=auto hands them to claude runs), and its
 * retry and traffic knobs in `~/.claude/settings.json` of a fresh HOME.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type Run,
  type ServerHandle,
} from '../e2e/helpers.js';
import { requireBwrap } from '../helpers/services.js';
import { startAnthropicServer, type AnthropicServer, type Reply } from './claude/server.js';
import { caseTag, finished as ended, freshHome, realCliBin, SERVE_START_MS } from './harness.js';

const bin = realCliBin('claude');

/** Claude Code's knobs for unattended runs: give up after one retry, send nothing else. */
const KNOBS = {
  CLAUDE_CODE_MAX_RETRIES: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
};

/** A fresh HOME, with the knobs in `~/.claude/settings.json` unless `bare` (nothing at all). */
function claudeHome(bare: boolean): string {
  const home = freshHome('patchbay-claude-home-');
  if (bare) return home;
  mkdirSync(join(home, '.claude'), { recursive: true });
  writeFileSync(
    join(home, '.claude', 'settings.json'),
    `${JSON.stringify({ env: KNOBS }, null, 2)}\n`,
  );
  return home;
}

function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'app');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# app\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

interface Fixture {
  model: AnthropicServer;
  server: ServerHandle;
  repo: Json;
  home: string;
}

async function startFixture(env: Record<string, string> = {}, bare = false): Promise<Fixture> {
  const model = await startAnthropicServer();
  const dataDir = tempDir('patchbay-claude-real-');
  const repoPath = makeRepo(dataDir);
  const home = claudeHome(bare);
  const server = await startServer({
    startTimeoutMs: SERVE_START_MS,
    dataDir,
    env: {
      HOME: home,
      PATCHBAY_AGENT_CLAUDE_BIN: bin!,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'sk-ant-scripted-test-key',
      ...env,
    },
  });
  const res = await server.api.request('POST', '/v1/repos', { path: repoPath });
  expect(res.status, res.text).toBe(201);
  return { model, server, repo: res.body, home };
}

const usage = (input: number, output: number) => ({ input, output });
const zeroCache = (input: number, output: number) => ({
  input,
  output,
  cacheRead: 0,
  cacheWrite: 0,
});
const write = (path: string, content: string, u = usage(120, 30)): Reply => ({
  kind: 'tool',
  name: 'Write',
  input: { file_path: path, content },
  text: `Writing ${path}.`,
  usage: u,
});
const text = (answer: string, u = usage(200, 10)): Reply => ({
  kind: 'text',
  text: answer,
  usage: u,
});

/** The text of every message block the model was sent in one recorded request. */
function conversationOf(body: unknown): string[] {
  const messages = (body as { messages?: { role: string; content: unknown }[] }).messages ?? [];
  return messages.map((m) => {
    const parts =
      typeof m.content === 'string'
        ? [m.content]
        : (m.content as { text?: string }[]).map((b) => b.text ?? '');
    return `${m.role}: ${parts.join(' ')}`;
  });
}

/** The ended run; on a timeout, an error with what the CLI printed. */
async function finished(server: ServerHandle, id: string, timeoutMs = 60_000): Promise<Run> {
  return ended(server.api, id, timeoutMs);
}

/** The main-turn requests of case `name` (those that took a scripted reply). */
const askedBy = (model: AnthropicServer, name: string) =>
  model.requests.filter((r) => r.scripted && r.case === name);

afterAll(cleanupAll);

describe.skipIf(!bin)('claude (real CLI) through patchbay serve', () => {
  let f: Fixture;

  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => {
    await f?.model.close();
  });

  async function send(conversation: string, prompt: string): Promise<Run> {
    const res = await f.server.api.request('POST', `/v1/conversations/${conversation}/messages`, {
      prompt,
    });
    expect([200, 202], res.text).toContain(res.status);
    return res.body;
  }

  it('writes a file by default (agentPermissions edit): the diff has it, usage is what the server sent', async () => {
    f.model.script('write', write('NOTES.md', 'written by claude\n'), text('Wrote NOTES.md.'));
    const created = await f.server.api.createRun({
      agent: 'claude',
      prompt: `write NOTES.md ${caseTag('write')}`,
      repo: f.repo.id,
    });
    const run = await finished(f.server, created.id);
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.agentPermissions).toBe('edit');
    expect(run.permissionDenials).toEqual([]);
    expect(run.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.usage).toEqual(zeroCache(320, 40));
    expect(run.costUsd).toBeGreaterThan(0);
    expect(run.resultText).toBe('Wrote NOTES.md.');
    const diff = await f.server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain('+++ b/NOTES.md');
    expect(diff.text).toContain('+written by claude');
    expect(f.model.pending('write')).toBe(0);
    // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: the CLI asked the gateway nothing else.
    expect(new Set(f.model.requests.map((r) => `${r.method} ${r.path}`))).toEqual(
      new Set(['POST /v1/messages']),
    );
  });

  it('read-only: nothing is written, and the denial is on the run and in its events', async () => {
    f.model.script(
      'read-only',
      write('NOTES.md', 'should not land\n'),
      text('I was not allowed to write.'),
    );
    const created = await f.server.api.createRun({
      agent: 'claude',
      prompt: `write NOTES.md ${caseTag('read-only')}`,
      repo: f.repo.id,
      agentPermissions: 'read-only',
    });
    const run = await finished(f.server, created.id);
    // The CLI reports the path it resolved in the run's worktree.
    expect(run.permissionDenials).toEqual([
      { tool: 'Write', detail: expect.stringMatching(/\/NOTES\.md$/) as string },
    ]);
    const diff = await f.server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).not.toContain('NOTES.md');
    const events = await f.server.api.events(run.id);
    const denied = events.filter((e) => e.type === 'error');
    expect(denied.map((e) => e.data.code)).toEqual(['AGENT_PERMISSION_DENIED']);
    expect(String(denied[0]!.data.message)).toMatch(/plan mode/);
  });

  it('full runs any shell command; edit denies one that is not a file operation', async () => {
    const shell: Reply = {
      kind: 'tool',
      name: 'Bash',
      input: {
        command: `node -e "require('fs').writeFileSync('BY_SHELL.txt', 'from node\\n')"`,
        description: 'write a file with node',
      },
      usage: usage(100, 10),
    };
    const runWith = async (agentPermissions: string): Promise<Run> => {
      f.model.script(`shell-${agentPermissions}`, shell, text('Ran it.'));
      const created = await f.server.api.createRun({
        agent: 'claude',
        prompt: `run node ${caseTag(`shell-${agentPermissions}`)}`,
        repo: f.repo.id,
        agentPermissions,
      });
      return finished(f.server, created.id);
    };
    const full = await runWith('full');
    expect(full.permissionDenials).toEqual([]);
    expect((await f.server.api.request('GET', `/v1/runs/${full.id}/diff`)).text).toContain(
      '+from node',
    );
    const edit = await runWith('edit');
    expect(edit.permissionDenials).toEqual([
      { tool: 'Bash', detail: expect.stringContaining('node -e') as string },
    ]);
    expect((await f.server.api.request('GET', `/v1/runs/${edit.id}/diff`)).text).not.toContain(
      'BY_SHELL',
    );
  });

  it('a conversation resumes the same session: the model is sent the earlier turns, usage is per run', async () => {
    const conv = (
      await f.server.api.request('POST', '/v1/conversations', { agent: 'claude', repo: f.repo.id })
    ).body;
    f.model.script('resume-1', text('Noted: PELICAN.', usage(100, 20)));
    const one = await finished(
      f.server,
      (await send(conv.id, `remember the word PELICAN ${caseTag('resume-1')}`)).id,
    );
    expect(one.status, JSON.stringify(one.error)).toBe('succeeded');

    f.model.script('resume-2', text('It was PELICAN.', usage(300, 7)));
    const two = await finished(
      f.server,
      (await send(conv.id, `what was the word? ${caseTag('resume-2')}`)).id,
    );
    expect(two.status, JSON.stringify(two.error)).toBe('succeeded');
    expect(two.resumeSessionId).toBe(one.sessionId);
    expect(two.sessionId).toBe(one.sessionId);

    const asked = askedBy(f.model, 'resume-2');
    expect(asked).toHaveLength(1);
    const sent = conversationOf(asked[0]!.body);
    expect(sent.some((m) => m.startsWith('user:') && m.includes('remember the word PELICAN'))).toBe(
      true,
    );
    expect(sent).toContain('assistant: Noted: PELICAN.');
    expect(sent.at(-1)).toContain('what was the word?');

    // The CLI reports the session's cost and modelUsage: the run stores its own share.
    expect(one.usage).toEqual(zeroCache(100, 20));
    expect(two.usage).toEqual(zeroCache(300, 7));
    expect(two.costUsd).toBeGreaterThan(0);
    expect(two.costUsd as number).toBeGreaterThan(one.costUsd as number); // 300/7 costs more than 100/20
  });

  it('an interrupt ends the turn mid-stream; the next message resumes it', async () => {
    const conv = (
      await f.server.api.request('POST', '/v1/conversations', { agent: 'claude', repo: f.repo.id })
    ).body;
    f.model.script('hold', { kind: 'hold', text: 'Thinking about it', usage: usage(100, 20) });
    const first = await send(conv.id, `a long task ${caseTag('hold')}`);
    await waitFor(() => f.model.holding() === 1, 'the model stream to be open', 30_000);
    const res = await f.server.api.request('POST', `/v1/runs/${first.id}/interrupt`);
    expect(res.status, res.text).toBe(200);
    const one = await finished(f.server, first.id);
    expect(one.status).toBe('cancelled');
    expect(one.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(one.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // Tokens and cost agree: the input the server sent was counted, not 0 at a cost.
    expect((one.usage as { input: number }).input).toBe(100);
    expect(one.costUsd).toBeGreaterThan(0);

    f.model.script('hold-resume', text('Resumed.', usage(50, 5)));
    const two = await finished(
      f.server,
      (await send(conv.id, `go on ${caseTag('hold-resume')}`)).id,
    );
    expect(two.status, JSON.stringify(two.error)).toBe('succeeded');
    expect(two.sessionId).toBe(one.sessionId);
    const sent = conversationOf(askedBy(f.model, 'hold-resume')[0]!.body);
    expect(sent.some((m) => m.includes('a long task'))).toBe(true);
    expect(sent.some((m) => m.includes('Thinking about it'))).toBe(true);
    expect(two.usage).toEqual(zeroCache(50, 5));
  });

  it('a CLI that refuses to start says why in the run error (AGENT_SETUP_FAILED)', async () => {
    const created = await f.server.api.createRun({
      agent: 'claude',
      prompt: 'anything',
      repo: f.repo.id,
      args: ['--permission-mode', 'nonsense'],
    });
    const run = await finished(f.server, created.id, 30_000);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('AGENT_SETUP_FAILED');
    expect(run.error?.message).toContain("argument 'nonsense' is invalid");
  });

  const failures: [string, Reply, number, string][] = [
    [
      '401',
      { kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
      2,
      'AGENT_AUTH_FAILED',
    ],
    [
      '429',
      {
        kind: 'error',
        status: 429,
        type: 'rate_limit_error',
        message: 'Number of request tokens has exceeded your per-minute rate limit',
        retryAfterS: 1,
      },
      2,
      'AGENT_RATE_LIMITED',
    ],
    [
      '500',
      { kind: 'error', status: 500, type: 'api_error', message: 'Internal server error' },
      2,
      'AGENT_PROVIDER_ERROR',
    ],
    [
      '529',
      { kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' },
      2,
      'AGENT_PROVIDER_ERROR',
    ],
    [
      '400 prompt too long',
      {
        kind: 'error',
        status: 400,
        type: 'invalid_request_error',
        message: 'prompt is too long: 212000 tokens > 200000 maximum',
      },
      1,
      'AGENT_CONTEXT_WINDOW_EXCEEDED',
    ],
  ];

  it.each(failures)(
    '%s from the API ends the run with its code, quickly',
    async (name, reply, attempts, code) => {
      f.model.script(name, ...Array.from({ length: attempts }, () => reply));
      const started = Date.now();
      const created = await f.server.api.createRun({
        agent: 'claude',
        prompt: `anything ${caseTag(name)}`,
        repo: f.repo.id,
      });
      const run = await finished(f.server, created.id, 30_000);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(run.status).toBe('failed');
      expect(run.error?.code).toBe(code);
      // CLAUDE_CODE_MAX_RETRIES=1 from settings.json was honoured: exactly the scripted attempts.
      expect(f.model.pending(name)).toBe(0);
      if (attempts > 1) {
        const events = await f.server.api.events(run.id);
        const retry = events.find((e) => e.type === 'message' && e.data.subtype === 'api_retry');
        expect(String(retry?.data.text)).toMatch(
          new RegExp(
            `^retrying after ${reply.kind === 'error' ? reply.status : ''} .*attempt 1 of 1, in \\d+\\.\\d s`,
          ),
        );
      }
    },
  );
});

describe.skipIf(!bin)('claude (real CLI) under PATCHBAY_SANDBOX=bwrap with a fresh HOME', () => {
  let f: Fixture | undefined;

  beforeAll(async () => {
    if (!(await requireBwrap())) return;
    // No ~/.claude at all: Patchbay creates the CLI's state before binding it writable.
    f = await startFixture({ PATCHBAY_SANDBOX: 'bwrap' }, true);
  });
  afterAll(async () => {
    await f?.model.close();
  });

  it('writes a file, saves its session and resumes it', async (ctx) => {
    if (!f) return ctx.skip();
    const conv = (
      await f.server.api.request('POST', '/v1/conversations', { agent: 'claude', repo: f.repo.id })
    ).body;
    f.model.script('boxed-1', write('SANDBOXED.md', 'from the sandbox\n'), text('Done.'));
    const msg = async (prompt: string): Promise<Run> => {
      const res = await f!.server.api.request('POST', `/v1/conversations/${conv.id}/messages`, {
        prompt,
        network: true, // the scripted API is on the host's loopback
        env: KNOBS, // a run's own env works as well as settings.json
      });
      expect([200, 202], res.text).toContain(res.status);
      return finished(f!.server, res.body.id);
    };
    const one = await msg(`write SANDBOXED.md ${caseTag('boxed-1')}`);
    expect(one.status, JSON.stringify(one.error)).toBe('succeeded');
    expect(one.sandbox).toBe('bwrap');
    const diff = await f.server.api.request('GET', `/v1/runs/${one.id}/diff`);
    expect(diff.text).toContain('+from the sandbox');

    f.model.script('boxed-2', text('Still here.', usage(40, 4)));
    const two = await msg(`are you there? ${caseTag('boxed-2')}`);
    expect(two.status, JSON.stringify(two.error)).toBe('succeeded');
    expect(two.sessionId).toBe(one.sessionId);
    const sent = conversationOf(askedBy(f.model, 'boxed-2')[0]!.body);
    expect(sent.some((m) => m.includes('write SANDBOXED.md'))).toBe(true);
    expect(two.usage).toEqual(zeroCache(40, 4));
    // The session was saved in the server user's (fresh) HOME, outside the sandbox.
    expect(existsSync(join(f.home, '.claude', 'projects'))).toBe(true);
  });
});
