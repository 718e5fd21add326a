/**
 * The real, pinned `codex` CLI (@openai/codex, see package.json here) run by `patchbay serve`
 * over HTTP against a scripted OpenAI Responses API (codex/server.ts). Codex is pointed at it
 * the way a user points it at a gateway: a custom provider in `~/.codex/config.toml` of the
 * server's HOME, its key in OPENAI_API_KEY of the server's environment (agent credentials).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import {
  codexConfig,
  openAiErrors,
  startScriptedOpenAi,
  userTexts,
  type ScriptedOpenAi,
  type Usage,
} from './codex/server.js';
import { caseTag, finished, realCliBin, SERVE_START_MS } from './harness.js';

const codex = realCliBin('codex');

/** A run that writes a file: the model calls apply_patch, then answers. */
const addFile = (path: string, line: string) =>
  `*** Begin Patch\n*** Add File: ${path}\n+${line}\n*** End Patch\n`;

const u = (input: number, cached: number, output: number): Usage => ({ input, cached, output });

/** A git repository inside the server's trusted root, registered with POST /v1/repos. */
async function registerRepo(server: ServerHandle, name: string): Promise<Json> {
  const path = join(server.dataDir, 'workspaces', name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  const res = await server.api.request('POST', '/v1/repos', { path });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const homes: string[] = [];

/**
 * A fresh HOME outside the temp dir: Codex 0.171 refuses to create its helper aliases (the
 * `codex-linux-sandbox` its sandbox re-executes) under /tmp or $TMPDIR ("Refusing to create
 * helper binaries under temporary dir"), and then every sandboxed patch fails to write.
 */
function codexHome(): string {
  const home = mkdtempSync(join('/var/tmp', 'patchbay-codex-home-'));
  homes.push(home);
  for (const dir of ['.codex', '.config', '.cache'])
    mkdirSync(join(home, dir), { recursive: true });
  return home;
}

/** `patchbay serve` with a HOME whose Codex config points at `model`. */
async function serveWith(
  model: ScriptedOpenAi,
  env: Record<string, string> = {},
  config: { streamRetries?: number } = {},
) {
  const home = codexHome();
  writeFileSync(join(home, '.codex', 'config.toml'), codexConfig(model.baseUrl, config));
  const dataDir = tempDir();
  const server = await startServer({
    startTimeoutMs: SERVE_START_MS,
    dataDir,
    env: {
      HOME: home,
      PATCHBAY_AGENT_CODEX_BIN: codex!,
      OPENAI_API_KEY: 'sk-scripted',
      ...env,
    },
  });
  return { server, home };
}

async function errorEvents(server: ServerHandle, runId: string) {
  return (await server.api.events(runId)).filter((e) => e.type === 'error').map((e) => e.data);
}

afterAll(async () => {
  await cleanupAll();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!codex)('codex (real CLI) against a scripted Responses API', () => {
  let model: ScriptedOpenAi;
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    model = await startScriptedOpenAi();
    ({ server } = await serveWith(model));
    repo = await registerRepo(server, 'app');
  });
  afterAll(async () => model?.close());
  afterEach(() => model.clear());

  const run = (body: Record<string, unknown>): Promise<Run> =>
    server.api.createRun({ agent: 'codex', repo: repo.id, ...body });

  it('writes a file (edit: workspace-write), resumes the thread, and stores per-run usage', async () => {
    model.queue(
      'write',
      { kind: 'patch', patch: addFile('hello.txt', 'hello from codex'), usage: u(1000, 100, 20) },
      { kind: 'text', text: 'Wrote hello.txt.', usage: u(1200, 900, 10) },
    );
    const writeHello = `write hello ${caseTag('write')}`;
    const first = await finished(server.api, (await run({ prompt: writeHello })).id, 60_000);
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    expect(first.resultText).toBe('Wrote hello.txt.');
    expect(first.permissionDenials).toEqual([]);
    // The server's two responses of this turn, summed: input includes the cached tokens.
    expect(first.usage).toEqual({ input: 2200, output: 30, cacheRead: 1000, cacheWrite: 0 });
    const diff = await server.api.request('GET', `/v1/runs/${first.id}/diff`);
    expect(diff.text).toContain('+++ b/hello.txt');
    expect(diff.text).toContain('+hello from codex');
    // Codex sent the patch's result back to the model.
    const toolOutput = model.requestsOf('write')[1]!.body!.input.at(-1)!;
    expect(toolOutput.type).toBe('custom_tool_call_output');
    expect(toolOutput.output).toContain('Success');

    // The second message of the conversation: Codex resumes the thread, options before `resume`.
    model.queue('resume', { kind: 'text', text: 'It says hello.', usage: u(3000, 2000, 7) });
    const whatDid = `what did you write? ${caseTag('resume')}`;
    const second = await finished(
      server.api,
      (
        await server.api.createRun({
          agent: 'codex',
          prompt: whatDid,
          workspaceOf: first.id,
          resumeSessionId: first.sessionId,
        })
      ).id,
      60_000,
    );
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    expect(second.sessionId).toBe(first.sessionId);
    // The model saw the earlier turn: its question, the patch call and its output.
    const resumed = model.requestsOf('resume')[0]!.body!;
    expect(userTexts(resumed)).toEqual(expect.arrayContaining([writeHello, whatDid]));
    expect(resumed.input.some((i) => i.type === 'custom_tool_call')).toBe(true);
    // Codex reports the thread's running total; the run stores only what this run used.
    expect(second.usage).toEqual({ input: 3000, output: 7, cacheRead: 2000, cacheWrite: 0 });
  });

  it('read-only: Codex rejects the patch; no file, and the refusal reaches the model', async () => {
    model.queue(
      'read-only',
      { kind: 'patch', patch: addFile('denied.txt', 'nope'), usage: u(10, 0, 1) },
      { kind: 'text', text: 'I could not write.', usage: u(10, 0, 1) },
    );
    const created = await run({
      prompt: `write denied ${caseTag('read-only')}`,
      agentPermissions: 'read-only',
    });
    const done = await finished(server.api, created.id, 60_000);
    expect(existsSync(join(done.workdir!, 'denied.txt'))).toBe(false);
    expect(model.requestsOf('read-only')[1]!.body!.input.at(-1)!.output).toMatch(/patch rejected/);
    // Codex logs the rejection only on stderr: the run shows it there.
    expect(await server.api.output(done.id)).toMatch(
      /patch rejected: writing is blocked by read-only sandbox/,
    );
    // ...and the engine hands that line to the parser: the denial is on the run and announced.
    expect(done.permissionDenials).toEqual([
      { tool: 'apply_patch', detail: expect.stringMatching(/read-only sandbox/) },
    ]);
    const events = await server.api.events(done.id);
    expect(
      events.filter((e) => e.type === 'error' && e.data.code === 'AGENT_PERMISSION_DENIED'),
    ).toHaveLength(1);
  });

  it('interrupts a turn mid-stream (SIGINT), then resumes the same thread', async () => {
    model.queue('hang', { kind: 'hang', usage: u(0, 0, 0) });
    const think = `think for a long time ${caseTag('hang')}`;
    const created = await run({ prompt: think });
    await waitFor(() => model.requestsOf('hang').length > 0, 'the hanging request', 30_000);
    // Codex printed thread.started before it asked the model: the session id is known.
    await waitFor(
      async () => (await server.api.events(created.id)).some((e) => e.type === 'message'),
      'thread.started',
      30_000,
    );
    const res = await server.api.request('POST', `/v1/runs/${created.id}/interrupt`);
    expect(res.status, res.text).toBeLessThan(300);
    const interrupted = await finished(server.api, created.id, 30_000);
    // Codex 0.171 dies of the SIGINT (no turn.failed, no result line): the turn was ended.
    expect(interrupted.status).toBe('cancelled');
    expect(interrupted.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(interrupted.signal).toBe('SIGINT');
    expect(interrupted.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    model.queue('hang-resume', { kind: 'text', text: 'Resumed.', usage: u(50, 0, 2) });
    const carryOn = `carry on ${caseTag('hang-resume')}`;
    const resumed = await finished(
      server.api,
      (
        await server.api.createRun({
          agent: 'codex',
          prompt: carryOn,
          workspaceOf: created.id,
          resumeSessionId: interrupted.sessionId,
        })
      ).id,
      60_000,
    );
    expect(resumed.status, JSON.stringify(resumed.error)).toBe('succeeded');
    // The interrupted turn completed no response: the thread's total is this run's alone.
    expect(resumed.usage).toEqual({ input: 50, output: 2, cacheRead: 0, cacheWrite: 0 });
    expect(userTexts(model.requestsOf('hang-resume')[0]!.body)).toEqual(
      expect.arrayContaining([think, carryOn]),
    );
  });

  it.each([
    [
      '401',
      () => [{ kind: 'http-error' as const, ...openAiErrors.invalidKey }],
      'AGENT_AUTH_FAILED',
    ],
    [
      '429',
      () => [1, 2].map(() => ({ kind: 'http-error' as const, ...openAiErrors.rateLimited(1) })),
      'AGENT_RATE_LIMITED',
    ],
    [
      '500',
      () => [1, 2].map(() => ({ kind: 'http-error' as const, ...openAiErrors.server })),
      'AGENT_PROVIDER_ERROR',
    ],
    [
      'context length',
      () => [{ kind: 'http-error' as const, ...openAiErrors.contextLength }],
      'AGENT_CONTEXT_WINDOW_EXCEEDED',
    ],
    [
      'rate limit in the stream',
      () => [
        {
          kind: 'failed' as const,
          code: 'rate_limit_exceeded',
          type: 'tokens',
          message: 'Rate limit reached for gpt-5.5. Please try again in 1.5s.',
        },
      ],
      'AGENT_RATE_LIMITED',
    ],
  ])(
    'maps a %s from the provider to its code, within a bounded time',
    async (_name, replies, code) => {
      model.queue(_name, ...replies());
      const started = Date.now();
      const created = await run({ prompt: `hello ${caseTag(_name)}` });
      const done = await finished(server.api, created.id, 30_000);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(done.status).toBe('failed');
      expect(done.error?.code, JSON.stringify(done.error)).toBe(code);
      const errors = await errorEvents(server, done.id);
      expect(errors.some((e) => e.code === code)).toBe(true);
      // OpenAI's "try again in 1.5s": Codex passes it on in the stream's message, not for a 429.
      if (_name === 'rate limit in the stream') {
        expect(errors.find((e) => e.code === code)?.retryAfterMs).toBe(1500);
        // ...and the run's error says it too.
        expect(done.error?.retryAfterMs).toBe(1500);
      }
    },
  );

  it('a failed stream is retried with a readable notice, then fails as a provider error', async () => {
    const { server: retrying } = await serveWith(model, {}, { streamRetries: 1 });
    model.queue(
      'stream-retry',
      ...[1, 2].map(() => ({
        kind: 'failed' as const,
        code: 'server_error',
        type: 'server_error',
        message: 'The server had an error while processing your request.',
      })),
    );
    const repo2 = await registerRepo(retrying, 'retry');
    const created = await retrying.api.createRun({
      agent: 'codex',
      repo: repo2.id,
      prompt: `hi ${caseTag('stream-retry')}`,
    });
    const done = await finished(retrying.api, created.id, 30_000);
    expect(done.error?.code).toBe('AGENT_PROVIDER_ERROR');
    const notices = (await errorEvents(retrying, done.id)).filter((e) => e.retrying === true);
    expect(notices[0]).toMatchObject({ attempt: 1, maxAttempts: 1, severity: 'warning' });
  });
});

describe.skipIf(!codex)('codex (real CLI) under PATCHBAY_SANDBOX=bwrap, with a fresh HOME', () => {
  let model: ScriptedOpenAi;
  beforeAll(async () => {
    model = await startScriptedOpenAi();
  });
  afterAll(async () => model?.close());

  it.each(['edit', 'full'] as const)(
    'writes a file (agentPermissions %s); the model server is reached with network: true',
    async (agentPermissions) => {
      const { server, home } = await serveWith(model, { PATCHBAY_SANDBOX: 'bwrap' });
      // Nothing of Codex's own state yet: the sandbox must create what it binds.
      rmSync(join(home, '.codex', 'sessions'), { recursive: true, force: true });
      const repo = await registerRepo(server, 'boxed');
      model.queue(
        `boxed-${agentPermissions}`,
        { kind: 'patch', patch: addFile('boxed.txt', 'written in the box'), usage: u(10, 0, 2) },
        { kind: 'text', text: 'Done.', usage: u(20, 0, 3) },
      );
      const created = await server.api.createRun({
        agent: 'codex',
        repo: repo.id,
        prompt: `write in the box ${caseTag(`boxed-${agentPermissions}`)}`,
        network: true,
        agentPermissions,
      });
      const done = await finished(server.api, created.id, 60_000);
      const events = (await server.api.events(done.id)).map((e) => JSON.stringify(e.data));
      expect(done.status, events.join('\n')).toBe('succeeded');
      expect(done.sandbox).toBe('bwrap');
      const diff = await server.api.request('GET', `/v1/runs/${done.id}/diff`);
      expect(diff.text, events.join('\n')).toContain('+written in the box');
      // Its session was saved in the fresh HOME: a resume would find it.
      expect(existsSync(join(home, '.codex', 'sessions'))).toBe(true);
    },
  );
});
