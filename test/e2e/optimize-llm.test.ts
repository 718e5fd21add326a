import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import {
  cleanupAll,
  GIT_ENV,
  runCli,
  startServer,
  tempDir,
  waitFor,
  type Json,
} from './helpers.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'repos', 'lib-llm');
const MODEL = 'gpt-4.1-mini';

/** One streamed Chat Completions answer whose text is `body` as JSON. */
const answer = (body: unknown, usage = { prompt: 2_000, completion: 300, reasoning: 120 }) =>
  chatStream({ model: MODEL, text: JSON.stringify(body), usage });

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer('/v1');
});
afterAll(async () => {
  await server?.close();
  await cleanupAll();
});

/**
 * `patchbay optimize --llm` through the real CLI and its stage processes, against a local
 * server speaking OpenAI's streaming wire format. The fixture (lib-llm) has nothing a template
 * rewrites: every candidate is the model's. A right patch is proposed with its reasoning; one
 * that breaks a test and one that is slower are rejected, each with its reason.
 */
describe('patchbay optimize --llm', () => {
  const dataDir = tempDir('patchbay-optimize-llm-');
  const env = {
    PATCHBAY_DATA_DIR: dataDir,
    PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,LANG,BENCH_MS',
    BENCH_MS: '150',
  };

  it('refuses at once without a model provider, naming what to set', async () => {
    const result = await runCli(['optimize', FIXTURE, '--llm'], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('LLM_NOT_CONFIGURED');
    expect(result.stderr).toContain('PATCHBAY_LLM_PROVIDER');
    expect(server.requests).toHaveLength(0);
  });

  it('proposes the proven model patch and rejects a wrong and a slower one, reasons kept', async () => {
    server.reset();
    server.enqueue(
      // Discovery, step 1: a test file among the picks is dropped (tests are never patched).
      answer({
        files: ['src/primes.js', 'src/total.js', 'src/pad.js', 'test/lib.test.js'],
        reason: 'the benchmarks call these',
      }),
      // Step 2, one analysis per file, in the order picked.
      answer({
        opportunities: [
          {
            line: 6,
            endLine: 11,
            rationale: 'trial division tries every d < k; no divisor above √k is needed',
            risk: 'low',
            expectedEffect: 'countPrimes an order of magnitude faster',
          },
        ],
      }),
      answer({
        opportunities: [
          {
            line: 4,
            endLine: 6,
            rationale: 'index loop over the array',
            risk: 'medium',
            expectedEffect: 'slightly faster sum',
          },
        ],
      }),
      answer({
        opportunities: [
          { line: 3, rationale: 'padStart per call', risk: 'low', expectedEffect: 'faster' },
        ],
      }),
      // Patches, in the same order. Right: its oldText indented differently from the file's
      // (the tolerance ladder places it, uniquely).
      answer({
        explanation: 'Stop trial division at √k: a composite k has a divisor ≤ √k.',
        edits: [
          {
            path: 'src/primes.js',
            oldText: '  for (let d = 2; d < k; d++) {',
            newText: '  for (let d = 2; d * d <= k; d++) {',
          },
        ],
      }),
      // Wrong: skips the first element (a test fails).
      answer({
        explanation: 'Start at 1.',
        edits: [
          {
            path: 'src/total.js',
            oldText: 'for (let i = 0; i < xs.length; i++) {',
            newText: 'for (let i = 1; i < xs.length; i++) {',
          },
        ],
      }),
      // Slower: builds the padding from an array every call.
      answer({
        explanation: 'Build the padding explicitly.',
        edits: [
          {
            path: 'src/pad.js',
            oldText: "return text.padStart(width, ' ');",
            newText:
              "return Array.from({ length: Math.max(0, width - text.length) }, () => ' ').join('') + text;",
          },
        ],
      }),
    );
    const result = await runCli(
      ['optimize', FIXTURE, '--llm', '--verbose', '--samples', '6', '--max-candidates', '5'],
      {
        env: {
          ...env,
          PATCHBAY_LLM_PROVIDER: 'openai',
          PATCHBAY_LLM_MODEL: MODEL,
          PATCHBAY_OPENAI_API_KEY: 'sk-optimize-llm-test',
          PATCHBAY_OPENAI_BASE_URL: server.baseUrl,
        },
        timeoutMs: 280_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    // Every scripted answer was asked for, and nothing more.
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(7);
    // The key went to the provider, never into the output.
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-optimize-llm-test');
    expect(result.stdout + result.stderr).not.toContain('sk-optimize-llm-test');

    const [id] = readdirSync(join(dataDir, 'optimizer')).filter((d) => d.startsWith('opt_'));
    const artifacts = join(dataDir, 'optimizer', id!, 'artifacts');
    const read = (name: string) => JSON.parse(readFileSync(join(artifacts, name), 'utf8')) as Json;

    const opportunities = read('opportunities.json') as Json[];
    expect(opportunities.map((o) => [o.rule, o.file, o.source])).toEqual([
      ['llm-suggested', 'src/primes.js', 'llm'],
      ['llm-suggested', 'src/total.js', 'llm'],
      ['llm-suggested', 'src/pad.js', 'llm'],
    ]);

    const attempts = read('attempts.json') as Json[];
    const byFile = new Map(attempts.map((a) => [(a.opportunity as Json).file as string, a]));
    expect(byFile.get('src/primes.js')!.outcome, String(byFile.get('src/primes.js')!.reason)).toBe(
      'accepted',
    );
    expect(byFile.get('src/total.js')!.outcome).toBe('rejected');
    expect(String(byFile.get('src/total.js')!.reason)).toMatch(/test/i);
    expect(byFile.get('src/pad.js')!.outcome).toBe('rejected');
    expect(String(byFile.get('src/pad.js')!.reason)).not.toBe('');

    const proposals = read('proposals.json') as Json[];
    expect(proposals).toHaveLength(1);
    const [proposal] = proposals;
    expect(proposal).toMatchObject({ rule: 'llm-suggested', file: 'src/primes.js' });
    expect(proposal!.speedup as number).toBeGreaterThan(0.5);
    expect(String(proposal!.diff)).toContain('d * d <= k');
    const reasoning = proposal!.llmReasoning as Json[];
    expect(reasoning.map((r) => r.purpose)).toEqual([
      'optimizer.discover.analyse',
      'optimizer.patch',
    ]);
    expect(reasoning[1]).toMatchObject({
      provider: 'openai',
      model: MODEL,
      reasoning: 'Stop trial division at √k: a composite k has a divisor ≤ √k.',
      inputTokens: 2_000,
      outputTokens: 300,
      reasoningTokens: 120,
    });
    expect(reasoning[1]!.costUsd as number).toBeGreaterThan(0);
    // --verbose shows the reasoning under the proposal.
    expect(result.stdout).toContain('optimizer.patch · openai/gpt-4.1-mini');
    expect(result.stdout).toContain('Stop trial division at √k');
  }, 300_000);
});

/**
 * The same through the API: the stages are runs; the model's calls reach the ledger (the
 * stage process has no database: it prints each call, the server records it), so they count
 * in the repository's budget; the proposal carries the reasoning.
 */
describe('POST /v1/repos/:id/optimize {llm: true}', () => {
  const TOKEN = 'optimize-llm-token';
  const root = tempDir('patchbay-optllm-api-');
  const base = {
    PATCHBAY_API_TOKENS: TOKEN,
    PATCHBAY_WORKSPACE_ROOTS: root,
    PATCHBAY_CHILD_ENV_ALLOWLIST: 'PATH,HOME,LANG,BENCH_MS',
    BENCH_MS: '150',
  };
  const repoIn = (): string => {
    const dir = join(root, `lib-llm-${Date.now()}`);
    cpSync(FIXTURE, dir, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: GIT_ENV });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
    return dir;
  };

  it('is refused with LLM_NOT_CONFIGURED when the server has no provider', async () => {
    const server = await startServer({ token: TOKEN, env: base });
    try {
      const repo = await server.api.request('POST', '/v1/repos', { path: repoIn() });
      const res = await server.api.request('POST', `/v1/repos/${repo.body.id}/optimize`, {
        llm: true,
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('LLM_NOT_CONFIGURED');
    } finally {
      await server.stop();
    }
  });

  it('runs discovery and the patch in stage runs, records each call, proposes with reasoning', async () => {
    server.reset();
    server.enqueue(
      answer({ files: ['src/primes.js'] }),
      answer({
        opportunities: [
          { line: 6, endLine: 11, rationale: 'no divisor above √k is needed', risk: 'low' },
        ],
      }),
      answer({
        explanation: 'Stop trial division at √k.',
        edits: [
          {
            path: 'src/primes.js',
            oldText: 'for (let d = 2; d < k; d++) {',
            newText: 'for (let d = 2; d * d <= k; d++) {',
          },
        ],
      }),
    );
    const api = await startServer({
      token: TOKEN,
      env: {
        ...base,
        PATCHBAY_LLM_PROVIDER: 'openai',
        PATCHBAY_LLM_MODEL: MODEL,
        PATCHBAY_OPENAI_API_KEY: 'sk-optimize-llm-api',
        PATCHBAY_OPENAI_BASE_URL: server.baseUrl,
      },
    });
    try {
      const repo = await api.api.request('POST', '/v1/repos', { path: repoIn() });
      const repoId = repo.body.id as string;
      const started = await api.api.request('POST', `/v1/repos/${repoId}/optimize`, {
        llm: true,
        samples: 6,
        maxCandidates: 1,
      });
      expect(started.status, started.text).toBe(202);
      const id = started.body.id as string;
      const runs = await waitFor(
        async () => {
          const list: Json[] = (
            await api.api.request('GET', `/v1/repos/${repoId}/runs?parentId=${id}&limit=20`)
          ).body.runs;
          const failed = list.find((r) => ['failed', 'cancelled', 'timed_out'].includes(r.status));
          if (failed)
            throw new Error(`${failed.kind} ${failed.status}: ${JSON.stringify(failed.error)}`);
          return list.some((r) => r.kind === 'optimize.propose' && r.status === 'succeeded')
            ? list
            : null;
        },
        'the propose stage to succeed',
        280_000,
        500,
      );
      // Each model call is a usage event of the stage that made it.
      const usage = async (kind: string) => {
        const run = runs.find((r) => r.kind === kind)!;
        const events: Json[] = await api.api.events(run.id);
        return events.filter((e) => e.type === 'usage').map((e) => e.data);
      };
      expect((await usage('optimize.scan')).map((d) => d.purpose)).toEqual([
        'optimizer.discover.files',
        'optimizer.discover.analyse',
      ]);
      const patchCalls = await usage('optimize.patch');
      expect(patchCalls).toMatchObject([
        { purpose: 'optimizer.patch', provider: 'openai', model: MODEL, input: 2_000 },
      ]);
      // The ledger has them: the repository's budget counts their cost today.
      const cost = [...(await usage('optimize.scan')), ...patchCalls].reduce(
        (sum, d) => sum + (d.costUsd as number),
        0,
      );
      expect(cost).toBeGreaterThan(0);
      const set = await api.api.request('PUT', `/v1/budgets/repos/${repoId}`, {
        maxUsdPerDay: 100,
      });
      expect(set.status, set.text).toBe(200);
      const budgets = await api.api.request('GET', '/v1/budgets');
      const budget = (budgets.body.budgets as Json[]).find((x) => x.repoId === repoId)!;
      expect(budget.usage.usdToday).toBeCloseTo(cost, 4);

      const proposals = await api.api.request('GET', `/v1/proposals?optimizationId=${id}`);
      expect(proposals.body.proposals).toHaveLength(1);
      expect(proposals.body.proposals[0]).toMatchObject({
        rule: 'llm-suggested',
        file: 'src/primes.js',
        llmReasoning: [
          { purpose: 'optimizer.discover.analyse' },
          { purpose: 'optimizer.patch', reasoning: 'Stop trial division at √k.' },
        ],
      });
      // The key reached the provider only: not the stage's argv, env or events.
      const stages = JSON.stringify(runs);
      expect(stages).not.toContain('sk-optimize-llm-api');
      expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer sk-optimize-llm-api');
    } finally {
      await api.stop();
    }
  }, 300_000);
});
