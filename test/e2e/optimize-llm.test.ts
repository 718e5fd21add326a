import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatStream } from '../fixtures/llm-servers/openai.js';
import { startScriptedServer, type ScriptedServer } from '../fixtures/llm-servers/server.js';
import { cleanupAll, runCli, tempDir, type Json } from './helpers.js';

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
      ['optimize', FIXTURE, '--llm', '--verbose', '--samples', '8', '--max-candidates', '5'],
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
