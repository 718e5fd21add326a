/**
 * Golden tests per rule: a snippet → the opportunities that rule reports (line and the text the
 * reported node starts with), and traps that look alike but must yield nothing.
 */
import { describe, expect, it } from 'vitest';
import { Opportunity, RuleId } from '../../contracts/index.js';
import { RULES, scanSource } from './index.js';

interface Case {
  name: string;
  code: string;
  /** [line, text the node starts with]; empty for a trap. */
  expected: [number, string][];
  file?: string;
}

const cases: Record<Exclude<RuleId, 'llm-suggested'>, Case[]> = {
  'no-accumulating-spread': [
    {
      name: 'object spread of the accumulator',
      code: 'export const index = (xs) => xs.reduce((acc, x) => ({ ...acc, [x.id]: x }), {});',
      expected: [[1, 'xs.reduce']],
    },
    {
      name: 'array spread in a block body',
      code: 'export function f(xs) {\n  return xs.reduce((acc, x) => {\n    return [...acc, x * 2];\n  }, []);\n}',
      expected: [[2, 'xs.reduce']],
    },
    {
      name: 'trap: the seed is a shared object',
      code: 'const BASE = {};\nexport const g = (xs) => xs.reduce((acc, x) => ({ ...acc, [x]: 1 }), BASE);',
      expected: [],
    },
    {
      name: 'trap: the accumulator is captured by a closure',
      code: 'export const g = (xs, fns) => xs.reduce((acc, x) => { fns.push(() => acc); return { ...acc, [x]: 1 }; }, {});',
      expected: [],
    },
  ],
  'spread-push-in-loop': [
    {
      name: 'local array re-spread in a for loop',
      code: 'export function evens(n) {\n  let out = [];\n  for (let i = 0; i < n; i++) out = [...out, i];\n  return out;\n}',
      expected: [[3, 'out = [']],
    },
    {
      name: 'trap: the old array is kept elsewhere',
      code: 'export function f(n) {\n  let out = [];\n  const seen = [];\n  for (let i = 0; i < n; i++) {\n    seen.push(out);\n    out = [...out, i];\n  }\n  return seen;\n}',
      expected: [],
    },
    {
      name: 'trap: the array is the caller’s',
      code: 'export function f(input, n) {\n  let out = input;\n  for (let i = 0; i < n; i++) out = [...out, i];\n  return out;\n}',
      expected: [],
    },
    {
      name: 'trap: not in a loop',
      code: 'export function f(x) {\n  let out = [];\n  out = [...out, x];\n  return out;\n}',
      expected: [],
    },
  ],
  'prefer-set-has': [
    {
      name: 'constant list only searched with includes',
      code: "const WORDS = ['a', 'an', 'the'];\nexport function isStop(w) {\n  return WORDS.includes(w);\n}",
      expected: [[1, 'WORDS =']],
    },
    {
      name: 'trap: the "constant" array is mutated',
      code: "const EXTRA = ['etc', 'ie'];\nexport function add(w) {\n  EXTRA.push(w);\n}\nexport const has = (w) => EXTRA.includes(w);",
      expected: [],
    },
    {
      name: 'trap: exported',
      code: "export const WORDS = ['a', 'b'];\nexport const has = (w) => WORDS.includes(w);",
      expected: [],
    },
    {
      name: 'trap: passed elsewhere',
      code: "const WORDS = ['a', 'b'];\nexport const has = (w) => WORDS.includes(w);\nexport const all = () => use(WORDS);",
      expected: [],
    },
  ],
  'prefer-flat-map': [
    {
      name: 'map then flat()',
      code: 'export const pairs = (xs) => xs.map((x) => [x, x]).flat();',
      expected: [[1, 'xs.map']],
    },
    {
      name: 'trap: flat(2) is deeper than flatMap',
      code: 'export const deep = (xs) => xs.map((x) => [[x]]).flat(2);',
      expected: [],
    },
  ],
  'prefer-array-some': [
    {
      name: 'filter(pure).length > 0 and 0 < …',
      code: 'export const a = (xs) => xs.filter((x) => x > 1).length > 0;\nexport const b = (xs) => 0 < xs.filter((x) => x.ok).length;',
      expected: [
        [1, 'xs.filter'],
        [2, '0 <'],
      ],
    },
    {
      name: 'trap: impure callback',
      code: 'let count = 0;\nexport const a = (xs) => xs.filter((x) => { count++; return x > 1; }).length > 0;',
      expected: [],
    },
    {
      name: 'trap: callback not visible',
      code: 'export const a = (xs, f) => xs.filter(f).length > 0;',
      expected: [],
    },
  ],
  'prefer-array-find': [
    {
      name: 'filter(pure)[0]',
      code: 'export const byId = (xs, id) => xs.filter((x) => x.id === id)[0];',
      expected: [[1, 'xs.filter']],
    },
    {
      name: 'trap: the callback logs',
      code: 'export const byId = (xs, id) => xs.filter((x) => { log(x); return x.id === id; })[0];',
      expected: [],
    },
  ],
  'prefer-set-size': [
    {
      name: 'spread of a const Set, and of new Set',
      code: 'export function f(xs) {\n  const s = new Set(xs);\n  return [...s].length + [...new Set(xs)].length;\n}',
      expected: [
        [3, '[...s]'],
        [3, '[...new Set'],
      ],
    },
    {
      name: 'trap: the receiver may not be a Set',
      code: 'export const f = (xs) => [...xs].length;',
      expected: [],
    },
  ],
  'prefer-regexp-test': [
    {
      name: 'match in an if',
      code: 'export function f(s) {\n  if (s.match(/ab+c/)) return 1;\n  return 0;\n}',
      expected: [[2, 's.match']],
    },
    {
      name: 'trap: a g-flag regex keeps state',
      code: 'const WORD = /[a-z]+/g;\nexport function hasWord(text) {\n  return Boolean(text.match(WORD));\n}',
      expected: [],
    },
    {
      name: 'trap: the match itself is used',
      code: 'export const m = (s) => s.match(/a(b)/);',
      expected: [],
    },
    {
      name: 'trap: an || or && operand is the value the expression yields',
      code: 'export const m = (s) => s.match(/a(b)/) || [];\nexport const n = (s, ok) => ok && s.match(/c/);',
      expected: [],
    },
    {
      name: 'an || operand inside an if is only tested',
      code: 'export function f(s, t) {\n  if (s.match(/ab/) || t) return 1;\n  return 0;\n}',
      expected: [[2, 's.match']],
    },
  ],
  'prefer-string-starts-ends-with': [
    {
      name: 'anchored literals and a plain literal',
      code: 'export const a = (s) => /^abc/.test(s);\nexport const b = (f) => /\\.js$/.test(f);\nexport const c = (s) => /needle/.test(s);',
      expected: [
        [1, '/^abc/.test'],
        [2, '/\\.js$/.test'],
        [3, '/needle/.test'],
      ],
    },
    {
      name: 'traps: metacharacters, i, g and y flags',
      code: 'export const a = (s) => /^a.c/.test(s);\nexport const b = (s) => /^abc/i.test(s);\nexport const c = (s) => /^abc/g.test(s);\nexport const d = (s) => /abc/y.test(s);',
      expected: [],
    },
  ],
  'no-indexof-equality': [
    {
      name: 'indexOf === 0 on a string parameter',
      code: "export function f(s: string) {\n  return s.indexOf('x') === 0;\n}",
      file: 'x.ts',
      expected: [[2, 's.indexOf']],
    },
    {
      name: 'trap: the receiver may be an array',
      code: 'export const f = (xs, x) => xs.indexOf(x) === 0;',
      expected: [],
    },
  ],
  'prefer-static-regex': [
    {
      name: 'regex literal in a loop',
      code: 'export function count(xs) {\n  let n = 0;\n  for (const x of xs) if (/a+b/.test(x)) n++;\n  return n;\n}',
      expected: [[3, '/a+b/']],
    },
    {
      name: 'traps: g flag, module level, not hot',
      code: 'const TOP = /a+b/;\nexport function f(xs) {\n  for (const x of xs) /a+/g.exec(x);\n}\nexport const once = (s) => /a+b/.exec(s);',
      expected: [],
    },
    {
      name: 'a g regex that only serves replace/split (lastIndex ends at 0); a y regex never',
      code: "export function f(xs) {\n  for (const x of xs) x.replace(/a+/g, '').split(/,/g);\n  for (const x of xs) x.replace(/b/y, '');\n}",
      expected: [
        [2, '/a+/g'],
        [2, '/,/g'],
      ],
    },
  ],
  'prefer-static-collator': [
    {
      name: 'localeCompare in a sort comparator',
      code: 'export const sorted = (xs) => xs.sort((a, b) => a.name.localeCompare(b.name));',
      expected: [[1, 'a.name.localeCompare']],
    },
    {
      name: 'trap: the locale varies per call',
      code: 'export const sorted = (xs, locale) => xs.sort((a, b) => a.localeCompare(b, locale));',
      expected: [],
    },
  ],
  'prefer-date-now': [
    {
      name: 'getTime and unary plus',
      code: 'export const a = () => new Date().getTime();\nexport const b = () => +new Date();',
      expected: [
        [1, 'new Date().getTime'],
        [2, '+new Date'],
      ],
    },
    {
      name: 'trap: Date is shadowed',
      code: 'export function stamp(Date) {\n  return new Date().getTime();\n}',
      expected: [],
    },
  ],
  'no-useless-spread': [
    {
      name: 'spread into a Set, spread of a fresh map()',
      code: 'export const a = (xs) => new Set([...xs]);\nexport const b = (xs) => [...xs.map((x) => x + 1)];',
      expected: [
        [1, '[...xs]'],
        [2, '[...xs.map'],
      ],
    },
    {
      name: 'trap: a copy that protects the original',
      code: 'export const copy = (xs) => [...xs];\nexport const chars = (s) => [...s.slice(1)];',
      expected: [],
    },
  ],
  'hoist-json-parse': [
    {
      name: 'constant string parsed per call, only read',
      code: 'const DEFAULTS = \'{"a":1,"b":{"c":2}}\';\nexport function load(o) {\n  const d = JSON.parse(DEFAULTS);\n  return { a: o.a ?? d.a, c: d.b.c };\n}\nexport const lit = () => JSON.parse(\'{"x":1}\').x;',
      expected: [
        [3, 'JSON.parse'],
        [6, 'JSON.parse'],
      ],
    },
    {
      name: 'traps: mutated, returned whole, non-constant string',
      code: "const S = '{}';\nexport function a() {\n  const o = JSON.parse(S);\n  o.x = 1;\n  return o.x;\n}\nexport const b = () => JSON.parse(S);\nexport const c = (s) => JSON.parse(s).x;\nexport function d() {\n  const o = JSON.parse(S);\n  o.list.push(1);\n  return o.list.length;\n}",
      expected: [],
    },
  ],
  'memoize-pure-function': [
    {
      name: 'naive fib',
      code: 'function fib(n) {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\nexport const table = (n) => fib(n);',
      expected: [[1, 'function fib']],
    },
    {
      name: 'loop-invariant arguments',
      code: 'const K = 3;\nfunction cost(n: number): number {\n  return n * n + K;\n}\nexport function total(xs: number[]) {\n  let t = 0;\n  for (const x of xs) t += x * cost(10);\n  return t;\n}',
      file: 'x.ts',
      expected: [[2, 'function cost']],
    },
    {
      name: 'traps: random, free mutable state, the clock, varying arguments',
      code: 'let counter = 0;\nfunction r(n) {\n  return r(n - 1) + r(n - 2) + Math.random();\n}\nfunction c(n) {\n  return c(n - 1) + c(n - 2) + counter;\n}\nfunction t(n) {\n  return t(n - 1) + t(n - 2) + Date.now();\n}\nfunction sq(n) {\n  return n * n;\n}\nexport function all(xs) {\n  let s = 0;\n  for (let i = 0; i < xs.length; i++) s += sq(i);\n  counter++;\n  return s + r(1) + c(1) + t(1);\n}',
      expected: [],
    },
  ],
  'prefer-inline-equality': [
    {
      name: 'literal array includes',
      code: "export const isYes = (x) => ['y', 'yes'].includes(x);",
      expected: [[1, "['y', 'yes'].includes"]],
    },
    {
      name: 'traps: non-literal elements, a subject with effects',
      code: "export const a = (x, p, q) => [p, q].includes(x);\nexport const b = (f) => ['a', 'b'].includes(f());",
      expected: [],
    },
  ],
  'prefer-timer-args': [
    {
      name: 'closure forwarding constant arguments',
      code: 'const LIMIT = 5;\nfunction tick(n) {\n  return n;\n}\nexport const start = () => setTimeout(() => tick(LIMIT), 10);',
      expected: [[5, 'setTimeout']],
    },
    {
      name: 'traps: an argument that may change, a method call',
      code: 'function tick(n) {\n  return n;\n}\nexport function start(obj) {\n  let v = 1;\n  setTimeout(() => tick(v), 10);\n  setTimeout(() => obj.run(1), 10);\n  v = 2;\n}',
      expected: [],
    },
  ],
  'reduce-intermediate-arrays': [
    {
      name: 'filter().map() inside a loop, reported once for a longer chain',
      code: 'export function f(groups) {\n  let t = 0;\n  for (const g of groups) t += g.items.filter((i) => i.ok).map((i) => i.n).filter((n) => n > 0).length;\n  return t;\n}',
      expected: [[3, 'g.items.filter']],
    },
    {
      name: 'trap: not on a hot path',
      code: 'export const f = (xs) => xs.filter((x) => x.ok).map((x) => x.n);',
      expected: [],
    },
  ],
  'remove-dead-code': [
    {
      name: 'unused function, const, and a function only calling itself',
      code: "import x from './x.js';\nfunction unused() {\n  return 1;\n}\nconst K = 1;\nfunction loop(n) {\n  return n && loop(n - 1);\n}\nexport function used() {\n  return x;\n}",
      expected: [
        [2, 'function unused'],
        [5, 'const K'],
        [6, 'function loop'],
      ],
    },
    {
      name: 'traps: a script (globals), a side-effecting initializer, a used helper',
      code: 'function global() {}\nconst a = start();',
      expected: [],
    },
    {
      name: 'trap: used and re-exported',
      code: 'const a = () => 1;\nfunction b() {\n  return a();\n}\nexport { b };',
      expected: [],
    },
  ],
  'hoist-static-closure': [
    {
      name: 'a callback of a hot function that captures nothing (JS)',
      file: 'src/lib.js',
      code: 'export function upper(rows) {\n  for (const xs of rows) xs.map(function (x) { return x.toUpperCase(); });\n}\nexport const trimAll = (rows) => rows.forEach((xs) => xs.map((x) => x.trim()));',
      expected: [
        [2, 'function (x)'],
        [4, '(x) => x.trim()'],
      ],
    },
    {
      name: 'traps: captures a parameter, the enclosing this, kept by the callee, untyped TS parameter',
      code: 'export function over(xs: number[], min: number) {\n  return xs.filter((x: number) => x > min);\n}\nexport class C {\n  k = 1;\n  f(xs: number[]) {\n    return xs.map((x: number) => x * this.k);\n  }\n}\nexport function keep(el: { on(f: () => void): void }) {\n  el.on(() => 1);\n}\nexport function g(xs: string[]) {\n  return xs.map((x) => x.trim());\n}',
      expected: [],
    },
  ],
  'prefer-object-literal-shape': [
    {
      name: 'an empty object given its properties right after',
      code: 'export function points(xs: number[]) {\n  const out = [];\n  for (const x of xs) {\n    const p: { x?: number; y?: number } = {};\n    p.x = x;\n    p.y = x * 2;\n    out.push(p);\n  }\n  return out;\n}',
      expected: [[4, 'const p']],
    },
    {
      name: 'traps: a value reads the object, a closure captures it, __proto__, module level',
      code: 'export function a(x: number) {\n  const o: any = {};\n  o.x = x;\n  o.self = o;\n  return o;\n}\nexport function b(x: number) {\n  const o: any = {};\n  const get = () => o;\n  o.x = get();\n  return o;\n}\nexport function c(p: object) {\n  const o: any = {};\n  o.__proto__ = p;\n  return o;\n}\nconst m: any = {};\nm.x = 1;\nexport { m };',
      expected: [],
    },
  ],
  'hoist-prototype-method': [
    {
      name: 'a borrowed built-in method called in a function (ES5)',
      file: 'src/clone.js',
      code: 'module.exports = function kinds(xs) {\n  for (var i = 0; i < xs.length; i++) xs[i] = Object.prototype.toString.call(xs[i]);\n};\nfunction own(os, k) {\n  return os.map(function (o) { return Array.prototype.slice.apply(o, [k]); });\n}\nmodule.exports.own = own;',
      expected: [
        [2, 'Object.prototype.toString'],
        [5, 'Array.prototype.slice'],
      ],
    },
    {
      name: 'traps: module level, shadowed Object, used without .call, a polyfill in the file, unknown constructor',
      file: 'src/traps.js',
      code: 'var t = Object.prototype.toString.call(1);\nfunction a(Object, xs) {\n  for (var x of xs) Object.prototype.toString.call(x);\n}\nfunction b(xs) {\n  var f = Array.prototype.map;\n  for (var x of xs) Array.prototype.map.call(x, f);\n}\nString.prototype.trim = function () { return this; };\nfunction c(xs) {\n  for (var s of xs) String.prototype.trim.call(s);\n}\nfunction d(xs) {\n  for (var x of xs) Buffer.prototype.slice.call(x);\n}\nmodule.exports = { t, a, b, c, d };',
      expected: [],
    },
  ],
  'no-delete-operator': [
    {
      name: 'delete of a property',
      code: 'export function f(o) {\n  delete o.a;\n  delete o[k];\n}',
      expected: [
        [2, 'delete o.a'],
        [3, 'delete o[k]'],
      ],
    },
  ],
  'no-await-in-loop': [
    {
      name: 'await in for-of',
      code: 'export async function f(urls) {\n  for (const u of urls) await fetch(u);\n}',
      expected: [[2, 'await fetch']],
    },
    {
      name: 'traps: for await, an async callback inside a loop',
      code: 'export async function f(it, groups) {\n  for await (const x of it) await use(x);\n  for (const g of groups) g.map(async (x) => await use(x));\n}',
      expected: [],
    },
  ],
  'no-string-concat-in-loop': [
    {
      name: 's += in a loop',
      code: "export function csv(xs: string[]) {\n  let s = '';\n  for (const x of xs) s += x + ',';\n  return s;\n}",
      expected: [[3, 's += x']],
    },
    {
      name: 'traps: a number accumulator, not in a loop',
      code: "export function f(xs: number[]) {\n  let n = 0;\n  for (const x of xs) n += x;\n  let s = '';\n  s += 'a';\n  return s + n;\n}",
      expected: [],
    },
  ],
  'no-arguments-in-hot-path': [
    {
      name: 'arguments copied and indexed',
      file: 'src/lib.js',
      code: 'export function f() {\n  var args = Array.prototype.slice.call(arguments);\n  for (var i = 0; i < args.length; i++) g(arguments[i]);\n}',
      expected: [[3, 'arguments']],
    },
    {
      name: 'traps: only arguments.length, a variable named arguments (not a hot path either)',
      file: 'src/lib.js',
      code: 'export function f() {\n  return arguments.length;\n}\nexport function g(list) {\n  var arguments2 = list;\n  return arguments2;\n}',
      expected: [],
    },
  ],
  'no-try-catch-in-hot-loop': [
    {
      name: 'try/catch per iteration',
      code: 'export function parseAll(xs: string[]) {\n  const out = [];\n  for (const x of xs) {\n    try {\n      out.push(JSON.parse(x));\n    } catch {\n      out.push(null);\n    }\n  }\n  return out;\n}',
      expected: [[4, 'try']],
    },
    {
      name: 'traps: try around the loop, try/finally in a loop',
      code: 'export function f(xs: string[], done: () => void) {\n  try {\n    for (const x of xs) JSON.parse(x);\n  } catch {\n    return false;\n  }\n  for (const x of xs) {\n    try {\n      JSON.parse(x);\n    } finally {\n      done();\n    }\n  }\n  return true;\n}',
      expected: [],
    },
  ],
  'no-holey-array': [
    {
      name: 'new Array(n) and Array(3)',
      code: 'export const a = (n) => new Array(n);\nexport const b = () => Array(3);',
      expected: [
        [1, 'new Array(n)'],
        [2, 'Array(3)'],
      ],
    },
    {
      name: 'traps: an empty array, an element list',
      code: "export const a = () => new Array(0);\nexport const b = () => new Array(1, 2);\nexport const c = () => new Array('x');",
      expected: [],
    },
  ],
};

function positions(code: string, expected: [number, string][]) {
  const lines = code.split('\n');
  return expected.map(([line, text]) => {
    const column = lines[line - 1]!.indexOf(text) + 1;
    if (column === 0) throw new Error(`test bug: "${text}" not on line ${line}`);
    return { line, column };
  });
}

describe('scanner rules (golden)', () => {
  for (const [rule, list] of Object.entries(cases)) {
    describe(rule, () => {
      for (const c of list) {
        it(c.name, async () => {
          const all = await scanSource(c.file ?? 'x.js', c.code);
          for (const o of all) Opportunity.parse(o);
          const got = all
            .filter((o) => o.rule === rule)
            .map((o) => ({ line: o.line, column: o.column }))
            .sort((a, b) => a.line - b.line || a.column - b.column);
          expect(got).toEqual(positions(c.code, c.expected));
        });
      }
    });
  }
});

describe('rule catalogue', () => {
  it('has a distinct rule per RuleId, templates for all but the flag-only ones', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    // `llm-suggested` names what a model found: no scanner rule reports it.
    expect([...ids].sort()).toEqual(RuleId.options.filter((r) => r !== 'llm-suggested').sort());
    const flagOnly = RULES.filter((r) => r.flagOnly).map((r) => r.id);
    expect(flagOnly.sort()).toEqual([
      'no-arguments-in-hot-path',
      'no-await-in-loop',
      'no-delete-operator',
      'no-holey-array',
      'no-string-concat-in-loop',
      'no-try-catch-in-hot-loop',
    ]);
  });

  it('fills template, hot and score; loops rank higher; results sorted by score', async () => {
    const code =
      'export function f(xs) {\n  const t0 = new Date().getTime();\n  for (const x of xs) delete x.a;\n  return t0;\n}';
    const ops = await scanSource('x.js', code);
    expect(ops.map((o) => [o.rule, o.template, o.hot])).toEqual([
      ['no-delete-operator', null, true],
      ['prefer-date-now', 'prefer-date-now', false],
    ]);
    expect(ops[0]!.score).toBeGreaterThan(ops[1]!.score);
    expect(ops[1]!).toMatchObject({ line: 2, column: 14, endLine: 2, endColumn: 34 });
  });

  it('a regex literal (its pattern cached by V8) ranks far below new RegExp of a constant', async () => {
    const code =
      "export function f(xs) {\n  let n = 0;\n  for (const x of xs) if (/a+b/.test(x) || new RegExp('c+d').test(x)) n++;\n  return n;\n}";
    const ops = await scanSource('x.js', code);
    const [built, literal] = ops.filter((o) => o.rule === 'prefer-static-regex');
    expect(built!.column).toBeGreaterThan(literal!.column); // new RegExp first, though later
    expect(built!.score).toBe(5 * literal!.score);
    expect(literal!.rationale).toMatch(/compiled pattern is cached/);
  });
});
