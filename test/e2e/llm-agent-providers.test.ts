/**
 * The built-in `llm` agent through the real `patchbay serve` against each provider's scripted
 * server (OpenAI Chat Completions, Anthropic Messages, Gemini generateContent, each in its own
 * streaming wire format): a session that reads, edits through whitespace drift, is refused an
 * ambiguous edit, runs a command and finishes; a cost cap; an interrupt in the middle of a
 * model call and a resume of the same conversation with its whole history.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { messagesStream } from '../fixtures/llm-servers/anthropic.js';
import { geminiStream } from '../fixtures/llm-servers/gemini.js';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import {
  startScriptedServer,
  type ScriptedReply,
  type ScriptedServer,
} from '../fixtures/llm-servers/server.js';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from './helpers.js';

type Turn = (id: string, name: string, args: unknown, text?: string) => ScriptedReply;

interface Provider {
  name: string;
  prefix: string;
  model: string;
  env(baseUrl: string): Record<string, string>;
  turn: Turn;
}

const PROVIDERS: Provider[] = [
  {
    name: 'openai',
    prefix: '/v1',
    model: 'gpt-5-mini',
    env: (baseUrl) => ({ PATCHBAY_OPENAI_API_KEY: 'sk-p1', PATCHBAY_OPENAI_BASE_URL: baseUrl }),
    turn: (id, name, args, text = '') =>
      chatStream({
        model: 'gpt-5-mini',
        text,
        tool: { id, name, args },
        usage: { prompt: 1000, completion: 50 },
      }),
  },
  {
    name: 'anthropic',
    prefix: '/v1',
    model: 'claude-sonnet-4-5',
    env: (baseUrl) => ({
      PATCHBAY_LLM_PROVIDER: 'anthropic',
      PATCHBAY_ANTHROPIC_API_KEY: 'sk-ant-p1',
      PATCHBAY_ANTHROPIC_BASE_URL: baseUrl,
    }),
    turn: (id, name, args, text = '') =>
      messagesStream({
        model: 'claude-sonnet-4-5',
        thinking: 'Thinking it over.',
        text,
        tool: { id: `toolu_${id}`, name, input: args },
        usage: { input: 800, cacheWrite: 100, cacheRead: 100, output: 50 },
      }),
  },
  {
    name: 'gemini',
    prefix: '/v1beta',
    model: 'gemini-2.5-flash',
    env: (baseUrl) => ({
      PATCHBAY_LLM_PROVIDER: 'gemini',
      PATCHBAY_GEMINI_API_KEY: 'gm-p1',
      PATCHBAY_GEMINI_BASE_URL: baseUrl,
    }),
    turn: (_id, name, args, text = '') =>
      geminiStream({
        model: 'gemini-2.5-flash',
        text,
        call: { name, args },
        usage: { prompt: 1000, cached: 200, candidates: 40, thoughts: 10 },
      }),
  },
];

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

function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'app');
  mkdirSync(join(path, 'src'), { recursive: true });
  writeFileSync(join(path, 'src', 'app.js'), APP);
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

const posts = (model: ScriptedServer) => model.requests.filter((r) => r.method === 'POST');

afterAll(cleanupAll);

describe.each(PROVIDERS)('the llm agent with $name', (p) => {
  let model: ScriptedServer;
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    model = await startScriptedServer(p.prefix);
    const dataDir = tempDir();
    server = await startServer({
      dataDir,
      env: { ...p.env(model.baseUrl), PATCHBAY_LLM_MAX_RETRIES: '0' },
    });
    const res = await server.api.request('POST', '/v1/repos', { path: makeRepo(dataDir) });
    expect(res.status, res.text).toBe(201);
    repo = res.body;
  });
  afterAll(async () => {
    await model.close();
  });
  beforeEach(() => model.reset());

  it('reads, edits through drift, is refused an ambiguous edit, runs a command, finishes', async () => {
    model.enqueue(
      p.turn('c1', 'read_file', { path: 'src/app.js' }, 'Reading.'),
      // Trailing blanks and a 4-space indent the file does not have: found, re-indented.
      p.turn('c2', 'replace', {
        path: 'src/app.js',
        oldText: '    return a + b;   ',
        newText: '    return b + a;',
      }),
      p.turn('c3', 'replace', { path: 'src/app.js', oldText: 'const x = 1;', newText: 'x' }),
      p.turn('c4', 'run_command', { argv: ['git', 'diff', '--stat'] }),
      p.turn('c5', 'finish', { summary: 'Swapped.' }),
    );
    const run = await server.api.createRun({
      agent: 'llm',
      prompt: 'swap the operands of add',
      repo: repo.id,
      agentPermissions: 'full',
      wait: true,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.resultText).toBe('Swapped.');
    expect(run.numTurns).toBe(5);
    expect(run.model).toBe(p.model);
    const diff = (await server.api.request('GET', `/v1/runs/${run.id}/diff`)).text;
    expect(diff).toContain('-  return a + b;');
    expect(diff).toContain('+  return b + a;');
    expect(diff).not.toMatch(/^\+.*\bx$/m);

    const events = await server.api.events(run.id);
    const results = events.filter((e) => e.type === 'tool_result').map((e) => e.data as Json);
    expect(results.map((r) => r.isError)).toEqual([false, false, true, false, false]);
    expect(results[2].output).toMatch(/matches 2 places/);
    expect(results[3].output).toMatch(/^exit code 0\n.*src\/app\.js/s);
    // Streamed text, and one usage event and one ledger row per call, summing to the run's cost.
    expect(events.some((e) => e.type === 'message' && e.data.subtype === 'delta')).toBe(true);
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(5);
    const calls = (await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`)).body
      .calls as Json[];
    expect(calls).toHaveLength(5);
    for (const c of calls) {
      expect(c).toMatchObject({ provider: p.name, model: p.model, purpose: 'agent' });
      expect(c.outcome).toBe('succeeded');
      expect(c.inputTokens).toBe(1000);
    }
    const sum = calls.reduce((s: number, c) => s + Number(c.costUsd), 0);
    expect(sum).toBeGreaterThan(0);
    expect(run.costUsd).toBeCloseTo(sum, 9);
    expect((run.usage as Json).input).toBe(5000);
  });

  it('stops with BUDGET_EXCEEDED within one call of maxCostUsd', async () => {
    const list = (id: string) => p.turn(id, 'list_files', {});
    model.enqueue(list('b1'), list('b2'), list('b3'));
    const run = await server.api.createRun({
      agent: 'llm',
      prompt: 'look around',
      repo: repo.id,
      // Any call costs more: the first is made, the second is not.
      maxCostUsd: 0.000001,
      wait: true,
    });
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('BUDGET_EXCEEDED');
    expect(run.numTurns).toBe(1);
    expect(posts(model)).toHaveLength(1);
    const calls = (await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`)).body.calls;
    expect(calls).toHaveLength(1);
    expect(run.costUsd).toBeCloseTo(Number(calls[0].costUsd), 9);
  });

  it('is interrupted in the middle of a call, and the conversation resumes with its history', async () => {
    const conv = await server.api.request('POST', '/v1/conversations', {
      agent: 'llm',
      repo: repo.id,
    });
    expect(conv.status, conv.text).toBe(201);
    const held = p.turn('i2', 'list_files', {}, 'still thinking about it') as { events: string[] };
    // The second answer starts streaming and never ends.
    model.enqueue(p.turn('i1', 'read_file', { path: 'src/app.js' }), {
      events: held.events.slice(0, 1),
      hold: true,
    });
    // A budget on the repository: what it counts today before this run, and during it.
    await server.api.request('PUT', `/v1/budgets/repos/${repo.id}`, { maxUsdPerDay: 1000 });
    const usdToday = async (): Promise<number> => {
      const all = (await server.api.request('GET', '/v1/budgets')).body.budgets as Json[];
      return Number(all.find((b) => b.repoId === repo.id)?.usage.usdToday);
    };
    const before = await usdToday();
    const first = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: 'remember the word kumquat',
    });
    expect(first.status, first.text).toBe(202);
    await waitFor(() => posts(model).length === 2, 'the second model call', 30_000);
    await waitFor(
      async () => (await server.api.events(first.body.id)).some((e) => e.type === 'usage'),
      'the first call recorded',
      30_000,
    );
    // The run's first call counts against the budget while the run is still going.
    const [firstCall] = await waitFor(async () => {
      const calls = (await server.api.request('GET', `/v1/runs/${first.body.id}/llm-calls`)).body
        .calls as Json[];
      return calls.length === 1 ? calls : undefined;
    }, 'the first ledger row');
    // (Budgets show USD to 4 decimals.)
    const counted = (await usdToday()) - before;
    expect(counted).toBeGreaterThan(0);
    expect(Math.abs(counted - Number(firstCall.costUsd))).toBeLessThanOrEqual(0.00006);
    const res = await server.api.request('POST', `/v1/runs/${first.body.id}/interrupt`);
    expect(res.status, res.text).toBe(200);
    const stopped = await server.api.waitForStatus(first.body.id, undefined, 30_000);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.error?.code).toBe('AGENT_TURN_INTERRUPTED');
    expect(stopped.sessionId).toMatch(/^llm-/);
    // Its transcript is stored with it (what a resume is given back).
    const firstEvents = await server.api.events(first.body.id);
    expect(
      firstEvents.some((e) => e.type === 'artifact' && e.data.name === 'transcript.json'),
    ).toBe(true);
    // The call under way is in the ledger, stopped.
    const calls = (await server.api.request('GET', `/v1/runs/${first.body.id}/llm-calls`)).body
      .calls as Json[];
    expect(calls.map((c) => c.outcome)).toEqual(['succeeded', expect.not.stringMatching(/^succ/)]);

    model.reset();
    model.enqueue(p.turn('i3', 'finish', { summary: 'The word was kumquat.' }));
    const second = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: 'what was the word?',
      wait: true,
    });
    expect(second.status, second.text).toBe(200);
    expect(second.body.status, JSON.stringify(second.body.error)).toBe('succeeded');
    expect(second.body.sessionId).toBe(stopped.sessionId);
    expect(second.body.resultText).toBe('The word was kumquat.');
    // The model was sent the whole session: the first prompt, the file it read, the new prompt.
    const sent = JSON.stringify(posts(model)[0]!.body);
    expect(sent).toContain('remember the word kumquat');
    expect(sent).toContain('export function add(a, b) {');
    expect(sent).toContain('what was the word?');
    expect(sent.indexOf('kumquat')).toBeLessThan(sent.indexOf('what was the word?'));
  });
});
