/**
 * Node-shape helpers: parsing, walking, looking through wrappers, recognising calls, literals
 * and regexes. Nothing here resolves a name (see scope.ts) or judges effects (see purity.ts).
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';

/** The dialect to parse a file in, from its extension (anything unknown is JavaScript). */
export function scriptKindOf(ts: TypeScript, file: string): TS.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (file.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (/\.[mc]?ts$/.test(file)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

/** One file's syntax tree with parent pointers, as every scanner rule and template expects. */
export function parseSource(ts: TypeScript, file: string, text: string): TS.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKindOf(ts, file));
}

/** Calls `visit` on `node` and every node below it, parents first. */
export function walk(ts: TypeScript, node: TS.Node, visit: (n: TS.Node) => void): void {
  const go = (n: TS.Node): void => {
    visit(n);
    ts.forEachChild(n, go);
  };
  go(node);
}

/** The first node at or below `root` (in source order) that `pred` accepts; stops there. */
export function findNode(
  ts: TypeScript,
  root: TS.Node,
  pred: (n: TS.Node) => boolean,
): TS.Node | undefined {
  const go = (n: TS.Node): TS.Node | undefined => (pred(n) ? n : ts.forEachChild(n, go));
  return go(root);
}

/** 1-based line of a node's first token (how opportunities and messages name places). */
export function lineOf(sf: TS.SourceFile, node: TS.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

/** Parentheses and type-only wrappers (`as`, `!`, `satisfies`, `<T>`): same value at run time. */
export function isTransparent(
  ts: TypeScript,
  n: TS.Node,
): n is TS.Expression & { expression: TS.Expression } {
  return (
    ts.isParenthesizedExpression(n) ||
    ts.isAsExpression(n) ||
    ts.isNonNullExpression(n) ||
    ts.isSatisfiesExpression(n) ||
    ts.isTypeAssertionExpression(n)
  );
}

/** The expression inside any parentheses and type-only wrappers. */
export function unwrap(ts: TypeScript, node: TS.Expression): TS.Expression {
  let n = node;
  while (isTransparent(ts, n)) n = n.expression;
  return n;
}

/** `node` with the parentheses and type-only wrappers around it: what its real parent sees. */
export function outerExpression(ts: TypeScript, node: TS.Node): TS.Node {
  let n = node;
  while (isTransparent(ts, n.parent)) n = n.parent;
  return n;
}

export type MethodCall = TS.CallExpression & {
  expression: TS.PropertyAccessExpression & { name: TS.Identifier };
};

/**
 * `receiver.name(args)`, optionally with `name` in `names`. Optional chains (`a?.b()`,
 * `a.b?.()`, `a?.b.c()`) never match: a rewrite that loses the `?.` would throw where the
 * original did not.
 */
export function isMethodCall(
  ts: TypeScript,
  node: TS.Node,
  names?: readonly string[],
): node is MethodCall {
  // Any link of an optional chain (`a?.b.c()` too) may evaluate to undefined instead of calling.
  if (!ts.isCallExpression(node) || ts.isOptionalChain(node)) return false;
  const callee = node.expression;
  if (!ts.isPropertyAccessExpression(callee)) return false;
  if (!ts.isIdentifier(callee.name)) return false;
  return !names || names.includes(callee.name.text);
}

/** `receiver.name(args)` → its parts; undefined for any other call (or optional calls). */
export function methodCall(
  ts: TypeScript,
  node: TS.Node,
  names?: readonly string[],
): { receiver: TS.Expression; name: string; call: MethodCall } | undefined {
  if (!isMethodCall(ts, node, names)) return undefined;
  return { receiver: node.expression.expression, name: node.expression.name.text, call: node };
}

/** `Global.name(…)` with `Global` an identifier, e.g. `JSON.parse` (shadowing is not checked). */
export function isStaticCall(
  ts: TypeScript,
  node: TS.Node,
  object: string,
  name: string,
): node is MethodCall {
  if (!isMethodCall(ts, node, [name])) return false;
  const receiver = node.expression.expression;
  return ts.isIdentifier(receiver) && receiver.text === object;
}

export function isFunctionLiteral(
  ts: TypeScript,
  node: TS.Node,
): node is TS.ArrowFunction | TS.FunctionExpression {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

/** `async` or a generator: calling it returns a promise or an iterator, not its result. */
export function isAsyncOrGenerator(
  ts: TypeScript,
  fn: TS.FunctionLikeDeclaration,
): 'async' | 'generator' | undefined {
  if (fn.asteriskToken) return 'generator';
  const mods = ts.canHaveModifiers(fn) ? ts.getModifiers(fn) : undefined;
  return mods?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ? 'async' : undefined;
}

/** A literal of a primitive value that is never NaN: strings, numbers, `-1`, bigints, booleans, null. */
export function isPrimitiveLiteral(ts: TypeScript, node: TS.Expression): boolean {
  const n = unwrap(ts, node);
  return (
    ts.isStringLiteral(n) ||
    ts.isNumericLiteral(n) ||
    ts.isNoSubstitutionTemplateLiteral(n) ||
    ts.isBigIntLiteral(n) ||
    n.kind === ts.SyntaxKind.TrueKeyword ||
    n.kind === ts.SyntaxKind.FalseKeyword ||
    n.kind === ts.SyntaxKind.NullKeyword ||
    (ts.isPrefixUnaryExpression(n) &&
      n.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(n.operand))
  );
}

/** Any literal token (strings, numbers, bigints, regexes, plain templates) or true/false/null. */
export function isLiteralValue(ts: TypeScript, n: TS.Node): boolean {
  return (
    ts.isLiteralExpression(n) ||
    n.kind === ts.SyntaxKind.TrueKeyword ||
    n.kind === ts.SyntaxKind.FalseKeyword ||
    n.kind === ts.SyntaxKind.NullKeyword
  );
}

/** The numeric literal `value` (`0`, `1`), through parentheses. */
export function isNumberLiteral(ts: TypeScript, node: TS.Expression, value: string): boolean {
  const n = unwrap(ts, node);
  return ts.isNumericLiteral(n) && n.text === value;
}

/** Is the declaration a `const` variable? */
export function isConstDeclaration(
  ts: TypeScript,
  d: TS.Node | undefined,
): d is TS.VariableDeclaration {
  return (
    d !== undefined &&
    ts.isVariableDeclaration(d) &&
    ts.isVariableDeclarationList(d.parent) &&
    (d.parent.flags & ts.NodeFlags.Const) !== 0
  );
}

export function hasModifier(ts: TypeScript, node: TS.Node, kind: TS.SyntaxKind): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return mods?.some((m) => m.kind === kind) ?? false;
}

/** Is the statement or declaration `export`ed by a modifier on it? */
export function hasExportModifier(ts: TypeScript, node: TS.Node): boolean {
  return hasModifier(ts, node, ts.SyntaxKind.ExportKeyword);
}

/** The identifiers a binding name declares (`a`, `{ a, b: [c] }` → a, c). */
export function bindingNames(
  ts: TypeScript,
  name: TS.BindingName,
  out: TS.Identifier[] = [],
): TS.Identifier[] {
  if (ts.isIdentifier(name)) out.push(name);
  else
    for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(ts, el.name, out);
  return out;
}

export function isAssignmentOperator(ts: TypeScript, kind: TS.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** An object or array literal that is an assignment pattern (`[a, b] = …`, `for ({ x } of …)`). */
function isAssignmentPattern(ts: TypeScript, literal: TS.Node): boolean {
  let n = literal;
  let p = n.parent;
  // Nested patterns: `[a, [b]] = …`, `({ k: { x } } = …)`, `[...rest] = …`.
  while (
    ts.isPropertyAssignment(p) ||
    ts.isShorthandPropertyAssignment(p) ||
    ts.isSpreadAssignment(p) ||
    ts.isSpreadElement(p) ||
    ts.isArrayLiteralExpression(p) ||
    ts.isObjectLiteralExpression(p) ||
    ts.isParenthesizedExpression(p)
  ) {
    n = p;
    p = p.parent;
  }
  if (ts.isBinaryExpression(p))
    return p.left === n && p.operatorToken.kind === ts.SyntaxKind.EqualsToken;
  return (ts.isForOfStatement(p) || ts.isForInStatement(p)) && p.initializer === n;
}

/**
 * Is `node` written: the target of an assignment (also inside a destructuring pattern or as a
 * `for…of`/`for…in` variable), of `++`/`--`, or of `delete`?
 */
export function isWriteTarget(ts: TypeScript, node: TS.Node): boolean {
  const n = outerExpression(ts, node);
  const p = n.parent;
  if (ts.isBinaryExpression(p)) {
    if (p.left !== n) return false;
    if (isAssignmentOperator(ts, p.operatorToken.kind)) return true;
    return false;
  }
  if (ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) {
    return (
      p.operator === ts.SyntaxKind.PlusPlusToken || p.operator === ts.SyntaxKind.MinusMinusToken
    );
  }
  if (ts.isDeleteExpression(p)) return true;
  if (ts.isForOfStatement(p) || ts.isForInStatement(p)) return p.initializer === n;
  if (
    (ts.isShorthandPropertyAssignment(p) && p.name === n) ||
    (ts.isPropertyAssignment(p) && p.initializer === n) ||
    ts.isSpreadAssignment(p) ||
    ts.isSpreadElement(p) ||
    ts.isArrayLiteralExpression(p)
  )
    return isAssignmentPattern(ts, n);
  return false;
}

/** The nearest function-like node around `node` (undefined at module level). */
export function enclosingFunction(
  ts: TypeScript,
  node: TS.Node,
): TS.SignatureDeclaration | undefined {
  for (let p = node.parent; p; p = p.parent) if (ts.isFunctionLike(p)) return p;
  return undefined;
}

/** The expressions a function returns: its expression body, or its own `return`s. */
export function returnedExpressions(
  ts: TypeScript,
  fn: TS.FunctionLikeDeclaration,
): TS.Expression[] {
  const body = fn.body;
  if (!body) return [];
  if (!ts.isBlock(body)) return [body];
  const out: TS.Expression[] = [];
  const visit = (n: TS.Node): void => {
    if (ts.isFunctionLike(n)) return;
    if (ts.isReturnStatement(n) && n.expression) out.push(n.expression);
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(body, visit);
  return out;
}

/** Array methods that call their callback once per element. */
export const ITERATION_METHODS = new Set([
  'map',
  'filter',
  'forEach',
  'reduce',
  'reduceRight',
  'some',
  'every',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'flatMap',
  'sort',
  'toSorted',
]);

/** `for`, `for…of`, `for…in`, `while`, `do`. */
export function isLoop(ts: TypeScript, node: TS.Node): node is TS.IterationStatement {
  return ts.isIterationStatement(node, false);
}

/** A function literal passed to `.map`, `.forEach`, …: its body runs once per element. */
export function isIterationCallback(ts: TypeScript, node: TS.Node): boolean {
  if (!isFunctionLiteral(ts, node)) return false;
  const call = node.parent;
  if (!ts.isCallExpression(call) || !call.arguments.includes(node)) return false;
  const callee = call.expression;
  return ts.isPropertyAccessExpression(callee) && ITERATION_METHODS.has(callee.name.text);
}

/** Loops and iteration callbacks around `node`, counted through its parents (all functions). */
export function loopDepthOf(ts: TypeScript, node: TS.Node): number {
  let depth = 0;
  for (let n = node.parent; n; n = n.parent)
    if (isLoop(ts, n) || isIterationCallback(ts, n)) depth++;
  return depth;
}

/** The nearest loop or iteration callback around `node` inside its own function, if any. */
export function enclosingLoop(ts: TypeScript, node: TS.Node): TS.Node | undefined {
  for (let n = node.parent; n; n = n.parent) {
    if (isLoop(ts, n) || isIterationCallback(ts, n)) return n;
    if (ts.isFunctionLike(n)) return undefined;
  }
  return undefined;
}

/** `/source/flags` of a regex literal. */
export function regexParts(text: string): { source: string; flags: string } {
  const slash = text.lastIndexOf('/');
  return { source: text.slice(1, slash), flags: text.slice(slash + 1) };
}

/** Flags with which a regex keeps `lastIndex` state between uses (`g`, `y`), as written. */
export function statefulFlags(flags: string): string {
  return flags.replace(/[^gy]/g, '');
}

/** The text a regex source matches literally, or undefined if it has any metacharacter. */
function literalText(source: string): string | undefined {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      // Escaped punctuation is literal; `\d`, `\b`, `\n`… are classes or escapes.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return undefined;
      out += next;
      i++;
    } else if ('^$.|?*+()[]{}/'.includes(c)) {
      return undefined;
    } else {
      out += c;
    }
  }
  return out === '' ? undefined : out;
}

export interface LiteralRegex {
  /** The string method (or `===` for `^…$`) that answers what `.test` answers. */
  method: 'startsWith' | 'endsWith' | 'includes' | '===';
  /** The text matched, unescaped (`/\.js$/` → `.js`). */
  literal: string;
}

/**
 * What a flagless regex that only matches literal text (`/^abc/`, `/\.js$/`, `/^v1$/`) tests
 * for; undefined when it has flags or any metacharacter.
 */
export function literalRegex(text: string): LiteralRegex | undefined {
  const { source, flags } = regexParts(text);
  if (flags !== '') return undefined;
  const anchoredStart = source.startsWith('^');
  const anchoredEnd = source.endsWith('$') && !source.endsWith('\\$');
  const literal = literalText(source.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined));
  if (literal === undefined) return undefined;
  const method =
    anchoredStart && anchoredEnd
      ? '==='
      : anchoredStart
        ? 'startsWith'
        : anchoredEnd
          ? 'endsWith'
          : 'includes';
  return { method, literal };
}

/** `text` as a single-quoted JavaScript string literal. */
export function quoteString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}
