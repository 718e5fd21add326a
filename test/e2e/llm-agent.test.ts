/**
 * The built-in `llm` agent through the real `patchbay serve`, against a scripted
 * OpenAI-compatible server on loopback: each test queues the model's turns (tool calls in
 * Chat Completions' wire format), starts a run, and checks what the run did to the worktree,
 * what it recorded, and what the model was told.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireBwrap } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { chatErrors, chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from './helpers.js';

const KEY = 'sk-test-llm-agent-0123456789';
const MODEL = 'gpt-5-mini';
const USAGE = { prompt: 1000, completion: 50 };
/** gpt-5-mini: 0.25 USD per million input tokens, 2 per million output. */
const CALL_USD = (1000 * 0.25 + 50 * 2) / 1e6;

const APP = [
  'export function add(a, b) {',
  '  return a + b;',
  '}',
  '',
  'export function one() {',
  '  const x = 1;',
  '  return x;',
  '}',
  '',
  'export function two() {',
  '  const x = 1;',
  '  return x * 2;',
  '}',
  '',
].join('\n');

const turn = (id: string, name: string, args: unknown, text = '') =>
  chatStream({ model: MODEL, text, tool: { id, name, args }, usage: USAGE });

function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'app');
  mkdirSync(join(path, 'src'), { recursive: true });
  writeFileSync(join(path, 'src', 'app.js'), APP);
  writeFileSync(join(path, 'AGENTS.md'), 'Keep functions small.\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

/** The tool results the model was sent in request `index` (0-based). */
function toolMessages(model: ScriptedServer, index: number): string[] {
  const body = model.requests.filter((r) => r.method === 'POST')[index]?.body as Json;
  return (body.messages as Json[]).filter((m) => m.role === 'tool').map((m) => String(m.content));
}

afterAll(cleanupAll);

describe('the llm agent, end to end', () => {
  let model: ScriptedServer;
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    model = await startScriptedServer('/v1');
    const dataDir = tempDir();
    const path = makeRepo(dataDir);
    server = await startServer({
      dataDir,
      env: {
        PATCHBAY_OPENAI_API_KEY: KEY,
        PATCHBAY_OPENAI_BASE_URL: model.baseUrl,
        PATCHBAY_LLM_MAX_RETRIES: '0',
      },
    });
    const res = await server.api.request('POST', '/v1/repos', { path });
    expect(res.status, res.text).toBe(201);
    repo = res.body;
  });
  afterAll(async () => {
    await model.close();
  });
  beforeEach(() => model.reset());

  it('reads, edits through drift, is refused an ambiguous edit, writes, finishes: diff, usage and events', async () => {
    model.enqueue(
      turn('c1', 'read_file', { path: 'src/app.js' }, 'Reading the file.'),
      // Indented 4 instead of 2 (newText too): lands through the indentation rung, re-indented.
      turn('c2', 'replace', {
        path: 'src/app.js',
        oldText: '    return a + b;',
        newText: '    return b + a;',
      }),
      // `const x = 1;` is in two functions: refused, nothing changes.
      turn('c3', 'replace', {
        path: 'src/app.js',
        oldText: 'const x = 1;',
        newText: 'const x = 3;',
      }),
      turn('c4', 'write_file', { path: 'NOTES.md', content: 'swapped the operands\n' }),
      turn('c5', 'finish', { summary: 'Swapped the operands and wrote notes.' }),
    );
    const run = await server.api.createRun({
      agent: 'llm',
      prompt: 'swap the operands of add',
      repo: repo.id,
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.resultText).toBe('Swapped the operands and wrote notes.');
    expect(run.numTurns).toBe(5);
    expect(run.sessionId).toMatch(/^llm-/);
    expect(run.usage).toMatchObject({ input: 5000, output: 250 });
    expect(run.costUsd).toBeCloseTo(5 * CALL_USD, 9);

    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain('-  return a + b;');
    expect(diff.text).toContain('+  return b + a;');
    expect(diff.text).toContain('+++ b/NOTES.md');
    expect(diff.text).not.toContain('const x = 3;');

    // What the model was told: the repository map and instructions, then each tool's answer.
    const first = model.requests.find((r) => r.method === 'POST')!.body as Json;
    const system = String((first.messages as Json[])[0].content);
    expect(system).toContain('src/app.js (13 lines)');
    expect(system).toContain('Keep functions small.');
    expect(system).toContain('Languages: JavaScript (1 file).');
    expect(first.messages[1]).toMatchObject({ role: 'user', content: 'swap the operands of add' });
    expect(toolMessages(model, 1)[0]).toContain('export function add(a, b) {');
    expect(toolMessages(model, 2)[1]).toContain('matched indentation');
    expect(toolMessages(model, 3)[2]).toMatch(/matches 2 places/);

    const events = await server.api.events(run.id);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'tool_call')).toHaveLength(5);
    expect(types.filter((t) => t === 'usage')).toHaveLength(5);
    const results = events.filter((e) => e.type === 'tool_result').map((e) => e.data as Json);
    expect(results.map((r) => r.isError)).toEqual([false, false, true, false, false]);
    expect(events.find((e) => e.type === 'tool_call')?.data).toEqual({
      id: 'c1',
      name: 'read_file',
      input: { path: 'src/app.js' },
    });
    // Streamed: the text in the pieces the model sent, then whole (as the CLIs' events are).
    const said = events
      .filter((e) => e.type === 'message' && (e.data as Json).role === 'assistant')
      .map((e) => e.data as Json);
    expect(said.slice(0, 3)).toEqual([
      { role: 'assistant', text: 'Reading t', subtype: 'delta' },
      { role: 'assistant', text: 'he file.', subtype: 'delta' },
      { role: 'assistant', text: 'Reading the file.' },
    ]);
    // One ledger row per call, under the run, as the run's usage events say.
    const ledger = await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`);
    expect(ledger.status).toBe(200);
    const calls = ledger.body.calls as Json[];
    expect(calls).toHaveLength(5);
    expect(calls[0]).toMatchObject({
      runId: run.id,
      repoId: repo.id,
      purpose: 'agent',
      provider: 'openai',
      model: MODEL,
      inputTokens: 1000,
      outputTokens: 50,
      outcome: 'succeeded',
      attempts: 1,
      rawUsage: expect.objectContaining({ prompt_tokens: 1000 }),
    });
    expect(calls.reduce((sum: number, c) => sum + Number(c.costUsd), 0)).toBeCloseTo(
      Number(run.costUsd),
      9,
    );
    const page = await server.api.request(
      'GET',
      `/v1/llm/calls?runId=${run.id}&repo=${repo.id}&limit=3`,
    );
    expect(page.body.calls).toHaveLength(3);
    const rest = await server.api.request(
      'GET',
      `/v1/llm/calls?runId=${run.id}&limit=3&cursor=${page.body.nextCursor}`,
    );
    expect(rest.body.calls).toHaveLength(2);
    expect(rest.body.nextCursor).toBeNull();
    expect(events.findLast((e) => e.type === 'result')?.data).toMatchObject({
      ok: true,
      numTurns: 5,
    });
    // The key reached the model server, and nothing the run recorded.
    expect(model.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(events)).not.toContain(KEY);
    expect(JSON.stringify(await server.api.getRun(run.id))).not.toContain(KEY);
  });

  it('stops at maxTurns, and at maxCostUsd within one call', async () => {
    const list = (id: string) => turn(id, 'list_files', {});
    model.enqueue(list('a1'), list('a2'), list('a3'));
    const capped = await server.api.createRun({
      agent: 'llm',
      prompt: 'look around',
      repo: repo.id,
      maxTurns: 2,
      wait: true,
    });
    expect(capped.status).toBe('failed');
    expect(capped.error?.code).toBe('AGENT_RESULT_ERROR');
    expect(capped.error?.message).toContain('2 turns');
    expect(capped.numTurns).toBe(2);

    model.reset();
    model.enqueue(list('b1'), list('b2'), list('b3'), list('b4'));
    const budget = await server.api.createRun({
      agent: 'llm',
      prompt: 'look around',
      repo: repo.id,
      // Two calls cost 2 × CALL_USD, over this cap: the second call is the last.
      args: ['--max-cost-usd', String(CALL_USD * 1.5)],
      wait: true,
    });
    expect(budget.status).toBe('failed');
    expect(budget.error?.code).toBe('BUDGET_EXCEEDED');
    expect(budget.numTurns).toBe(2);
    expect(budget.costUsd).toBeCloseTo(2 * CALL_USD, 9);
    expect(model.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('fails with the auth code when the provider refuses the key', async () => {
    model.enqueue(chatErrors.auth(KEY));
    const run = await server.api.createRun({
      agent: 'llm',
      prompt: 'anything',
      repo: repo.id,
      wait: true,
    });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('AGENT_AUTH_FAILED');
    expect(run.error?.message).toContain('LLM_AUTH_FAILED');
    expect(run.error?.message).not.toContain(KEY);
    // The refused call is in the ledger too, with its outcome.
    const ledger = await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`);
    expect(ledger.body.calls).toMatchObject([{ outcome: 'LLM_AUTH_FAILED', costUsd: null }]);
  });

  it('with full permissions runs commands, which cannot see the model key, even in its parent', async () => {
    model.enqueue(
      turn('r1', 'run_command', {
        argv: ['sh', '-c', 'cat /proc/$PPID/environ; env; git status --short'],
      }),
      turn('r2', 'finish', { summary: 'looked' }),
    );
    const run = await server.api.createRun({
      agent: 'llm',
      prompt: 'run it',
      repo: repo.id,
      agentPermissions: 'full',
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const result = (await server.api.events(run.id)).find((e) => e.type === 'tool_result')!;
    const output = String((result.data as Json).output);
    expect(output).toMatch(/^exit code 0\n/);
    // The parent's environment was read (its PATH is there), and holds no key.
    expect(output).toContain('PATH=');
    expect(output).not.toContain(KEY);
    expect(output).not.toContain('PATCHBAY_OPENAI');
    // An edit run is not offered the tool.
    model.reset();
    model.enqueue(turn('r3', 'finish', { summary: 'ok' }));
    await server.api.createRun({ agent: 'llm', prompt: 'x', repo: repo.id, wait: true });
    const offered = (model.requests[0]!.body as Json).tools.map((t: Json) => t.function.name);
    expect(offered).not.toContain('run_command');
    expect(offered).toContain('write_file');
  });

  it('an interrupt during a command stops it, keeps the session; an unknown session is refused', async () => {
    model.enqueue(turn('s1', 'run_command', { argv: ['sleep', '60'] }));
    const run = await server.api.request('POST', '/v1/runs', {
      agent: 'llm',
      prompt: 'wait a minute',
      repo: repo.id,
      agentPermissions: 'full',
    });
    await waitFor(
      async () => (await server.api.events(run.body.id)).some((e) => e.type === 'tool_call'),
      'the command started',
      30_000,
    );
    const started = Date.now();
    await server.api.request('POST', `/v1/runs/${run.body.id}/interrupt`);
    const stopped = await server.api.waitForStatus(run.body.id, undefined, 30_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    const results = (await server.api.events(run.body.id)).filter((e) => e.type === 'tool_result');
    expect(results).toMatchObject([{ data: { isError: true } }]);

    // Resumed by its session id, in the same worktree: the model sees the interrupted command.
    model.reset();
    model.enqueue(turn('s2', 'finish', { summary: 'resumed' }));
    const resumed = await server.api.createRun({
      agent: 'llm',
      prompt: 'go on',
      workspaceOf: run.body.id,
      resumeSessionId: stopped.sessionId,
      wait: true,
    });
    expect(resumed.status, JSON.stringify(resumed.error)).toBe('succeeded');
    expect(resumed.sessionId).toBe(stopped.sessionId);
    expect(JSON.stringify(model.requests[0]!.body)).toContain('wait a minute');

    const unknown = await server.api.createRun({
      agent: 'llm',
      prompt: 'go on',
      repo: repo.id,
      resumeSessionId: 'llm-nope',
      wait: true,
    });
    expect(unknown.status).toBe('failed');
    expect(unknown.error?.code).toBe('AGENT_SESSION_NOT_FOUND');
  });

  it('refuses unknown args, and limits given to another agent or twice, before anything runs', async () => {
    const res = await server.api.request('POST', '/v1/runs', {
      agent: 'llm',
      prompt: 'x',
      repo: repo.id,
      args: ['--yolo'],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    // The limits are the llm agent's alone, and given once.
    const shell = await server.api.request('POST', '/v1/runs', {
      command: ['true'],
      maxTurns: 3,
    });
    expect(shell.status).toBe(400);
    expect(shell.body.error.message).toContain('maxTurns is for the llm agent only');
    const twice = await server.api.request('POST', '/v1/runs', {
      agent: 'llm',
      prompt: 'x',
      repo: repo.id,
      maxTurns: 3,
      args: ['--max-turns', '4'],
    });
    expect(twice.status).toBe(400);
  });
});

const bwrap = await requireBwrap();

describe.skipIf(!bwrap)('the llm agent in the bwrap sandbox', () => {
  it('runs its own code read-only inside the sandbox and edits the worktree', async () => {
    const model = await startScriptedServer('/v1');
    try {
      const dataDir = tempDir();
      const path = makeRepo(dataDir);
      const server = await startServer({
        dataDir,
        env: {
          PATCHBAY_SANDBOX: 'bwrap',
          PATCHBAY_OPENAI_API_KEY: KEY,
          PATCHBAY_OPENAI_BASE_URL: model.baseUrl,
          PATCHBAY_LLM_MAX_RETRIES: '0',
        },
      });
      const repo = (await server.api.request('POST', '/v1/repos', { path })).body as Json;
      model.enqueue(
        turn('s1', 'write_file', { path: 'SANDBOXED.md', content: 'yes\n' }),
        turn('s2', 'finish', { summary: 'ok' }),
      );
      // The model server is on the host's loopback: the run needs the network.
      const run = await server.api.createRun({
        agent: 'llm',
        prompt: 'write it',
        repo: repo.id,
        network: true,
        wait: true,
      });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect(run.sandbox).toBe('bwrap');
      const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
      expect(diff.text).toContain('+++ b/SANDBOXED.md');
    } finally {
      await model.close();
    }
  });
});
