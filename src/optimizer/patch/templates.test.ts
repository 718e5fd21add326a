import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CompilerOptions } from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import type { Opportunity, RuleId } from '../../contracts/index.js';
import { applyTemplate } from './apply.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const gitEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() };
const git = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' }).toString();

/** A temp git repository holding `file` with `source`, committed. */
function repoWith(file: string, source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-patch-'));
  dirs.push(root);
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), source);
  git(['init', '-q'], root);
  git(['add', '.'], root);
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'base'], root);
  return root;
}

/** The opportunity a scanner would report for the first occurrence of `snippet`. */
function opportunityAt(rule: RuleId, file: string, source: string, snippet: string): Opportunity {
  const index = source.indexOf(snippet);
  if (index < 0) throw new Error(`snippet not in source: ${snippet}`);
  const pos = (offset: number) => {
    const lines = source.slice(0, offset).split('\n');
    return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
  };
  const start = pos(index);
  const end = pos(index + snippet.length);
  return {
    rule,
    file,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    rationale: 'test',
    risk: 'low',
    expectedEffect: 'faster',
    template: rule,
    score: 1,
    hot: true,
  };
}

/** Produces the candidate, applies its diff with real `git apply`, returns the new text. */
async function rewrite(rule: RuleId, source: string, snippet: string, file = 'src/lib.ts') {
  const root = repoWith(file, source);
  const outcome = await applyTemplate(root, opportunityAt(rule, file, source, snippet));
  if (!('candidate' in outcome)) {
    throw new Error(`expected a candidate, got ${JSON.stringify(outcome.rejected)}`);
  }
  const { candidate } = outcome;
  writeFileSync(join(root, 'candidate.diff'), candidate.diff);
  git(['apply', '--check', 'candidate.diff'], root);
  git(['apply', 'candidate.diff'], root);
  return { candidate, after: readFileSync(join(root, file), 'utf8') };
}

async function rejection(rule: RuleId, source: string, snippet: string, file = 'src/lib.ts') {
  const root = repoWith(file, source);
  const outcome = await applyTemplate(root, opportunityAt(rule, file, source, snippet));
  if ('candidate' in outcome)
    throw new Error(`expected a rejection, got:\n${outcome.candidate.diff}`);
  return outcome.rejected;
}

interface Golden {
  rule: RuleId;
  name: string;
  source: string;
  snippet: string;
  expected: string;
  file?: string;
}

const GOLDEN: Golden[] = [
  {
    rule: 'prefer-set-has',
    name: 'const array only used with includes becomes a Set',
    source: [
      `// Kinds we accept.`,
      `const KINDS = ['a', 'b', 'c'];`,
      ``,
      `export function isKind(x: string): boolean {`,
      `  return KINDS.includes(x); // hot`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'KINDS.includes(x)',
    expected: [
      `// Kinds we accept.`,
      `const KINDS = new Set(['a', 'b', 'c']);`,
      ``,
      `export function isKind(x: string): boolean {`,
      `  return KINDS.has(x); // hot`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'hoist-json-parse',
    name: 'JSON.parse of a module constant goes below that constant (not into its dead zone)',
    source: [
      `const RAW = '{"max": 10}';`,
      ``,
      `export function limit(n: number): number {`,
      `  const settings = JSON.parse(RAW);`,
      `  return Math.min(n, settings.max);`,
      `}`,
      ``,
    ].join('\n'),
    snippet: `JSON.parse(RAW)`,
    expected: [
      `const RAW = '{"max": 10}';`,
      `const SETTINGS = JSON.parse(RAW);`,
      ``,
      `export function limit(n: number): number {`,
      `  const settings = SETTINGS;`,
      `  return Math.min(n, settings.max);`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'hoist-json-parse',
    name: 'JSON.parse of a literal moves to module level',
    source: [
      `import { log } from './log.js';`,
      ``,
      `export function limit(n: number): number {`,
      `  const defaults = JSON.parse('{"max": 10}');`,
      `  log(n);`,
      `  return Math.min(n, defaults.max);`,
      `}`,
      ``,
    ].join('\n'),
    snippet: `JSON.parse('{"max": 10}')`,
    expected: [
      `import { log } from './log.js';`,
      `const DEFAULTS = JSON.parse('{"max": 10}');`,
      ``,
      `export function limit(n: number): number {`,
      `  const defaults = DEFAULTS;`,
      `  log(n);`,
      `  return Math.min(n, defaults.max);`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'memoize-pure-function',
    name: 'a pure function of primitives gets a bounded cache',
    source: [
      `export function fib(n: number): number {`,
      `  return n < 2 ? n : fib(n - 1) + fib(n - 2);`,
      `}`,
      ``,
    ].join('\n'),
    snippet:
      'export function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}',
    expected: [
      `function fibUncached(n: number): number {`,
      `  return n < 2 ? n : fib(n - 1) + fib(n - 2);`,
      `}`,
      ``,
      `/** Bounded cache for \`fib\`: pure, and called with primitive arguments. */`,
      `const fibCache = new Map();`,
      `export function fib(n: number): number {`,
      `  const key = n;`,
      `  if (fibCache.has(key)) return fibCache.get(key);`,
      `  const value = fibUncached(n);`,
      `  if (fibCache.size >= 1000) fibCache.delete(fibCache.keys().next().value);`,
      `  fibCache.set(key, value);`,
      `  return value;`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'memoize-pure-function',
    name: 'several parameters make one unambiguous key (JS with JSDoc types)',
    file: 'lib/score.js',
    source: [
      `const WEIGHT = 3;`,
      ``,
      `/**`,
      ` * @param {string} word`,
      ` * @param {number} bonus`,
      ` */`,
      `function score(word, bonus) {`,
      `  let total = 0;`,
      `  for (let i = 0; i < word.length; i++) total += word.charCodeAt(i) * WEIGHT;`,
      `  return total + bonus;`,
      `}`,
      ``,
      `module.exports = { score };`,
      ``,
    ].join('\n'),
    snippet: 'function score',
    expected: [
      `const WEIGHT = 3;`,
      ``,
      `/**`,
      ` * @param {string} word`,
      ` * @param {number} bonus`,
      ` */`,
      `function scoreUncached(word, bonus) {`,
      `  let total = 0;`,
      `  for (let i = 0; i < word.length; i++) total += word.charCodeAt(i) * WEIGHT;`,
      `  return total + bonus;`,
      `}`,
      ``,
      `/** Bounded cache for \`score\`: pure, and called with primitive arguments. */`,
      `const scoreCache = new Map();`,
      `function score(word, bonus) {`,
      `  const key = JSON.stringify(word) + ',' + String(bonus);`,
      `  if (scoreCache.has(key)) return scoreCache.get(key);`,
      `  const value = scoreUncached(word, bonus);`,
      `  if (scoreCache.size >= 1000) scoreCache.delete(scoreCache.keys().next().value);`,
      `  scoreCache.set(key, value);`,
      `  return value;`,
      `}`,
      ``,
      `module.exports = { score };`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'memoize-pure-function',
    name: 'an untyped const arrow function bypasses the cache for objects at run time',
    file: 'lib/square.js',
    source: `const square = (x) => x * x;\n\nmodule.exports = { square };\n`,
    snippet: 'const square = (x) => x * x;',
    expected: [
      `const squareUncached = (x) => x * x;`,
      ``,
      `/** Bounded cache for \`square\`: pure, and called with primitive arguments. */`,
      `const squareCache = new Map();`,
      `function square(x) {`,
      `  if (typeof x === 'object' || typeof x === 'function' || typeof x === 'symbol') return squareUncached(x);`,
      `  const key = typeof x + ':' + (typeof x === 'string' ? JSON.stringify(x) : String(x));`,
      `  if (squareCache.has(key)) return squareCache.get(key);`,
      `  const value = squareUncached(x);`,
      `  if (squareCache.size >= 1000) squareCache.delete(squareCache.keys().next().value);`,
      `  squareCache.set(key, value);`,
      `  return value;`,
      `}`,
      ``,
      `module.exports = { square };`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'no-accumulating-spread',
    name: 'array spread in reduce pushes instead',
    source: `export const ids = (xs: { id: string }[]) => xs.reduce((acc, x) => [...acc, x.id], [] as string[]);\n`,
    snippet: 'xs.reduce((acc, x) => [...acc, x.id], [] as string[])',
    expected: `export const ids = (xs: { id: string }[]) => xs.reduce((acc, x) => (acc.push(x.id), acc), [] as string[]);\n`,
  },
  {
    rule: 'no-accumulating-spread',
    name: 'object spread in reduce assigns instead',
    source: [
      `export function index(xs: { id: string }[]) {`,
      `  return xs.reduce((acc: Record<string, { id: string }>, x) => {`,
      `    return { ...acc, [x.id]: x };`,
      `  }, {});`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'xs.reduce',
    expected: [
      `export function index(xs: { id: string }[]) {`,
      `  return xs.reduce((acc: Record<string, { id: string }>, x) => {`,
      `    return Object.assign(acc, { [x.id]: x });`,
      `  }, {});`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'spread-push-in-loop',
    name: 'x = [...x, v] in a loop becomes push',
    source: [
      `export function evens(n: number): number[] {`,
      `  let out: number[] = [];`,
      `  for (let i = 0; i < n; i++) {`,
      `    if (i % 2 === 0) out = [...out, i];`,
      `  }`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'out = [...out, i]',
    expected: [
      `export function evens(n: number): number[] {`,
      `  let out: number[] = [];`,
      `  for (let i = 0; i < n; i++) {`,
      `    if (i % 2 === 0) out.push(i);`,
      `  }`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'prefer-flat-map',
    name: 'map + flat becomes flatMap',
    source: `export const pairs = (xs: number[]) => xs.map((x) => [x, -x]).flat();\n`,
    snippet: 'xs.map((x) => [x, -x]).flat()',
    expected: `export const pairs = (xs: number[]) => xs.flatMap((x) => [x, -x]);\n`,
  },
  {
    rule: 'prefer-array-some',
    name: 'filter().length > 0 becomes some()',
    source: `export const anyBig = (xs: number[]) => xs.filter((x) => x > 10).length > 0;\n`,
    snippet: 'xs.filter((x) => x > 10).length > 0',
    expected: `export const anyBig = (xs: number[]) => xs.some((x) => x > 10);\n`,
  },
  {
    rule: 'prefer-array-some',
    name: 'filter().length === 0 becomes !some()',
    source: `export function none(xs: number[]) {\n  if (xs.filter((x) => x < 0).length === 0) return true;\n  return false;\n}\n`,
    snippet: 'xs.filter((x) => x < 0).length',
    expected: `export function none(xs: number[]) {\n  if (!xs.some((x) => x < 0)) return true;\n  return false;\n}\n`,
  },
  {
    rule: 'prefer-array-find',
    name: 'filter()[0] becomes find()',
    source: `export const firstAdmin = (us: { admin: boolean }[]) => us.filter((u) => u.admin)[0];\n`,
    snippet: 'us.filter((u) => u.admin)[0]',
    expected: `export const firstAdmin = (us: { admin: boolean }[]) => us.find((u) => u.admin);\n`,
  },
  {
    rule: 'prefer-set-size',
    name: '[...set].length becomes set.size',
    source: `export function count(seen: Set<string>): number {\n  return [...seen].length;\n}\n`,
    snippet: '[...seen].length',
    expected: `export function count(seen: Set<string>): number {\n  return seen.size;\n}\n`,
  },
  {
    rule: 'prefer-regexp-test',
    name: 'match in a condition becomes test',
    source: `export function isHex(s: string) {\n  if (s.match(/^[0-9a-f]+$/i)) return true;\n  return false;\n}\n`,
    snippet: 's.match(/^[0-9a-f]+$/i)',
    expected: `export function isHex(s: string) {\n  if (/^[0-9a-f]+$/i.test(s)) return true;\n  return false;\n}\n`,
  },
  {
    rule: 'prefer-string-starts-ends-with',
    name: 'anchored literal regex becomes startsWith',
    source: `export const isApi = (path: string) => /^api-/.test(path);\n`,
    snippet: '/^api-/.test(path)',
    expected: `export const isApi = (path: string) => path.startsWith('api-');\n`,
  },
  {
    rule: 'prefer-string-starts-ends-with',
    name: 'end-anchored literal regex becomes endsWith',
    source: `export const isTs = (name: string) => /ts$/.test(name);\n`,
    snippet: '/ts$/.test(name)',
    expected: `export const isTs = (name: string) => name.endsWith('ts');\n`,
  },
  {
    rule: 'no-indexof-equality',
    name: 'indexOf === 0 on a string becomes startsWith',
    source: `export const isHidden = (name: string) => name.indexOf('.') === 0;\n`,
    snippet: "name.indexOf('.') === 0",
    expected: `export const isHidden = (name: string) => name.startsWith('.');\n`,
  },
  {
    rule: 'prefer-static-regex',
    name: 'regex literal in a function moves to module level',
    source: [
      `import { strict } from 'node:assert';`,
      ``,
      `export function words(text: string): string[] {`,
      `  strict.ok(text);`,
      `  return text.split(/\\s+/);`,
      `}`,
      ``,
    ].join('\n'),
    snippet: '/\\s+/',
    expected: [
      `import { strict } from 'node:assert';`,
      `const WORDS_RE = /\\s+/;`,
      ``,
      `export function words(text: string): string[] {`,
      `  strict.ok(text);`,
      `  return text.split(WORDS_RE);`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'prefer-date-now',
    name: 'new Date().getTime() becomes Date.now()',
    source: `export function stamp() {\n  return { at: new Date().getTime() };\n}\n`,
    snippet: 'new Date().getTime()',
    expected: `export function stamp() {\n  return { at: Date.now() };\n}\n`,
  },
  {
    rule: 'prefer-date-now',
    name: '+new Date() becomes Date.now()',
    source: `export const now = () => +new Date();\n`,
    snippet: '+new Date()',
    expected: `export const now = () => Date.now();\n`,
  },
  {
    rule: 'no-useless-spread',
    name: 'new Set([...xs]) drops the copy',
    source: `export const unique = (xs: string[]) => new Set([...xs]);\n`,
    snippet: '[...xs]',
    expected: `export const unique = (xs: string[]) => new Set(xs);\n`,
  },
  {
    rule: 'prefer-inline-equality',
    name: 'literal list includes becomes comparisons',
    source: `export function isOpen(state: string) {\n  return !['open', 'draft'].includes(state);\n}\n`,
    snippet: "['open', 'draft'].includes(state)",
    expected: `export function isOpen(state: string) {\n  return !(state === 'open' || state === 'draft');\n}\n`,
  },
  {
    rule: 'prefer-timer-args',
    name: 'forwarding closure becomes timer arguments',
    source: [
      `function ping(host: string) {`,
      `  return host;`,
      `}`,
      `const HOST = 'example.org';`,
      `export function later() {`,
      `  setTimeout(() => ping(HOST), 100);`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'setTimeout(() => ping(HOST), 100)',
    expected: [
      `function ping(host: string) {`,
      `  return host;`,
      `}`,
      `const HOST = 'example.org';`,
      `export function later() {`,
      `  setTimeout(ping, 100, HOST);`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'remove-dead-code',
    name: 'an unreferenced private function is deleted with its comment',
    source: [
      `export function used() {`,
      `  return 1;`,
      `}`,
      ``,
      `/** Nobody calls this any more. */`,
      `function unused(n: number) {`,
      `  return n > 0 ? unused(n - 1) : 0;`,
      `}`,
      ``,
      `export const VERSION = 2;`,
      ``,
    ].join('\n'),
    snippet: 'function unused',
    expected: [
      `export function used() {`,
      `  return 1;`,
      `}`,
      ``,
      `export const VERSION = 2;`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'remove-dead-code',
    name: 'an unreferenced private constant is deleted',
    source: `const OLD_LIMIT = 5;\nexport const LIMIT = 10;\n`,
    snippet: 'OLD_LIMIT',
    expected: `export const LIMIT = 10;\n`,
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'filter + map with pure callbacks fuse into one loop',
    source: [
      `export function names(users: { name: string; active: boolean }[]): string[] {`,
      `  const result = users.filter((u) => u.active).map((u) => u.name.toUpperCase());`,
      `  return result;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'users.filter((u) => u.active).map((u) => u.name.toUpperCase())',
    expected: [
      `export function names(users: { name: string; active: boolean }[]): string[] {`,
      `  const result = [];`,
      `  for (const u of users) {`,
      `    if (!u.active) continue;`,
      `    result.push(u.name.toUpperCase());`,
      `  }`,
      `  return result;`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'different parameter names are unified',
    source: [
      `export function ids(xs: { id: number }[]) {`,
      `  const out: number[] = xs.filter((x) => x.id > 0).map((y) => y.id * 2);`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter',
    expected: [
      `export function ids(xs: { id: number }[]) {`,
      `  const out: number[] = [];`,
      `  for (const x of xs) {`,
      `    if (!(x.id > 0)) continue;`,
      `    out.push(x.id * 2);`,
      `  }`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'an arrow body becomes a block with one loop (map then filter)',
    source: `export const big = (xs: number[]) => xs.map((x) => x * 2).filter((y) => y > 4);\n`,
    snippet: 'xs.map((x) => x * 2).filter((y) => y > 4)',
    expected: [
      `export const big = (xs: number[]) => {`,
      `  const result = [];`,
      `  for (const x of xs) {`,
      `    const y = x * 2;`,
      `    if (!(y > 4)) continue;`,
      `    result.push(y);`,
      `  }`,
      `  return result;`,
      `};`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'a returned three-step chain reported at its first pair, same parameter names',
    source: [
      `export function scaled(xs: number[]) {`,
      `  return xs.filter((x) => x > 0).map((x) => ({ x })).filter((x) => x.x < 100);`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter((x) => x > 0).map((x) => ({ x }))',
    expected: [
      `export function scaled(xs: number[]) {`,
      `  const result = [];`,
      `  for (const x of xs) {`,
      `    if (!(x > 0)) continue;`,
      `    const x2 = ({ x });`,
      `    if (!(x2.x < 100)) continue;`,
      `    result.push(x2);`,
      `  }`,
      `  return result;`,
      `}`,
      ``,
    ].join('\n'),
  },
  {
    rule: 'prefer-static-regex',
    name: 'new RegExp with literal arguments moves to module level',
    source: `export function isWord(s: string) {\n  const word = new RegExp('^\\\\w+$', 'i');\n  return word.test(s);\n}\n`,
    snippet: "new RegExp('^\\\\w+$', 'i')",
    expected: `const WORD_RE = new RegExp('^\\\\w+$', 'i');\n\nexport function isWord(s: string) {\n  const word = WORD_RE;\n  return word.test(s);\n}\n`,
  },
  {
    rule: 'remove-dead-code',
    name: 'an unreferenced private class is deleted',
    source: `export const A = 1;\n\nclass Legacy {\n  static VERSION = 1;\n  run() {\n    return 2;\n  }\n}\n`,
    snippet: 'class Legacy',
    expected: `export const A = 1;\n`,
  },
];

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

interface Trap {
  rule: RuleId;
  name: string;
  source: string;
  snippet: string;
  reason: RegExp;
}

const TRAPS: Trap[] = [
  {
    rule: 'prefer-set-has',
    name: 'a "constant" array that is mutated',
    source: `const ALLOWED = ['a'];\nexport function allow(x: string) {\n  ALLOWED.push(x);\n}\nexport const ok = (x: string) => ALLOWED.includes(x);\n`,
    snippet: 'ALLOWED.includes(x)',
    reason: /ALLOWED is used other than as `.includes\(x\)` \(line 3/,
  },
  {
    rule: 'prefer-set-has',
    name: 'an exported array',
    source: `export const TAGS = ['a'];\nexport const has = (x: string) => TAGS.includes(x);\n`,
    snippet: 'TAGS.includes(x)',
    reason: /TAGS is exported/,
  },
  {
    rule: 'prefer-set-has',
    name: 'a let array',
    source: `let TAGS = ['a'];\nexport const has = (x: string) => TAGS.includes(x);\n`,
    snippet: 'TAGS.includes(x)',
    reason: /not const/,
  },
  {
    rule: 'hoist-json-parse',
    name: 'a parsed result that is mutated',
    source: `export function fresh() {\n  const list = JSON.parse('[]');\n  list.push(1);\n  return list.length;\n}\n`,
    snippet: "JSON.parse('[]')",
    reason: /not read-only: it is mutated by \.push\(\)/,
  },
  {
    rule: 'hoist-json-parse',
    name: 'a parsed result handed to the caller',
    source: `export function fresh() {\n  return JSON.parse('{}');\n}\n`,
    snippet: "JSON.parse('{}')",
    reason: /escapes/,
  },
  {
    rule: 'hoist-json-parse',
    name: 'a parsed text that is not constant',
    source: `export function read(s: string) {\n  return JSON.parse(s).a;\n}\n`,
    snippet: 'JSON.parse(s)',
    reason: /not a constant string/,
  },
  {
    rule: 'memoize-pure-function',
    name: 'a function reading mutable state',
    source: `let rate = 2;\nexport function cost(n: number): number {\n  return n * rate;\n}\nexport function setRate(r: number) {\n  rate = r;\n}\n`,
    snippet: 'cost',
    reason: /reads `rate`/,
  },
  {
    rule: 'memoize-pure-function',
    name: 'a function with an object parameter',
    source: `export function area(r: { w: number; h: number }): number {\n  return r.w * r.h;\n}\n`,
    snippet: 'area',
    reason: /declared as \{ w: number; h: number \}, not a primitive/,
  },
  {
    rule: 'memoize-pure-function',
    name: 'a function with a side effect',
    source: `export function logged(n: number): number {\n  console.log(n);\n  return n;\n}\n`,
    snippet: 'logged',
    reason: /calls console\.log/,
  },
  {
    rule: 'memoize-pure-function',
    name: 'a function returning a fresh object',
    source: `export function pair(n: number) {\n  return [n, n];\n}\n`,
    snippet: 'pair',
    reason: /may return an object/,
  },
  {
    rule: 'memoize-pure-function',
    name: 'a function called while the module initialises',
    source: `export const TABLE = [sq(1), sq(2)];\nfunction sq(n: number): number {\n  return n * n;\n}\n`,
    snippet: 'function sq',
    reason: /called during module initialisation/,
  },
  {
    rule: 'no-accumulating-spread',
    name: 'a shared initial accumulator',
    source: `const START: number[] = [];\nexport const all = (xs: number[]) => xs.reduce((acc, x) => [...acc, x], START);\n`,
    snippet: 'xs.reduce',
    reason: /not a fresh empty literal/,
  },
  {
    rule: 'spread-push-in-loop',
    name: 'an aliased array',
    source: `export function snapshots(n: number) {\n  let cur: number[] = [];\n  const seen: number[][] = [];\n  for (let i = 0; i < n; i++) {\n    cur = [...cur, i];\n    seen.push(cur);\n  }\n  return seen;\n}\n`,
    snippet: 'cur = [...cur, i]',
    reason: /may be aliased/,
  },
  {
    rule: 'spread-push-in-loop',
    name: 'a parameter array (could be frozen or shared)',
    source: `export function grow(xs: number[]) {\n  for (let i = 0; i < 3; i++) xs = [...xs, i];\n  return xs;\n}\n`,
    snippet: 'xs = [...xs, i]',
    reason: /does not start as a fresh array literal/,
  },
  {
    rule: 'prefer-flat-map',
    name: 'a deeper flat',
    source: `export const deep = (xs: number[][]) => xs.map((x) => [x]).flat(2);\n`,
    snippet: 'xs.map((x) => [x]).flat(2)',
    reason: /depth other than 1/,
  },
  {
    rule: 'prefer-array-some',
    name: 'an impure callback',
    source: `let calls = 0;\nexport const any = (xs: number[]) => xs.filter((x) => { calls++; return x > 1; }).length > 0;\n`,
    snippet: 'xs.filter',
    reason: /the callback is impure: it updates calls/,
  },
  {
    rule: 'prefer-array-find',
    name: 'a callback passed by reference',
    source: `declare function check(x: number): boolean;\nexport const first = (xs: number[]) => xs.filter(check)[0];\n`,
    snippet: 'xs.filter(check)[0]',
    reason: /not an inline function/,
  },
  {
    rule: 'prefer-set-size',
    name: 'a receiver that is not provably a Set',
    source: `export const n = (xs: Iterable<string>) => [...xs].length;\n`,
    snippet: '[...xs].length',
    reason: /not provably a Set/,
  },
  {
    rule: 'prefer-regexp-test',
    name: 'a regex with the g flag',
    source: `const WORD = /w+/g;\nexport function has(s: string) {\n  if (s.match(WORD)) return 1;\n  return 0;\n}\n`,
    snippet: 's.match(WORD)',
    reason: /has the g flag/,
  },
  {
    rule: 'prefer-regexp-test',
    name: 'a match result defaulted with ||',
    source: `export const parts = (s: string) => s.match(/a+/) || [];\n`,
    snippet: 's.match(/a+/)',
    reason: /used as a value/,
  },
  {
    rule: 'prefer-array-some',
    name: 'a filtered length defaulted with ||',
    source: `export const n = (xs: number[]) => xs.filter((x) => x > 1).length || 5;\n`,
    snippet: 'xs.filter((x) => x > 1).length',
    reason: /used as a number/,
  },
  {
    rule: 'prefer-regexp-test',
    name: 'a match result used as a value',
    source: `export const first = (s: string) => s.match(/a+/);\n`,
    snippet: 's.match(/a+/)',
    reason: /used as a value/,
  },
  {
    rule: 'prefer-string-starts-ends-with',
    name: 'a pattern with metacharacters',
    source: `export const v = (s: string) => /^v\\d/.test(s);\n`,
    snippet: '/^v\\d/.test(s)',
    reason: /metacharacters/,
  },
  {
    rule: 'prefer-string-starts-ends-with',
    name: 'a flagged pattern',
    source: `export const v = (s: string) => /^v/i.test(s);\n`,
    snippet: '/^v/i.test(s)',
    reason: /has flags/,
  },
  {
    rule: 'no-indexof-equality',
    name: 'an array receiver',
    source: `export const head = (xs: string[]) => xs.indexOf('a') === 0;\n`,
    snippet: "xs.indexOf('a') === 0",
    reason: /not provably a string/,
  },
  {
    rule: 'prefer-static-regex',
    name: 'a regex with the g flag',
    source: `export function all(s: string) {\n  const re = /a/g;\n  return re.exec(s);\n}\n`,
    snippet: '/a/g',
    reason: /has the g flag/,
  },
  {
    rule: 'prefer-static-regex',
    name: 'a regex with the y flag',
    source: `export const sticky = (s: string) => /a/y.test(s);\n`,
    snippet: '/a/y',
    reason: /has the y flag/,
  },
  {
    rule: 'prefer-date-now',
    name: 'a shadowed Date',
    source: `import { Date } from './clock.js';\nexport const t = () => new Date().getTime();\n`,
    snippet: 'new Date().getTime()',
    reason: /`Date` is shadowed/,
  },
  {
    rule: 'no-useless-spread',
    name: 'an operand that may be nullish',
    source: `export const s = (xs: string[] | undefined) => new Set([...xs!]);\n`,
    snippet: '[...xs!]',
    reason: /not provably an iterable/,
  },
  {
    rule: 'prefer-inline-equality',
    name: 'a non-literal element (may be NaN)',
    source: `export const is = (a: number, b: number, x: number) => [a, b].includes(x);\n`,
    snippet: '[a, b].includes(x)',
    reason: /non-NaN literal/,
  },
  {
    rule: 'prefer-timer-args',
    name: 'an argument that changes before the timer fires',
    source: `declare function show(n: number): void;\nexport function count() {\n  let n = 0;\n  setTimeout(() => show(n), 10);\n  n = 5;\n}\n`,
    snippet: 'setTimeout(() => show(n), 10)',
    reason: /argument `n` is not side-effect free/,
  },
  {
    rule: 'prefer-timer-args',
    name: 'a method call (would lose this)',
    source: `export const later = (o: { go(): void }) => setTimeout(() => o.go(), 1);\n`,
    snippet: 'setTimeout(() => o.go(), 1)',
    reason: /lose `this`/,
  },
  {
    rule: 'remove-dead-code',
    name: 'a referenced function',
    source: `function helper() {\n  return 1;\n}\nexport const x = helper();\n`,
    snippet: 'function helper',
    reason: /helper is referenced \(line 4\)/,
  },
  {
    rule: 'remove-dead-code',
    name: 'an exported function',
    source: `function api() {\n  return 1;\n}\nexport { api };\n`,
    snippet: 'function api',
    reason: /api is exported/,
  },
  {
    rule: 'remove-dead-code',
    name: 'a constant whose initialiser has side effects',
    source: `const started = startServer();\ndeclare function startServer(): number;\n`,
    snippet: 'const started',
    reason: /may have side effects/,
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'an impure callback',
    source: `const log: number[] = [];\nexport function f(xs: number[]) {\n  const ys = xs.filter((x) => x > 0).map((x) => { log.push(x); return x; });\n  return ys;\n}\n`,
    snippet: 'xs.filter',
    reason: /map: the callback is impure: it calls log\.push/,
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'a chain used as an argument (no statement to become a loop)',
    source: `declare function show(xs: number[]): void;\nexport function f(xs: number[]) {\n  show(xs.filter((x) => x > 0).map((x) => x * 2));\n}\n`,
    snippet: 'xs.filter',
    reason: /no statement to turn into a loop/,
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'a forEach with side effects after a filter',
    source: `const seen = new Set<number>();\nexport function f(xs: number[]) {\n  xs.filter((x) => !seen.has(x)).forEach((x) => seen.add(x));\n}\n`,
    snippet: 'xs.filter',
    reason: /forEach: the callback is impure: it calls seen\.add/,
  },
  {
    rule: 'prefer-static-regex',
    name: 'an interpolated RegExp',
    source: `export const has = (s: string, w: string) => new RegExp(w).test(s);\n`,
    snippet: 'new RegExp(w)',
    reason: /not a string literal/,
  },
  {
    rule: 'remove-dead-code',
    name: 'a class that runs code when the module loads',
    source: `declare function register(): number;\nclass Plugin {\n  static id = register();\n}\n`,
    snippet: 'class Plugin',
    reason: /static id is initialised with code/,
  },
  {
    rule: 'reduce-intermediate-arrays',
    name: 'a callback that uses the index',
    source: `export function f(xs: number[]) {\n  const ys = xs.filter((x) => x > 0).map((x, i) => x * i);\n  return ys;\n}\n`,
    snippet: 'xs.filter',
    reason: /uses the index/,
  },
];

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
