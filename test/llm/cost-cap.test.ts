/**
 * A run's `maxCostUsd` through the client and a real ledger: calls go on while the run's
 * recorded spend is under the cap, the call that crosses it is the last, the next is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLlmClient } from '../../src/llm/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { messagesStream } from '../fixtures/llm-servers/anthropic.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';

let dir: string;
let store: Store;
let server: ScriptedServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchbay-llm-cap-'));
  store = await openStore({ databaseUrl: join(dir, 'patchbay.db') });
  server = await startScriptedServer('/v1');
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('stops a run within one call of its cap with BUDGET_EXCEEDED', async () => {
  const config = loadConfig({
    env: {
      PATCHBAY_DATA_DIR: dir,
      PATCHBAY_ANTHROPIC_API_KEY: 'sk-ant-cap-test',
      PATCHBAY_ANTHROPIC_BASE_URL: server.baseUrl,
    },
    cwd: dir,
  });
  const llm = createLlmClient({ config, ledger: store.llmCalls });
  // Each call: 10 000 input × 3 + 1 000 output × 15 USD per million = 0.045 USD.
  const answer = () =>
    messagesStream({
      model: 'claude-sonnet-4-5',
      text: 'ok',
      usage: { input: 10_000, cacheWrite: 0, cacheRead: 0, output: 1_000 },
    });
  const call = () =>
    llm.complete({
      purpose: 'agent',
      runId: 'run_capped',
      maxCostUsd: 0.1,
      messages: [{ role: 'user', content: 'go' }],
    });
  for (let i = 0; i < 5; i++) server.enqueue(answer());
  const costs: number[] = [];
  let refusal: unknown;
  for (let i = 0; i < 5 && refusal === undefined; i++) {
    try {
      costs.push((await call()).costUsd!);
    } catch (err) {
      refusal = err;
    }
  }
  // 0.045, 0.09 (< 0.1, so one more), 0.135: over the cap by less than one call; then refused.
  expect(costs).toHaveLength(3);
  expect(costs[0]).toBeCloseTo(0.045, 10);
  expect(refusal).toMatchObject({
    code: 'BUDGET_EXCEEDED',
    details: { limit: 'maxCostUsd', max: 0.1 },
  });
  expect(server.requests).toHaveLength(3);
  expect(await store.llmCalls.sumUsdOfRun('run_capped')).toBeCloseTo(0.135, 10);
});
