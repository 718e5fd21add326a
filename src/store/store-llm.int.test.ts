/** The store contract for the model-call ledger and repositories' model choice, both dialects. */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import type { LlmCallRecord } from './llm-calls-repository.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it("records model calls with every token kind and the raw usage, and sums a run's", async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const call: LlmCallRecord = {
      id: `llm_${Math.random().toString(36).slice(2)}`,
      runId: run.id,
      repoId: null,
      purpose: 'agent',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      inputTokens: 100,
      outputTokens: 20,
      cacheReadTokens: 30,
      cacheWriteTokens: 40,
      reasoningTokens: 5,
      costUsd: 0.125,
      latencyMs: 1234,
      attempts: 2,
      outcome: 'succeeded',
      rawUsage: { input_tokens: 10, cache_read_input_tokens: 30 },
      createdAt: new Date().toISOString(),
    };
    await store.llmCalls.insert(call);
    await store.llmCalls.insert({
      ...call,
      id: `${call.id}_b`,
      costUsd: null,
      outcome: 'LLM_RATE_LIMITED',
      rawUsage: null,
    });
    const listed = await store.llmCalls.listByRun(run.id);
    expect(listed).toEqual([
      call,
      { ...call, id: `${call.id}_b`, costUsd: null, outcome: 'LLM_RATE_LIMITED', rawUsage: null },
    ]);
    expect(await store.llmCalls.sumUsdOfRun(run.id)).toBe(0.125);
    expect(await store.llmCalls.sumUsdOfRun('run_none')).toBe(0);
  });

  it('lists calls newest first, by run, repository and time, in pages', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const tag = Math.random().toString(36).slice(2);
    const base = {
      runId: run.id,
      repoId: `repo_${tag}`,
      purpose: 'agent',
      provider: 'openai',
      model: 'gpt-5-mini',
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costUsd: 0.001,
      latencyMs: 1,
      attempts: 1,
      outcome: 'succeeded',
      rawUsage: null,
    };
    // Two calls in the same millisecond: the id orders them.
    const at = ['2031-01-01T00:00:01.000Z', '2031-01-01T00:00:02.000Z', '2031-01-01T00:00:02.000Z'];
    const ids = at.map((_, i) => `llm_${tag}_${i}`);
    for (const [i, createdAt] of at.entries()) {
      await store.llmCalls.insert({ ...base, id: ids[i]!, createdAt });
    }
    await store.llmCalls.insert({
      ...base,
      id: `llm_${tag}_x`,
      runId: null,
      repoId: null,
      createdAt: at[0]!,
    });
    const page1 = await store.llmCalls.list({ runId: run.id, limit: 2 });
    expect(page1.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const page2 = await store.llmCalls.list({ runId: run.id, before: ids[1], limit: 2 });
    expect(page2.map((c) => c.id)).toEqual([ids[0]]);
    const byRepo = await store.llmCalls.list({ repoId: `repo_${tag}`, since: at[1], limit: 10 });
    expect(byRepo.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(await store.llmCalls.list({ before: 'llm_none', limit: 5 })).toEqual([]);
  });

  it("keeps a repository's provider and model, and clears them", async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const id = `repo_${Math.random().toString(36).slice(2)}`;
    const repo = {
      id,
      name: 'r',
      url: null,
      path: '/r',
      defaultBranch: 'main',
      managed: false,
      createdAt: new Date().toISOString(),
    };
    await store.repos.insert(repo);
    expect((await store.repos.get(id))?.llm).toBeNull();
    expect(await store.repos.setLlm(id, { provider: 'gemini', model: 'gemini-2.5-pro' })).toBe(
      true,
    );
    expect((await store.repos.get(id))?.llm).toEqual({
      provider: 'gemini',
      model: 'gemini-2.5-pro',
    });
    expect(await store.repos.setLlm(id, { model: 'gemini-2.5-flash' })).toBe(true);
    expect((await store.repos.get(id))?.llm).toEqual({ model: 'gemini-2.5-flash' });
    expect(await store.repos.setLlm(id, null)).toBe(true);
    expect((await store.repos.get(id))?.llm).toBeNull();
    expect(await store.repos.setLlm('repo_missing', null)).toBe(false);
  });
});
