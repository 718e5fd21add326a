/**
 * Every rewrite template against golden cases (input + opportunity → diff that `git apply`
 * accepts → expected file) and traps (the guard must refuse, with its reason). The cases live
 * in test/fixtures/patch-templates/, one file per template family (as in ./templates/).
 */
import type { CompilerOptions } from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import * as arrays from '../../../test/fixtures/patch-templates/arrays.js';
import * as hot from '../../../test/fixtures/patch-templates/hot.js';
import * as memoize from '../../../test/fixtures/patch-templates/memoize.js';
import * as misc from '../../../test/fixtures/patch-templates/misc.js';
import * as moduleLevel from '../../../test/fixtures/patch-templates/module.js';
import * as spread from '../../../test/fixtures/patch-templates/spread.js';
import * as strings from '../../../test/fixtures/patch-templates/strings.js';
import {
  opportunityAt,
  rejection,
  removeTempRepos,
  repoWith,
  rewrite,
} from '../../../test/helpers/patch-templates.js';
import { applyTemplate } from './apply.js';

afterAll(removeTempRepos);

const FAMILIES = [moduleLevel, memoize, spread, arrays, strings, misc, hot];
const GOLDEN = FAMILIES.flatMap((family) => family.golden);
const TRAPS = FAMILIES.flatMap((family) => family.traps);

describe('patch templates (golden: input + opportunity → diff that git applies → expected file)', () => {
  for (const g of GOLDEN) {
    it(`${g.rule}: ${g.name}`, async () => {
      const { candidate, after } = await rewrite(g.rule, g.source, g.snippet, g.file);
      expect(after).toBe(g.expected);
      expect(candidate.rule).toBe(g.rule);
      expect(candidate.files).toEqual([g.file ?? 'src/lib.ts']);
      expect(candidate.explanation.length).toBeGreaterThan(20);
      expect(candidate.changedLines).toBe(
        candidate.diff.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length,
      );
    });
  }

  it('covers every rule that has a template', async () => {
    const { TEMPLATES } = await import('./templates/index.js');
    expect(new Set(GOLDEN.map((g) => g.rule))).toEqual(new Set(Object.keys(TEMPLATES)));
  });

  it('writes exact diffs (prefer-set-has: two hunks far apart)', async () => {
    const source = [
      `const EXTS = ['.ts', '.js'];`,
      ...Array.from({ length: 10 }, (_, i) => `// filler ${i}`),
      `export const isSource = (ext: string) => EXTS.includes(ext);`,
      ``,
    ].join('\n');
    const { candidate } = await rewrite('prefer-set-has', source, 'EXTS.includes(ext)');
    expect(candidate.diff).toBe(
      [
        'diff --git a/src/lib.ts b/src/lib.ts',
        '--- a/src/lib.ts',
        '+++ b/src/lib.ts',
        '@@ -1,4 +1,4 @@',
        "-const EXTS = ['.ts', '.js'];",
        "+const EXTS = new Set(['.ts', '.js']);",
        ' // filler 0',
        ' // filler 1',
        ' // filler 2',
        '@@ -9,4 +9,4 @@',
        ' // filler 7',
        ' // filler 8',
        ' // filler 9',
        '-export const isSource = (ext: string) => EXTS.includes(ext);',
        '+export const isSource = (ext: string) => EXTS.has(ext);',
        '',
      ].join('\n'),
    );
    expect(candidate.changedLines).toBe(4);
  });

  it('writes exact diffs (prefer-date-now, no newline at end of file)', async () => {
    const { candidate, after } = await rewrite(
      'prefer-date-now',
      'export const t = () => new Date().getTime();',
      'new Date().getTime()',
    );
    expect(after).toBe('export const t = () => Date.now();');
    expect(candidate.diff).toBe(
      [
        'diff --git a/src/lib.ts b/src/lib.ts',
        '--- a/src/lib.ts',
        '+++ b/src/lib.ts',
        '@@ -1 +1 @@',
        '-export const t = () => new Date().getTime();',
        '\\ No newline at end of file',
        '+export const t = () => Date.now();',
        '\\ No newline at end of file',
        '',
      ].join('\n'),
    );
  });

  it('writes exact diffs (hoist-json-parse: an insertion and a replacement)', async () => {
    const source = `export function cfg() {\n  return JSON.parse('[1, 2]').length;\n}\n`;
    const { candidate } = await rewrite('hoist-json-parse', source, "JSON.parse('[1, 2]')");
    expect(candidate.diff).toBe(
      [
        'diff --git a/src/lib.ts b/src/lib.ts',
        '--- a/src/lib.ts',
        '+++ b/src/lib.ts',
        '@@ -1,3 +1,5 @@',
        "+const PARSED_JSON = JSON.parse('[1, 2]');",
        '+',
        ' export function cfg() {',
        "-  return JSON.parse('[1, 2]').length;",
        '+  return PARSED_JSON.length;',
        ' }',
        '',
      ].join('\n'),
    );
  });
});

describe('patch templates refuse traps (GUARD_FAILED with the reason)', () => {
  for (const t of TRAPS) {
    it(`${t.rule}: ${t.name}`, async () => {
      const rejected = await rejection(t.rule, t.source, t.snippet);
      expect(rejected.code).toBe('GUARD_FAILED');
      expect(rejected.message).toMatch(t.reason);
    });
  }

  it('refuses a rule without a template and a position the file no longer has', async () => {
    const source = 'export const a = 1;\n';
    expect((await rejection('no-delete-operator', source, 'a')).message).toMatch(
      /no rewrite template/,
    );
    const root = repoWith('src/lib.ts', source);
    const stale = {
      ...opportunityAt('prefer-date-now', 'src/lib.ts', source, 'a'),
      line: 40,
      endLine: 40,
    };
    const outcome = await applyTemplate(root, stale);
    expect(outcome).toEqual({
      rejected: { code: 'GUARD_FAILED', message: expect.stringMatching(/no line 40/) as string },
    });
  });

  it('refuses a file outside the repository and a test file', async () => {
    const root = repoWith('src/lib.ts', 'export const t = () => new Date().getTime();\n');
    const escape = await applyTemplate(root, {
      ...opportunityAt('prefer-date-now', 'src/lib.ts', 'x', 'x'),
      file: '../etc/lib.ts',
    });
    expect(escape).toMatchObject({ rejected: { code: 'PATCH_FORBIDDEN_FILE' } });
    const source = 'export const t = () => new Date().getTime();\n';
    const testRoot = repoWith('src/lib.test.ts', source);
    const outcome = await applyTemplate(
      testRoot,
      opportunityAt('prefer-date-now', 'src/lib.test.ts', source, 'new Date().getTime()'),
    );
    expect(outcome).toMatchObject({ rejected: { code: 'PATCH_FORBIDDEN_FILE' } });
  });
});

describe('rewritten code stays valid and behaves the same', () => {
  it('every TypeScript golden output typechecks under strict (unresolved imports aside)', async () => {
    const { loadTypeScript } = await import('../typescript.js');
    const ts = await loadTypeScript();
    const outputs = new Map<string, string>(
      GOLDEN.filter((g) => !g.file).map((g, i) => [`/golden/case${i}.ts`, g.expected]),
    );
    const options: CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      skipLibCheck: true,
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (f) => outputs.get(f) ?? readFile(f);
    host.fileExists = (f) => outputs.has(f) || fileExists(f);
    host.getSourceFile = (f, lang) => {
      const text = outputs.get(f) ?? readFile(f);
      return text === undefined ? undefined : ts.createSourceFile(f, text, lang);
    };
    const program = ts.createProgram([...outputs.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      // Fixture imports (./log.js, node:assert) do not exist here.
      .filter((d) => d.code !== 2307)
      .map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  });

  /** Runs `source` (TypeScript, no imports) as a module and returns its exports. */
  async function load(source: string): Promise<Record<string, (...args: never[]) => unknown>> {
    const { loadTypeScript } = await import('../typescript.js');
    const ts = await loadTypeScript();
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const module = { exports: {} as Record<string, (...args: never[]) => unknown> };
    new Function('module', 'exports', js)(module, module.exports);
    return module.exports;
  }

  const BEHAVIOUR: Array<{ name: string; fn: string; args: unknown[][] }> = [
    {
      name: 'const array only used with includes becomes a Set',
      fn: 'isKind',
      args: [['a'], ['z'], ['']],
    },
    {
      name: 'a pure function of primitives gets a bounded cache',
      fn: 'fib',
      args: [[0], [1], [20], [20]],
    },
    {
      name: 'array spread in reduce pushes instead',
      fn: 'ids',
      args: [[[{ id: 'a' }, { id: 'b' }]], [[]]],
    },
    {
      name: 'object spread in reduce assigns instead',
      fn: 'index',
      args: [[[{ id: 'a' }, { id: 'b' }]]],
    },
    { name: 'x = [...x, v] in a loop becomes push', fn: 'evens', args: [[0], [7]] },
    { name: 'map + flat becomes flatMap', fn: 'pairs', args: [[[1, 2, 3]]] },
    { name: 'filter().length > 0 becomes some()', fn: 'anyBig', args: [[[1, 20]], [[1, 2]]] },
    { name: 'filter().length === 0 becomes !some()', fn: 'none', args: [[[1, -1]], [[1, 2]]] },
    {
      name: 'filter()[0] becomes find()',
      fn: 'firstAdmin',
      args: [[[{ admin: false }, { admin: true }]], [[]]],
    },
    { name: '[...set].length becomes set.size', fn: 'count', args: [[new Set(['a', 'b'])]] },
    { name: 'match in a condition becomes test', fn: 'isHex', args: [['BEEF'], ['xyz']] },
    {
      name: 'anchored literal regex becomes startsWith',
      fn: 'isApi',
      args: [['api-x'], ['x-api-']],
    },
    { name: 'end-anchored literal regex becomes endsWith', fn: 'isTs', args: [['a.ts'], ['a.js']] },
    {
      name: 'indexOf === 0 on a string becomes startsWith',
      fn: 'isHidden',
      args: [['.git'], ['a.b']],
    },
    { name: 'no-useless-spread', fn: 'unique', args: [[['a', 'a', 'b']]] },
    {
      name: 'literal list includes becomes comparisons',
      fn: 'isOpen',
      args: [['open'], ['closed']],
    },
    {
      name: 'filter + map with pure callbacks fuse into one loop',
      fn: 'names',
      args: [
        [
          [
            { name: 'a', active: true },
            { name: 'b', active: false },
          ],
        ],
      ],
    },
    {
      name: 'different parameter names are unified',
      fn: 'ids',
      args: [[[{ id: 1 }, { id: -1 }, { id: 3 }]]],
    },
  ];

  for (const b of BEHAVIOUR) {
    it(`same results before and after: ${b.name}`, async () => {
      const golden = GOLDEN.find((g) => g.name === b.name || g.rule === b.name);
      if (!golden) throw new Error(`no golden case ${b.name}`);
      const before = await load(golden.source);
      const after = await load(golden.expected);
      for (const args of b.args) {
        expect(after[b.fn]!(...(args as never[]))).toEqual(before[b.fn]!(...(args as never[])));
      }
    });
  }
});
