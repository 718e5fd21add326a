/**
 * The shared syntactic answers on small snippets: names and scopes, writes, purity, literal
 * regexes. Each row marks one node with `/*@*\/` placed right before it.
 */
import type * as TS from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTypeScript, type TypeScript } from '../typescript.js';
import {
  findDeclaration,
  impurityOf,
  isBooleanContext,
  memoizeBlocker,
  isReference,
  isWriteTarget,
  literalRegex,
  parseSource,
} from './index.js';

let ts: TypeScript;
beforeAll(async () => {
  ts = await loadTypeScript();
});

const MARK = '/*@*/';

/** The outermost node that starts right after the marker and satisfies `kind`. */
function marked<T extends TS.Node>(code: string, pred: (n: TS.Node) => n is T, file = 'x.ts'): T {
  const at = code.indexOf(MARK) + MARK.length;
  const sf = parseSource(ts, file, code);
  let found: T | undefined;
  const visit = (n: TS.Node): void => {
    if (!found && n.getStart(sf) === at && pred(n)) found = n;
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!found) throw new Error(`test bug: nothing marked in ${code}`);
  return found;
}

const identifier = (n: TS.Node): n is TS.Identifier => ts.isIdentifier(n);
const expression = (n: TS.Node): n is TS.Expression =>
  ts.isCallExpression(n) || ts.isPropertyAccessExpression(n) || ts.isIdentifier(n);

describe('findDeclaration', () => {
  it.each([
    ['a parameter', 'function f(Date) { return /*@*/Date; }', 'Parameter'],
    ['a block const', 'const x = 1; { const x = 2; /*@*/x; }', 'VariableDeclaration'],
    [
      'a var hoisted out of a nested block',
      'function f() { if (a) { var x = 1; } /*@*/x; }',
      'VariableDeclaration',
    ],
    [
      'a function hoisted out of a nested block',
      'function f() { { function g() {} } /*@*/g(); }',
      'FunctionDeclaration',
    ],
    [
      'a named class expression',
      'const C = class D { m() { return /*@*/D; } };',
      'ClassExpression',
    ],
    ['a catch variable', 'try {} catch (e) { /*@*/e; }', 'VariableDeclaration'],
    [
      'a let in another switch clause',
      'switch (k) { case 1: let y = 1; break; case 2: /*@*/y; }',
      'VariableDeclaration',
    ],
    ['an import', "import { Date } from './clock.js';\n/*@*/Date;", 'ImportSpecifier'],
    ['nothing: a global', 'function f(a) { return /*@*/Date; }', undefined],
    ['nothing: a let in a sibling block', 'function f() { { let x = 1; } /*@*/x; }', undefined],
  ])('%s', (_, code, kind) => {
    const id = marked(code, identifier, 'x.js');
    const d = findDeclaration(ts, id, id.text);
    expect(d && ts.SyntaxKind[d.kind]).toBe(kind);
  });
});

describe('isReference', () => {
  it.each([
    ['a read', 'f(/*@*/a);', true],
    ['a shorthand property', 'x = { /*@*/a };', true],
    ['a local name exported', 'export { /*@*/a };', true],
    ['a property name', 'o./*@*/a;', false],
    ['the imported name of an alias', "import { /*@*/a as b } from './m.js';", false],
    ['the exported alias', 'export { b as /*@*/a };', false],
    ['the property of a destructuring', 'const { /*@*/a: b } = o;', false],
    ['a named function expression', 'x = function /*@*/a() {};', false],
  ])('%s', (_, code, expected) => {
    expect(isReference(ts, marked(code, identifier))).toBe(expected);
  });
});

describe('isWriteTarget', () => {
  it.each([
    ['an assignment', '/*@*/a = 1;', true],
    ['a compound assignment through parentheses', '(/*@*/a) += 1;', true],
    ['an increment of a property', '/*@*/o.n++;', true],
    ['a delete', 'delete /*@*/o.n;', true],
    ['a destructuring assignment', '[/*@*/a, b] = xs;', true],
    ['a nested object pattern', '({ k: { /*@*/a } } = o);', true],
    ['a for…of target', 'for (/*@*/o.cur of xs) {}', true],
    ['a read on the right', 'b = /*@*/a;', false],
    ['an element of an array that is passed', 'f([/*@*/a]);', false],
    ['a declaration initializer', 'let [x] = [/*@*/a];', false],
  ])('%s', (_, code, expected) => {
    expect(isWriteTarget(ts, marked(code, expression))).toBe(expected);
  });
});

describe('isBooleanContext', () => {
  it.each([
    ['an if condition', 'if (/*@*/s.match(re)) {}', true],
    ['a negation', 'x = !/*@*/s.match(re);', true],
    ['the global Boolean', 'x = Boolean(/*@*/s.match(re));', true],
    ['an operand of || inside a condition', 'if (/*@*/s.match(re) || t) {}', true],
    ['a value defaulted with ||', 'x = /*@*/s.match(re) || [];', false],
    [
      'a Boolean that is not the global',
      'function f(Boolean) { return Boolean(/*@*/s.match(re)); }',
      false,
    ],
    ['a second argument', 'x = Boolean(a, /*@*/s.match(re));', false],
  ])('%s', (_, code, expected) => {
    expect(isBooleanContext(ts, marked(code, expression))).toBe(expected);
  });
});

describe('impurityOf', () => {
  const fn = (code: string) => marked(code, (n): n is TS.ArrowFunction => ts.isArrowFunction(n));
  it.each([
    ['pure', 'xs.filter(/*@*/(x) => x.name.trim().length > Math.max(1, x.min));', undefined],
    [
      'a write to its own local',
      'xs.filter(/*@*/(x) => { let n = 0; n += x; return n > 1; });',
      undefined,
    ],
    ['a write to an outer variable', 'let n = 0; xs.filter(/*@*/(x) => n++ > 1);', 'it updates n'],
    [
      'a destructuring write',
      'xs.filter(/*@*/(x) => { let a; [a] = x; return a; });',
      'it assigns to [a]',
    ],
    [
      'a for…of over an outer variable',
      'let c; xs.filter(/*@*/(x) => { for (c of x); return c; });',
      'it assigns to c',
    ],
    ['a method that moves lastIndex', 'xs.filter(/*@*/(x) => re.test(x));', 'it calls re.test'],
    [
      'a shadowed Math',
      'const Math = m; xs.filter(/*@*/(x) => Math.max(x, 1) > 2);',
      'it calls Math.max',
    ],
    [
      '`toString.call` (not a namespace)',
      'xs.filter(/*@*/(x) => toString.call(x) === t);',
      'it calls toString.call',
    ],
    ['async', 'xs.filter(/*@*/async (x) => x);', 'it is async'],
    // Precise rather than blanket: what real libraries' callbacks do, accepted and refused.
    ['test on an inline regex literal', 'xs.filter(/*@*/(x) => /^a/g.test(x));', undefined],
    [
      'test on a const non-g regex',
      'const RE = /^a/i; xs.filter(/*@*/(x) => RE.test(x));',
      undefined,
    ],
    [
      'test on a const g regex',
      'const RE = /^a/g; xs.filter(/*@*/(x) => RE.test(x));',
      'it calls RE.test',
    ],
    [
      'replace with a g literal and a string',
      "xs.map(/*@*/(x) => x.replace(/-/g, '_'));",
      undefined,
    ],
    [
      'replace with a function reference',
      'xs.map(/*@*/(x) => x.replace(/-/g, fix));',
      'it calls x.replace',
    ],
    [
      'replace with a shared g regex',
      "const RE = /-/g; xs.map(/*@*/(x) => x.replace(RE, ''));",
      'it calls x.replace',
    ],
    [
      'an inner map with an inline pure callback',
      'xs.filter(/*@*/(x) => x.parts.map((p) => p * 2).length > 1);',
      undefined,
    ],
    [
      'an inner map with a callback reference',
      'xs.filter(/*@*/(x) => x.parts.map(f).length > 1);',
      'it calls x.parts.map',
    ],
    [
      'an inner map whose callback writes',
      'let n = 0; xs.filter(/*@*/(x) => x.parts.map((p) => n++).length);',
      'it updates n',
    ],
    ['reading `this` in an arrow', 'xs.filter(/*@*/(x) => x > this.min);', undefined],
    [
      '`this` in a nested function',
      'xs.filter(/*@*/(x) => [x].some(function (y) { return this.y; }));',
      'it uses `this`',
    ],
    [
      '`arguments` of a nested function',
      'xs.filter(/*@*/(x) => [x].some(function () { return arguments.length; }));',
      'it reads its `arguments`',
    ],
    [
      'new Set() and new RegExp',
      "xs.filter(/*@*/(x) => new Set().size + new RegExp('a').source.length > x);",
      undefined,
    ],
    [
      'new Set of a value (a user iterator may run)',
      'xs.filter(/*@*/(x) => new Set(x).size > 1);',
      'it constructs Set',
    ],
    ['new Date() reads the clock', 'xs.filter(/*@*/(x) => new Date() > x);', 'it constructs Date'],
    [
      'a pure module function',
      'function big(n) { return Math.abs(n) > 9; }\nxs.filter(/*@*/(x) => big(x));',
      undefined,
    ],
    [
      'pure helpers calling each other recursively',
      'function even(n) { return n === 0 || odd(n - 1); }\nfunction odd(n) { return n !== 0 && even(n - 1); }\nxs.filter(/*@*/(x) => even(x));',
      undefined,
    ],
    [
      'an impure module function',
      'let c = 0;\nfunction big(n) { c++; return n > 9; }\nxs.filter(/*@*/(x) => big(x));',
      'it calls big',
    ],
    [
      'a function declared in a block (not module level)',
      '{ function big(n) { return n > 9; } xs.filter(/*@*/(x) => big(x)); }',
      'it calls big',
    ],
  ])('%s', (_, code, expected) => {
    expect(impurityOf(ts, fn(code))).toBe(expected);
  });
});

describe('memoizeBlocker with module helpers', () => {
  const fnDecl = (code: string) =>
    marked(code, (n): n is TS.FunctionDeclaration => ts.isFunctionDeclaration(n));
  it.each([
    [
      'a helper of constants and arguments only',
      'const K = 3;\nfunction sq(n) { return n * n * K; }\n/*@*/function cost(n) { return sq(n) + 1; }',
      undefined,
    ],
    [
      'a helper that reads mutable module state',
      'let k = 3;\nfunction sq(n) { return n * k; }\n/*@*/function cost(n) { return sq(n) + 1; }',
      'cost is not provably pure: it calls sq',
    ],
    [
      'a helper that builds an object (it could reach the cached result)',
      'function pair(n) { return [n, n]; }\n/*@*/function cost(n) { return pair(n)[0]; }',
      'cost is not provably pure: it calls pair',
    ],
    [
      'a built-in conversion stays refused for a cache',
      '/*@*/function cost(n) { return String(n).length; }',
      'cost is not provably pure: it calls String',
    ],
  ])('%s', (_, code, expected) => {
    expect(memoizeBlocker(ts, fnDecl(code), 'cost')).toBe(expected);
  });
});

describe('literalRegex', () => {
  it.each([
    ['/^abc/', { method: 'startsWith', literal: 'abc' }],
    ['/\\.js$/', { method: 'endsWith', literal: '.js' }],
    ['/a\\/b/', { method: 'includes', literal: 'a/b' }],
    ['/^v1$/', { method: '===', literal: 'v1' }],
    ['/^a.c/', undefined],
    ['/\\d/', undefined],
    ['/abc/i', undefined],
    ['/^$/', undefined],
  ])('%s', (text, expected) => {
    expect(literalRegex(text)).toEqual(expected);
  });
});
