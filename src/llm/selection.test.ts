import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { isPatchbayError } from '../contracts/index.js';
import { assertWithinCostCap } from './cost-cap.js';
import { readRepoLlmFile, repoLayersFrom, resolveSelection } from './selection.js';

const dir = mkdtempSync(join(tmpdir(), 'patchbay-llm-sel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configWith = (env: Record<string, string>) =>
  loadConfig({ env: { PATCHBAY_DATA_DIR: dir, ...env }, cwd: dir });

const both = configWith({
  PATCHBAY_OPENAI_API_KEY: 'sk-a',
  PATCHBAY_ANTHROPIC_API_KEY: 'sk-b',
  PATCHBAY_LLM_MODEL: 'gpt-4.1',
});

describe('resolveSelection', () => {
  it('defaults to the first configured provider and the configured model', () => {
    expect(resolveSelection(both)).toMatchObject({ provider: 'openai', model: 'gpt-4.1' });
  });

  it('lets the request win over the repository, the repository over its file, the file over the server', () => {
    const layers = {
      repo: { provider: 'anthropic' as const, model: 'claude-opus-4-1' },
      repoFile: { provider: 'openai' as const, model: 'gpt-5' },
    };
    expect(resolveSelection(both, layers)).toMatchObject({
      provider: 'anthropic',
      model: 'claude-opus-4-1',
    });
    expect(resolveSelection(both, { repoFile: layers.repoFile })).toMatchObject({
      provider: 'openai',
      model: 'gpt-5',
    });
    expect(
      resolveSelection(both, { ...layers, request: { model: 'claude-haiku-4-5' } }),
    ).toMatchObject({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
    });
  });

  it("never lends one provider's model to another", () => {
    // The server's model (gpt-4.1) is OpenAI's: a repository choosing Anthropic gets its default.
    expect(resolveSelection(both, { repo: { provider: 'anthropic' } })).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
    });
    expect(
      resolveSelection(both, {
        request: { provider: 'openai' },
        repo: { provider: 'anthropic', model: 'claude-x' },
      }),
    ).toMatchObject({ provider: 'openai', model: 'gpt-4.1' });
  });

  it('refuses with LLM_NOT_CONFIGURED: nothing configured, a provider without key, a local server without model', () => {
    const codes = [
      () => resolveSelection(configWith({})),
      () => resolveSelection(both, { request: { provider: 'gemini' } }),
      () => resolveSelection(configWith({ PATCHBAY_LLM_BASE_URL: 'http://127.0.0.1:11434/v1' })),
    ].map((f) => {
      try {
        f();
        return 'no error';
      } catch (err) {
        return isPatchbayError(err) ? err.code : String(err);
      }
    });
    expect(codes).toEqual(['LLM_NOT_CONFIGURED', 'LLM_NOT_CONFIGURED', 'LLM_NOT_CONFIGURED']);
  });
});

describe('.patchbay.json', () => {
  it('reads the llm entry, ignores a file without one, refuses an invalid one', async () => {
    const root = mkdtempSync(join(dir, 'repo-'));
    expect(await readRepoLlmFile(root)).toBeUndefined();
    writeFileSync(join(root, '.patchbay.json'), JSON.stringify({ commands: { test: 'npm test' } }));
    expect(await readRepoLlmFile(root)).toBeUndefined();
    writeFileSync(
      join(root, '.patchbay.json'),
      JSON.stringify({ llm: { provider: 'gemini', model: 'gemini-2.5-pro' } }),
    );
    expect(await readRepoLlmFile(root)).toEqual({ provider: 'gemini', model: 'gemini-2.5-pro' });
    const layers = await repoLayersFrom({
      get: async () => ({ path: root, llm: { model: 'gemini-2.5-flash' } }),
    })('r');
    expect(layers).toEqual({
      repo: { model: 'gemini-2.5-flash' },
      repoFile: { provider: 'gemini', model: 'gemini-2.5-pro' },
    });
    writeFileSync(join(root, '.patchbay.json'), JSON.stringify({ llm: { provider: 'skynet' } }));
    await expect(readRepoLlmFile(root)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('assertWithinCostCap', () => {
  it('allows calls below the cap and refuses once the run has spent it', async () => {
    let spent = 0.3;
    const ledger = { sumUsdOfRun: async () => spent };
    await assertWithinCostCap(ledger, 'run_1', 0.5);
    spent = 0.5;
    await expect(assertWithinCostCap(ledger, 'run_1', 0.5)).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { limit: 'maxCostUsd', max: 0.5, used: 0.5, runId: 'run_1' },
    });
  });
});
