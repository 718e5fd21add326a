/**
 * The scanner and the templates answer every syntactic question through ../ast, so a rule
 * reports what its template rewrites and a template refuses what its rule stays silent on.
 * Each case pins one decision taken where the two used to disagree: the scanner's verdict
 * (reported or not) and the template's (the rewritten file, or the refusal) on the same code.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Opportunity, RuleId } from '../../contracts/index.js';
import { applyTemplate, fileLevel, MODERN, TEMPLATES } from '../patch/index.js';
import { scanSource } from '../scan/index.js';
import { loadTypeScript } from '../typescript.js';
import { parseSource } from './index.js';

interface Agreement {
  /** The decision, and what each side did before it. */
  name: string;
  rule: RuleId;
  source: string;
  /** The code the opportunity is about (a reported node starts there). */
  snippet: string;
  file?: string;
  reported: boolean;
  /** The template's answer: the whole rewritten file, or why it refuses. */
  outcome: { after: string } | { refused: RegExp };
}

const CASES: Agreement[] = [
  // --- Boolean context -----------------------------------------------------------------
  {
    name: 'Boolean(x) is a boolean context: match becomes test (the template used to refuse)',
    rule: 'prefer-regexp-test',
    source: `export function hasDigits(s: string): boolean {\n  return Boolean(s.match(/\\d+/));\n}\n`,
    snippet: 's.match(/\\d+/)',
    reported: true,
    outcome: {
      after: `export function hasDigits(s: string): boolean {\n  return Boolean(/\\d+/.test(s));\n}\n`,
    },
  },
  {
    name: 'Boolean(x) only when Boolean is the global (the scanner used to report)',
    rule: 'prefer-regexp-test',
    source: `export function hasDigits(s: string, Boolean: (x: unknown) => boolean): boolean {\n  return Boolean(s.match(/\\d+/));\n}\n`,
    snippet: 's.match(/\\d+/)',
    reported: false,
    outcome: { refused: /the match result is used as a value/ },
  },
  {
    name: 'Boolean(x) with a g-flag regex stays refused on both sides (lib-text trap)',
    rule: 'prefer-regexp-test',
    source: `const WORD = /[a-z]+/g;\nexport function hasWord(text: string) {\n  return Boolean(text.match(WORD));\n}\n`,
    snippet: 'text.match(WORD)',
    reported: false,
    outcome: { refused: /has the g flag/ },
  },
  {
    name: 'Boolean(xs.filter(f).length) becomes Boolean(xs.some(f)) (the scanner used to miss it)',
    rule: 'prefer-array-some',
    source: `export const anyNegative = (xs: number[]) => Boolean(xs.filter((x) => x < 0).length);\n`,
    snippet: 'xs.filter((x) => x < 0).length',
    reported: true,
    outcome: {
      after: `export const anyNegative = (xs: number[]) => Boolean(xs.some((x) => x < 0));\n`,
    },
  },
  {
    name: '!xs.filter(f).length becomes !xs.some(f) (the scanner used to miss it)',
    rule: 'prefer-array-some',
    source: `export const none = (xs: number[]) => !xs.filter((x) => x > 10).length;\n`,
    snippet: 'xs.filter((x) => x > 10).length',
    reported: true,
    outcome: { after: `export const none = (xs: number[]) => !xs.some((x) => x > 10);\n` },
  },
  {
    name: 'a flipped comparison 0 < xs.filter(f).length (the template used to refuse)',
    rule: 'prefer-array-some',
    source: `export const anyBig = (xs: number[]) => 0 < xs.filter((x) => x > 10).length;\n`,
    snippet: '0 < xs.filter((x) => x > 10).length',
    reported: true,
    outcome: { after: `export const anyBig = (xs: number[]) => xs.some((x) => x > 10);\n` },
  },
  {
    name: 'an optional chain never matches (the template used to drop the ?.)',
    rule: 'prefer-array-some',
    source: `export const any = (xs?: number[]) => xs?.filter((x) => x > 1).length === 0;\n`,
    snippet: 'xs?.filter((x) => x > 1).length',
    reported: false,
    outcome: { refused: /no `\.filter\(f\)\.length` at the position/ },
  },
  // --- Purity: the stricter of the two old checks --------------------------------------
  {
    name: 'a callback calling RegExp#test on an inline literal is pure (a fresh regex each time)',
    rule: 'prefer-array-some',
    source: `export const anyHex = (xs: string[]) => xs.filter((x) => /^[0-9a-f]+$/.test(x)).length > 0;\n`,
    snippet: 'xs.filter((x) => /^[0-9a-f]+$/.test(x)).length > 0',
    reported: true,
    outcome: {
      after: `export const anyHex = (xs: string[]) => xs.some((x) => /^[0-9a-f]+$/.test(x));\n`,
    },
  },
  {
    name: 'a callback calling RegExp#test on a shared g regex is impure (lastIndex moves)',
    rule: 'prefer-array-some',
    source: `const HEX = /[0-9a-f]+/g;\nexport const anyHex = (xs: string[]) => xs.filter((x) => HEX.test(x)).length > 0;\n`,
    snippet: 'xs.filter((x) => HEX.test(x)).length > 0',
    reported: false,
    outcome: { refused: /the callback is impure: it calls HEX\.test/ },
  },
  {
    name: 'a callback calling a pure module helper is pure; an impure helper is not',
    rule: 'prefer-array-some',
    source: [
      `function isBig(n: number): boolean {`,
      `  return Math.abs(n) > 100;`,
      `}`,
      `export const anyBig = (xs: number[]) => xs.filter((x) => isBig(x)).length > 0;`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter((x) => isBig(x)).length > 0',
    reported: true,
    outcome: {
      after: [
        `function isBig(n: number): boolean {`,
        `  return Math.abs(n) > 100;`,
        `}`,
        `export const anyBig = (xs: number[]) => xs.some((x) => isBig(x));`,
        ``,
      ].join('\n'),
    },
  },
  {
    name: 'a helper that writes module state makes the callback impure',
    rule: 'prefer-array-some',
    source: [
      `let calls = 0;`,
      `function isBig(n: number): boolean {`,
      `  calls++;`,
      `  return n > 100;`,
      `}`,
      `export const anyBig = (xs: number[]) => xs.filter((x) => isBig(x)).length > 0;`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter((x) => isBig(x)).length > 0',
    reported: false,
    outcome: { refused: /the callback is impure: it calls isBig/ },
  },
  {
    name: 'a helper that is reassigned is not trusted',
    rule: 'prefer-array-some',
    source: [
      `let isBig = (n: number): boolean => n > 100;`,
      `export function setRule(f: (n: number) => boolean) {`,
      `  isBig = f;`,
      `}`,
      `export const anyBig = (xs: number[]) => xs.filter((x) => isBig(x)).length > 0;`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter((x) => isBig(x)).length > 0',
    reported: false,
    outcome: { refused: /the callback is impure: it calls isBig/ },
  },
  {
    name: 'a callback constructing anything is impure (the template used to allow new Set)',
    rule: 'prefer-array-some',
    source: `export const anyDup = (xs: string[][]) => xs.filter((x) => new Set(x).size < x.length).length > 0;\n`,
    snippet: 'xs.filter((x) => new Set(x).size < x.length).length > 0',
    reported: false,
    outcome: { refused: /the callback is impure: it constructs Set/ },
  },
  {
    name: 'a write to an outer variable that an inner block shadows is impure (both used to allow it)',
    rule: 'prefer-array-some',
    source: [
      `let seen = 0;`,
      `export function anyBig(xs: number[]) {`,
      `  return xs.filter((x) => {`,
      `    if (x > 100) {`,
      `      let seen = 1;`,
      `      return seen > 0;`,
      `    }`,
      `    seen++;`,
      `    return false;`,
      `  }).length > 0;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'xs.filter',
    reported: false,
    outcome: { refused: /the callback is impure: it updates seen/ },
  },
  {
    name: 'a memoized function may not build arrays (the template used to cache a shared one)',
    rule: 'memoize-pure-function',
    file: 'src/lib.js',
    source: [
      `function range(n) {`,
      `  let out = [];`,
      `  for (let i = 0; i < n; i++) out = [...out, i];`,
      `  return out;`,
      `}`,
      `export function total(k) {`,
      `  let t = 0;`,
      `  for (let j = 0; j < 10; j++) t += range(k).length;`,
      `  return t;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'function range',
    reported: false,
    outcome: { refused: /range is not provably pure: it builds \[\]/ },
  },
  {
    name: 'a memoized function calls only itself by name (the template used to allow String())',
    rule: 'memoize-pure-function',
    source: [
      `function label(n: number): string {`,
      `  return String(n) + 'px';`,
      `}`,
      `export function labels(k: number) {`,
      `  let all = '';`,
      `  for (let i = 0; i < 3; i++) all += label(k);`,
      `  return all;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'function label',
    reported: false,
    outcome: { refused: /label is not provably pure: it calls String/ },
  },
  {
    name: 'a memoized body reads constants bound to string/number literals only (the scanner used to accept false)',
    rule: 'memoize-pure-function',
    source: [
      `const DOUBLE = false;`,
      `function scaled(n: number): number {`,
      `  return DOUBLE ? n * 2 : n;`,
      `}`,
      `export function total(k: number) {`,
      `  let t = 0;`,
      `  for (let i = 0; i < 3; i++) t += scaled(k);`,
      `  return t;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'function scaled',
    reported: false,
    outcome: { refused: /scaled is not provably pure: it reads `DOUBLE`/ },
  },
  {
    name: 'a constant it reads is declared once in the file (the scanner used to accept a shadowed one)',
    rule: 'memoize-pure-function',
    source: [
      `const K = 3;`,
      `function cost(n: number): number {`,
      `  return n * K;`,
      `}`,
      `export function total(k: number) {`,
      `  const K = 4;`,
      `  let t = 0;`,
      `  for (let i = 0; i < K; i++) t += cost(k);`,
      `  return t;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'function cost',
    reported: false,
    outcome: { refused: /cost is not provably pure: it reads `K`/ },
  },
  // --- Literal regexes ----------------------------------------------------------------
  {
    name: 'escaped punctuation is literal: /\\.js$/ becomes endsWith (the template used to refuse)',
    rule: 'prefer-string-starts-ends-with',
    source: `export const isJs = (name: string) => /\\.js$/.test(name);\n`,
    snippet: '/\\.js$/.test(name)',
    reported: true,
    outcome: { after: `export const isJs = (name: string) => name.endsWith('.js');\n` },
  },
  {
    name: '/^lit$/ is an equality (the scanner used to miss it)',
    rule: 'prefer-string-starts-ends-with',
    source: `export const isV1 = (tag: string) => /^v1$/.test(tag);\n`,
    snippet: '/^v1$/.test(tag)',
    reported: true,
    outcome: { after: `export const isV1 = (tag: string) => tag === 'v1';\n` },
  },
  // --- Hoisting JSON.parse --------------------------------------------------------------
  {
    name: 'the text must be a module-level constant (the template used to hoist a local name)',
    rule: 'hoist-json-parse',
    source: `export function limit(n: number): number {\n  const RAW = '{"max": 10}';\n  const settings = JSON.parse(RAW);\n  return Math.min(n, settings.max);\n}\n`,
    snippet: 'JSON.parse(RAW)',
    reported: false,
    outcome: { refused: /not a constant string/ },
  },
  {
    name: 'a result bound through `as` is still checked (the template used to miss the write)',
    rule: 'hoist-json-parse',
    source: `interface Cfg {\n  max: number;\n}\nconst RAW = '{"max": 10}';\nexport function bump(): number {\n  const cfg = JSON.parse(RAW) as Cfg;\n  cfg.max += 1;\n  return cfg.max;\n}\n`,
    snippet: 'JSON.parse(RAW)',
    reported: false,
    outcome: { refused: /`cfg` is not read-only: it is assigned to \(cfg\.max \+= 1\)/ },
  },
  {
    name: 'a nested object handed out escapes (the scanner used to report)',
    rule: 'hoist-json-parse',
    source: `const RAW = '{"tags": ["a"]}';\nexport function tags(): string[] {\n  const cfg = JSON.parse(RAW);\n  return cfg.tags;\n}\n`,
    snippet: 'JSON.parse(RAW)',
    reported: false,
    outcome: { refused: /`cfg` is not read-only: it escapes \(return cfg\.tags;\)/ },
  },
  // --- Appending in place ---------------------------------------------------------------
  {
    name: 'an array a loop iterates is not appended in place (the scanner used to report)',
    rule: 'spread-push-in-loop',
    source: [
      `export function doubled(xs: number[]): number[] {`,
      `  let out: number[] = [...xs];`,
      `  for (const v of out) {`,
      `    if (out.length > 100) break;`,
      `    out = [...out, v];`,
      `  }`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'out = [...out, v]',
    reported: false,
    outcome: { refused: /a loop iterates over `out` itself/ },
  },
  {
    name: 'every value assigned must be a fresh array (the template used to push into the input)',
    rule: 'spread-push-in-loop',
    source: [
      `export function grow(input: number[], n: number): number[] {`,
      `  let out: number[] = [];`,
      `  out = input;`,
      `  for (let i = 0; i < n; i++) out = [...out, i];`,
      `  return out;`,
      `}`,
      ``,
    ].join('\n'),
    snippet: 'out = [...out, i]',
    reported: false,
    outcome: {
      refused: /`out` is also assigned something other than a fresh array \(out = input\)/,
    },
  },
  // --- Shadowing is resolved by scope, hoisting included ---------------------------------
  {
    name: 'a `Date` parameter elsewhere does not shadow this one (the template used to refuse)',
    rule: 'prefer-date-now',
    source: `export function stamp(): number {\n  return new Date().getTime();\n}\nexport function at(Date: { now(): number }): number {\n  return Date.now();\n}\n`,
    snippet: 'new Date().getTime()',
    reported: true,
    outcome: {
      after: `export function stamp(): number {\n  return Date.now();\n}\nexport function at(Date: { now(): number }): number {\n  return Date.now();\n}\n`,
    },
  },
  {
    name: 'a `var Date` hoisted from a nested block shadows (the scanner used to report)',
    rule: 'prefer-date-now',
    file: 'src/lib.js',
    source: `export function stamp(fake) {\n  if (fake) {\n    var Date = fake;\n  }\n  return new Date().getTime();\n}\n`,
    snippet: 'new Date().getTime()',
    reported: false,
    outcome: { refused: /`Date` is shadowed/ },
  },
  // --- Constant lists -----------------------------------------------------------------
  {
    name: 'a typed list stays an array (the scanner used to report)',
    rule: 'prefer-set-has',
    source: `const TAGS: readonly string[] = ['a', 'b'];\nexport const isTag = (x: string) => TAGS.includes(x);\n`,
    snippet: 'TAGS.includes(x)',
    reported: false,
    outcome: { refused: /TAGS has a type annotation the Set would contradict/ },
  },
  {
    name: 'a list built on every call stays an array (the template used to make a Set per call)',
    rule: 'prefer-set-has',
    source: `export function isVowel(c: string): boolean {\n  const VOWELS = ['a', 'e', 'i', 'o', 'u'];\n  return VOWELS.includes(c);\n}\n`,
    snippet: 'VOWELS.includes(c)',
    reported: false,
    outcome: { refused: /VOWELS is not declared at module level/ },
  },
  // --- Timers -------------------------------------------------------------------------
  {
    name: 'an imported function is a live binding, not stable (the template used to accept)',
    rule: 'prefer-timer-args',
    source: `import { flush } from './log.js';\nexport const later = () => setTimeout(() => flush(1), 10);\n`,
    snippet: 'setTimeout(() => flush(1), 10)',
    reported: false,
    outcome: { refused: /`flush` is not a const or function declaration/ },
  },
  {
    name: 'a regex literal is a fresh object per call, not stable (the template used to accept)',
    rule: 'prefer-timer-args',
    source: `function scan(re: RegExp) {\n  return re.lastIndex;\n}\nexport const poll = () => setInterval(() => scan(/a/g), 10);\n`,
    snippet: 'setInterval(() => scan(/a/g), 10)',
    reported: false,
    outcome: { refused: /argument `\/a\/g` is not side-effect free and constant/ },
  },
  // --- Dead code ------------------------------------------------------------------------
  {
    name: 'an object literal with methods is inert (the template used to refuse)',
    rule: 'remove-dead-code',
    source: `export const A = 1;\n\nconst handlers = {\n  start() {\n    return 1;\n  },\n};\n`,
    snippet: 'const handlers',
    reported: true,
    outcome: { after: `export const A = 1;\n` },
  },
  {
    name: 'a class whose static fields run code is kept (the scanner used to report)',
    rule: 'remove-dead-code',
    source: `declare function register(): number;\nexport const A = 1;\nclass Plugin {\n  static id = register();\n}\n`,
    snippet: 'class Plugin',
    reported: false,
    outcome: { refused: /static id is initialised with code/ },
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The candidate's diff applied with real `git apply` to a copy of the file: the new text. */
async function rewritten(file: string, source: string, opportunity: Opportunity) {
  const root = mkdtempSync(join(tmpdir(), 'pb-agree-'));
  dirs.push(root);
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), source);
  const outcome = await applyTemplate(root, opportunity);
  if (!('candidate' in outcome)) throw new Error(JSON.stringify(outcome.rejected));
  writeFileSync(join(root, 'candidate.diff'), outcome.candidate.diff);
  execFileSync('git', ['apply', 'candidate.diff'], { cwd: root, stdio: 'pipe' });
  return readFileSync(join(root, file), 'utf8');
}

describe('scanner and templates agree (one shared analysis)', () => {
  for (const c of CASES) {
    it(`${c.rule}: ${c.name}`, async () => {
      const file = c.file ?? 'src/lib.ts';
      // Each source holds one candidate for the rule, wherever the rule reports it.
      const reported = (await scanSource(file, c.source)).filter((o) => o.rule === c.rule);
      expect(reported.length, 'scanner report').toBe(c.reported ? 1 : 0);
      const start = c.source.indexOf(c.snippet);
      if (start < 0) throw new Error(`test bug: snippet not in source: ${c.snippet}`);
      if ('after' in c.outcome) {
        const [opportunity] = reported;
        if (!opportunity) throw new Error('test bug: a rewrite case must be reported');
        expect(c.source.slice(0, start).split('\n').length).toBe(opportunity.line);
        expect(await rewritten(file, c.source, opportunity)).toBe(c.outcome.after);
        return;
      }
      // What the scanner stays silent on, the template refuses when pointed right at it.
      const ts = await loadTypeScript();
      const sf = parseSource(ts, file, c.source);
      const template = TEMPLATES[c.rule]!;
      const end = start + c.snippet.length;
      const level = fileLevel(MODERN, file);
      expect(template({ ts, sf, text: c.source, start, end, level })).toMatch(c.outcome.refused);
    });
  }
});
