/**
 * `GET /v1/llm/models` and a repository's model choice through the real server (built:
 * `npm run build`), its providers pointed at scripted servers on loopback: list endpoints
 * where they answer, the price table where they do not; no key in an answer or a log line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  type Json,
  type ServerHandle,
} from '../e2e/helpers.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import { KEYS } from './cases.js';

let openai: ScriptedServer;
let anthropic: ScriptedServer;
let gemini: ScriptedServer;
let local: ScriptedServer;
let server: ServerHandle;
let dataDir: string;

beforeAll(async () => {
  [openai, anthropic, gemini, local] = await Promise.all([
    startScriptedServer('/v1'),
    startScriptedServer('/v1'),
    startScriptedServer('/v1beta'),
    startScriptedServer('/v1'),
  ]);
  openai.setModelList({
    object: 'list',
    data: [
      { id: 'gpt-5-mini', object: 'model' },
      { id: 'gpt-4.1', object: 'model' },
    ],
  });
  // Anthropic's list is left unanswered (404): the price table's models stand in.
  gemini.setModelList({
    models: [
      {
        name: 'models/gemini-2.5-pro',
        displayName: 'Gemini 2.5 Pro',
        inputTokenLimit: 1_048_576,
        supportedGenerationMethods: ['generateContent', 'countTokens'],
      },
      { name: 'models/text-embedding-004', supportedGenerationMethods: ['embedContent'] },
    ],
  });
  local.setModelList({ object: 'list', data: [{ id: 'qwen2.5-coder:7b', object: 'model' }] });
  dataDir = tempDir('patchbay-llm-e2e-');
  server = await startServer({
    dataDir,
    env: {
      PATCHBAY_LOG_LEVEL: 'debug',
      PATCHBAY_LLM_PROVIDER: 'anthropic',
      PATCHBAY_OPENAI_API_KEY: KEYS.openai,
      PATCHBAY_OPENAI_BASE_URL: openai.baseUrl,
      PATCHBAY_ANTHROPIC_API_KEY: KEYS.anthropic,
      PATCHBAY_ANTHROPIC_BASE_URL: anthropic.baseUrl,
      PATCHBAY_GEMINI_API_KEY: KEYS.gemini,
      PATCHBAY_GEMINI_BASE_URL: gemini.baseUrl,
      PATCHBAY_LLM_BASE_URL: local.baseUrl,
      PATCHBAY_LLM_API_KEY: KEYS['openai-compatible'],
    },
  });
}, 60_000);

afterAll(async () => {
  await cleanupAll();
  await Promise.all([openai, anthropic, gemini, local].map((s) => s?.close()));
});

describe('GET /v1/llm/models', () => {
  it('lists every configured provider with models, context windows and prices', async () => {
    const res = await server.api.request('GET', '/v1/llm/models');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(
      (res.body.providers as { provider: string }[]).map((p) => [p.provider, p]),
    ) as Record<string, Json>;
    expect(Object.keys(byName).sort()).toEqual([
      'anthropic',
      'gemini',
      'openai',
      'openai-compatible',
    ]);

    expect(byName.openai).toMatchObject({
      source: 'provider',
      isDefault: false,
      defaultModel: 'gpt-5-mini',
    });
    const mini = byName.openai.models.find((m: { id: string }) => m.id === 'gpt-5-mini');
    expect(mini.prices).toMatchObject({ input: 0.25, output: 2, cacheRead: 0.025 });
    expect(byName.openai.models.map((m: { id: string }) => m.id)).toEqual([
      'gpt-4.1',
      'gpt-5-mini',
    ]);

    expect(byName.anthropic).toMatchObject({ source: 'known', isDefault: true });
    expect(byName.anthropic.listError).toContain('404');
    const sonnet = byName.anthropic.models.find(
      (m: { id: string }) => m.id === 'claude-sonnet-4-5',
    );
    expect(sonnet).toMatchObject({ contextWindow: 200_000 });
    expect(sonnet.prices).toMatchObject({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 });
    expect(sonnet.prices.tiers).toEqual([
      { fromInputTokens: 200_000, input: 6, output: 22.5, cacheRead: 0.6, cacheWrite: 7.5 },
    ]);

    expect(byName.gemini.models).toEqual([
      expect.objectContaining({
        id: 'gemini-2.5-pro',
        name: 'Gemini 2.5 Pro',
        contextWindow: 1_048_576,
      }),
    ]);
    expect(byName.gemini.models[0].prices.tiers[0]).toMatchObject({
      fromInputTokens: 200_000,
      input: 2.5,
    });

    expect(byName['openai-compatible']).toMatchObject({
      source: 'provider',
      defaultModel: null,
      models: [{ id: 'qwen2.5-coder:7b', name: null, contextWindow: null, prices: null }],
    });

    // The list endpoints got the keys; the answer and the server's log never show them.
    expect(openai.requests[0]!.headers.authorization).toBe(`Bearer ${KEYS.openai}`);
    expect(gemini.requests[0]!.headers['x-goog-api-key']).toBe(KEYS.gemini);
    for (const key of Object.values(KEYS)) {
      expect(res.text).not.toContain(key);
      expect(server.stderr() + server.stdout()).not.toContain(key);
    }
  });
});

describe('PATCH /v1/repos/:id', () => {
  it("sets and clears a repository's provider and model", async () => {
    const path = join(dataDir, 'workspaces', 'repo');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'README.md'), '# r\n');
    gitIn(path, 'init', '-q', '-b', 'main');
    gitIn(path, 'add', '.');
    gitIn(path, 'commit', '-q', '-m', 'init');
    const created = await server.api.request('POST', '/v1/repos', { path });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const set = await server.api.request('PATCH', `/v1/repos/${id}`, {
      llm: { provider: 'gemini', model: 'gemini-2.5-pro' },
    });
    expect(set.status).toBe(200);
    expect(set.body.llm).toEqual({ provider: 'gemini', model: 'gemini-2.5-pro' });
    expect((await server.api.request('GET', `/v1/repos/${id}`)).body.llm).toEqual({
      provider: 'gemini',
      model: 'gemini-2.5-pro',
    });
    const bad = await server.api.request('PATCH', `/v1/repos/${id}`, { llm: { provider: 'nope' } });
    expect(bad.status).toBe(400);
    const cleared = await server.api.request('PATCH', `/v1/repos/${id}`, { llm: null });
    expect(cleared.body.llm).toBeNull();
    const missing = await server.api.request('PATCH', '/v1/repos/repo_missing', { llm: null });
    expect(missing.status).toBe(404);
  });
});
