/**
 * The `llm` agent's one-shot mode (`mode: "patch"`) through the real `patchbay serve` and a
 * scripted OpenAI-compatible server: one call returns edits for the named files; they apply
 * through whitespace drift, and a patch that is ambiguous, touches another file or leaves a
 * file that does not parse fails the run with a stable code and changes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from './helpers.js';

const MODEL = 'gpt-5-mini';
const APP = 'export function add(a, b) {\n  return a + b;\n}\n\nconst x = 1;\nconst y = 1;\n';

const patch = (edits: unknown[], summary = 'done') =>
  chatStream({
    model: MODEL,
    text: '',
    tool: { id: 'p1', name: 'apply_patch', args: { edits, summary } },
    usage: { prompt: 500, completion: 40 },
  });

afterAll(cleanupAll);

describe('the llm agent in patch mode', () => {
  let model: ScriptedServer;
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    model = await startScriptedServer('/v1');
    const dataDir = tempDir();
    const path = join(dataDir, 'workspaces', 'app');
    mkdirSync(join(path, 'src'), { recursive: true });
    writeFileSync(join(path, 'src', 'app.js'), APP);
    writeFileSync(join(path, 'README.md'), '# app\n');
    gitIn(path, 'init', '-q', '-b', 'main');
    gitIn(path, 'add', '.');
    gitIn(path, 'commit', '-q', '-m', 'initial');
    server = await startServer({
      dataDir,
      env: {
        PATCHBAY_OPENAI_API_KEY: 'sk-patch',
        PATCHBAY_OPENAI_BASE_URL: model.baseUrl,
        PATCHBAY_LLM_MAX_RETRIES: '0',
      },
    });
    repo = (await server.api.request('POST', '/v1/repos', { path })).body;
  });
  afterAll(async () => {
    await model.close();
  });
  beforeEach(() => model.reset());

  const create = (body: Json) =>
    server.api.createRun({ agent: 'llm', repo: repo.id, mode: 'patch', wait: true, ...body });

  it('one call: the files go to the model whole, the edits apply through drift', async () => {
    model.enqueue(
      patch(
        [{ path: 'src/app.js', oldText: '    return a + b;  ', newText: '    return b + a;' }],
        'Swapped the operands.',
      ),
    );
    const run = await create({ prompt: 'swap the operands', files: ['src/app.js'] });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.resultText).toBe('Swapped the operands.');
    expect(run.timeoutMs).toBe(180_000);
    expect(run.numTurns).toBe(1);
    const posts = model.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(JSON.stringify(posts[0]!.body)).toContain('export function add(a, b)');
    const diff = (await server.api.request('GET', `/v1/runs/${run.id}/diff`)).text;
    expect(diff).toContain('+  return b + a;');
    const calls = (await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`)).body.calls;
    expect(calls).toMatchObject([{ purpose: 'agent.patch', outcome: 'succeeded' }]);
  });

  it('fails with a stable code, changing nothing: ambiguous, another file, does not parse', async () => {
    const cases: [unknown[], string][] = [
      [[{ path: 'src/app.js', oldText: '= 1;', newText: '= 2;' }], 'LLM_PATCH_NOT_APPLIED'],
      [[{ path: 'README.md', oldText: '# app', newText: '# App' }], 'LLM_PATCH_NOT_APPLIED'],
      [
        [{ path: 'src/app.js', oldText: '  return a + b;\n}', newText: '  return (a +;' }],
        'LLM_PATCH_INVALID',
      ],
    ];
    for (const [edits, code] of cases) {
      model.reset();
      model.enqueue(patch(edits));
      const run = await create({ prompt: 'change it', files: ['src/app.js'] });
      expect(run.status).toBe('failed');
      expect(run.error?.code).toBe(code);
      expect((await server.api.request('GET', `/v1/runs/${run.id}/diff`)).text).toBe('');
    }
  });

  it("calls the repository's model (its settings), and the request's over it", async () => {
    const set = await server.api.request('PATCH', `/v1/repos/${repo.id}`, {
      llm: { model: 'gpt-5-nano' },
    });
    expect(set.status, set.text).toBe(200);
    try {
      const edit = [{ path: 'src/app.js', oldText: 'const y = 1;', newText: 'const y = 2;' }];
      model.enqueue(patch(edit));
      const run = await create({ prompt: 'y to 2', files: ['src/app.js'], autoCommit: false });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect((model.requests[0]!.body as Json).model).toBe('gpt-5-nano');
      const calls = (await server.api.request('GET', `/v1/runs/${run.id}/llm-calls`)).body.calls;
      expect(calls[0]).toMatchObject({ model: 'gpt-5-nano', repoId: repo.id });
      model.reset();
      model.enqueue(patch(edit));
      await create({ prompt: 'y to 2', files: ['src/app.js'], model: 'gpt-5-mini' });
      expect((model.requests[0]!.body as Json).model).toBe('gpt-5-mini');
    } finally {
      await server.api.request('PATCH', `/v1/repos/${repo.id}`, { llm: null });
    }
  });

  it('refuses a patch request without files, and files without patch mode', async () => {
    const none = await server.api.request('POST', '/v1/runs', {
      agent: 'llm',
      repo: repo.id,
      prompt: 'x',
      mode: 'patch',
    });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('VALIDATION_FAILED');
    const stray = await server.api.request('POST', '/v1/runs', {
      agent: 'llm',
      repo: repo.id,
      prompt: 'x',
      files: ['src/app.js'],
    });
    expect(stray.status).toBe(400);
  });
});
