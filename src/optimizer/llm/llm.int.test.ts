import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import type { Opportunity } from '../../contracts/index.js';
import { createLlmClient } from '../../llm/index.js';
import { chatStream } from '../../../test/fixtures/llm-servers/openai.js';
import {
  startScriptedServer,
  type ScriptedServer,
} from '../../../test/fixtures/llm-servers/server.js';
import { createTrace } from '../trace.js';
import { mergeFindings, patchOrRefusal } from './index.js';

const MODEL = 'gpt-4.1-mini';
const answer = (text: string) =>
  chatStream({ model: MODEL, text, usage: { prompt: 100, completion: 20 } });

let server: ScriptedServer;
let root: string;
beforeAll(async () => {
  server = await startScriptedServer('/v1');
  root = mkdtempSync(join(tmpdir(), 'pb-optllm-'));
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'test'));
  writeFileSync(
    join(root, 'src', 'a.js'),
    'export function a(xs) {\n  let n = 0;\n  for (const x of xs) n += x;\n  return n;\n}\n\nexport function b(xs) {\n  let n = 0;\n  for (const x of xs) n += x;\n  return n;\n}\n',
  );
  writeFileSync(join(root, 'test', 'a.test.js'), 'test\n');
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => server.reset());

function opportunity(over: Partial<Opportunity> = {}): Opportunity {
  return {
    rule: 'llm-suggested',
    file: 'src/a.js',
    line: 3,
    column: 1,
    endLine: 3,
    endColumn: 1,
    rationale: 'sum loop',
    risk: 'low',
    expectedEffect: '',
    template: null,
    score: 25,
    hot: true,
    source: 'llm',
    ...over,
  };
}

function patch() {
  const config = loadConfig({
    env: {
      PATCHBAY_DATA_DIR: root,
      PATCHBAY_LLM_PROVIDER: 'openai',
      PATCHBAY_LLM_MODEL: MODEL,
      PATCHBAY_OPENAI_API_KEY: 'sk-test',
      PATCHBAY_OPENAI_BASE_URL: server.baseUrl,
    },
    cwd: root,
  });
  return patchOrRefusal({
    root,
    framework: 'library',
    opportunity: opportunity(),
    llm: { client: createLlmClient({ config }) },
    trace: createTrace(),
  });
}

describe("the model's patches", () => {
  it('sends an ambiguous edit back to the model once, then takes the unique one', async () => {
    const edit = (oldText: string) =>
      JSON.stringify({
        explanation: 'reduce',
        edits: [{ path: 'src/a.js', oldText, newText: '  n = xs.reduce((s, x) => s + x, n);' }],
      });
    server.enqueue(
      answer(edit('  for (const x of xs) n += x;')),
      answer(
        JSON.stringify({
          explanation: 'reduce',
          edits: [
            {
              path: 'src/a.js',
              oldText: 'export function a(xs) {\n  let n = 0;\n  for (const x of xs) n += x;',
              newText:
                'export function a(xs) {\n  let n = 0;\n  n = xs.reduce((s, x) => s + x, n);',
            },
          ],
        }),
      ),
    );
    const outcome = await patch();
    expect('candidate' in outcome, JSON.stringify(outcome)).toBe(true);
    const second = server.requests[1]!.body as { messages: { role: string; content: string }[] };
    expect(second.messages.at(-1)!.content).toContain('EDIT_AMBIGUOUS');
    if ('candidate' in outcome) {
      expect(outcome.candidate.files).toEqual(['src/a.js']);
      expect(outcome.candidate.llmReasoning!.map((r) => r.purpose)).toEqual([
        'optimizer.patch',
        'optimizer.patch',
      ]);
    }
  });

  it('refuses a patch to a test, and an answer that is not the JSON asked for', async () => {
    server.enqueue(
      answer(
        JSON.stringify({
          explanation: 'x',
          edits: [{ path: 'test/a.test.js', oldText: 'test', newText: 'pass' }],
        }),
      ),
    );
    expect(await patch()).toEqual({
      rejected: { code: 'PATCH_FORBIDDEN_FILE', message: 'test/a.test.js is a test' },
    });
    server.enqueue(answer('Sure! I would use reduce here.'));
    const bad = await patch();
    expect(bad).toMatchObject({ rejected: { code: 'GUARD_FAILED' } });
    expect('rejected' in bad && bad.rejected.message).toContain('LLM_BAD_RESPONSE');
  });
});

describe('mergeFindings', () => {
  it("drops the model's findings a template already covers, and its own duplicates", () => {
    const template = opportunity({
      rule: 'prefer-set-has',
      template: 'prefer-set-has',
      line: 2,
      endLine: 4,
      score: 60,
      source: 'scanner',
    });
    const flagOnly = opportunity({
      rule: 'no-delete-operator',
      template: null,
      line: 9,
      endLine: 9,
    });
    const merged = mergeFindings(
      [template, flagOnly],
      [
        opportunity({ line: 3, endLine: 3 }),
        opportunity({ line: 8, endLine: 10 }),
        opportunity({ line: 9, endLine: 9 }),
      ],
    );
    expect(merged.map((o) => [o.rule, o.line])).toEqual([
      ['prefer-set-has', 2],
      ['no-delete-operator', 9],
      ['llm-suggested', 8],
    ]);
  });
});
