/**
 * Guards that a scanner rule and its template both apply. Sharing them makes the scanner report
 * only what the template will rewrite, and keeps the template's refusal reasons (the strings
 * returned here) the ones a user sees.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import { impurityOf } from './purity.js';
import {
  findDeclaration,
  isDeclarationName,
  isGlobal,
  isModuleLevel,
  isReference,
  references,
  resolveVariable,
} from './scope.js';
import {
  enclosingFunction,
  hasExportModifier,
  isConstDeclaration,
  isFunctionLiteral,
  isPrimitiveLiteral,
  isWriteTarget,
  lineOf,
  outerExpression,
  unwrap,
  type MethodCall,
} from './syntax.js';
import { isBooleanContext } from './values.js';

// --- Callbacks ---------------------------------------------------------------------------

/** The single callback argument of an array method, if it is an inline pure function. */
export function pureCallbackOf(
  ts: TypeScript,
  call: TS.CallExpression,
): TS.ArrowFunction | TS.FunctionExpression | string {
  const cb = call.arguments[0];
  if (call.arguments.length !== 1 || !cb) return 'the callback is not the only argument';
  if (!isFunctionLiteral(ts, cb))
    return 'the callback is not an inline function, so its purity cannot be proven';
  const impure = impurityOf(ts, cb);
  return impure ? `the callback is impure: ${impure}` : cb;
}

/** `.length OP n` comparisons that only ask "any?" (`some`) or "none?" (`none`). */
const EMPTINESS: Readonly<Record<string, 'some' | 'none'>> = {
  '>0': 'some',
  '!==0': 'some',
  '!=0': 'some',
  '>=1': 'some',
  '===0': 'none',
  '==0': 'none',
  '<1': 'none',
};

const FLIPPED: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

export interface LengthComparison {
  /** The `.length` read, on either side of the comparison. */
  length: TS.PropertyAccessExpression;
  /** `n OP length` turned around to `length OP' n`, e.g. `>0`, `<=3`. */
  comparison: string;
  /** What it asks about emptiness, if that is all it asks. */
  test?: 'some' | 'none';
}

/** `x.length OP n` or `n OP x.length`, with `n` a number literal. */
export function lengthComparison(
  ts: TypeScript,
  b: TS.BinaryExpression,
): LengthComparison | undefined {
  const op = ts.tokenToString(b.operatorToken.kind);
  if (!op) return undefined;
  const sides: [TS.Expression, TS.Expression, string][] = [
    [b.left, b.right, op],
    [b.right, b.left, FLIPPED[op] ?? op],
  ];
  for (const [side, other, o] of sides) {
    const length = unwrap(ts, side);
    const n = unwrap(ts, other);
    if (!ts.isPropertyAccessExpression(length) || length.name.text !== 'length') continue;
    if (!ts.isNumericLiteral(n)) continue;
    const comparison = `${o}${n.text}`;
    return { length, comparison, test: EMPTINESS[comparison] };
  }
  return undefined;
}

// --- Module-level constant lists ---------------------------------------------------------

/** `NAME.includes(x)`: the identifier is the receiver of a one-argument `includes` call. */
export function isIncludesReceiver(ts: TypeScript, id: TS.Identifier): boolean {
  const access = id.parent;
  return (
    ts.isPropertyAccessExpression(access) &&
    access.expression === id &&
    access.name.text === 'includes' &&
    !access.questionDotToken &&
    ts.isCallExpression(access.parent) &&
    access.parent.expression === access &&
    access.parent.arguments.length === 1
  );
}

/**
 * Why the array `decl` declares cannot become a Set whose every use is `.has(x)`, or
 * undefined. `named` is every identifier in the file with the declaration's name.
 */
export function setHasProblem(
  ts: TypeScript,
  decl: TS.VariableDeclaration,
  named: readonly TS.Identifier[],
): string | undefined {
  if (!ts.isIdentifier(decl.name)) return 'no array declaration found at the position';
  const name = decl.name.text;
  if (!isConstDeclaration(ts, decl)) return `${name} is not const`;
  if (decl.type) return `${name} has a type annotation the Set would contradict`;
  if (!decl.initializer || !ts.isArrayLiteralExpression(unwrap(ts, decl.initializer)))
    return `${name} is not initialised with an array literal`;
  if (!isModuleLevel(ts, decl))
    return `${name} is not declared at module level: a Set built on every call costs more than it saves`;
  if (named.filter((id) => isDeclarationName(ts, id)).length !== 1)
    return `${name} is declared more than once (shadowed)`;
  const statement = decl.parent.parent;
  const refs = named.filter((id) => isReference(ts, id));
  if (
    hasExportModifier(ts, statement) ||
    refs.some((r) => ts.isExportSpecifier(r.parent) || ts.isExportAssignment(r.parent))
  )
    return `${name} is exported`;
  if (refs.length === 0) return `${name} is never used`;
  const other = refs.find((r) => !isIncludesReceiver(ts, r));
  if (other) {
    const sf = decl.getSourceFile();
    return `${name} is used other than as \`.includes(x)\` (line ${lineOf(sf, other)}: ${other.parent.getText(sf)})`;
  }
  return undefined;
}

// --- Hoisting JSON.parse -----------------------------------------------------------------

/** Methods that change their receiver in place. */
const MUTATING_METHODS = new Set([
  'push',
  'pop',
  'shift',
  'unshift',
  'splice',
  'sort',
  'reverse',
  'fill',
  'copyWithin',
  'set',
  'add',
  'delete',
  'clear',
  'assign',
  'defineProperty',
]);

/** Methods that read an object without changing it or handing any part of it out. */
const READ_ONLY_METHODS = new Set([
  'includes',
  'indexOf',
  'lastIndexOf',
  'has',
  'hasOwnProperty',
  'join',
  'toString',
  'toLocaleString',
]);

const UNKNOWN = Symbol('unknown');

/** What a static property path reads from a known value (`UNKNOWN` when not static). */
function step(value: unknown, key: string | undefined): unknown {
  if (key === undefined || value === UNKNOWN) return UNKNOWN;
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  if (key === 'length' && (Array.isArray(value) || typeof value === 'string')) return value.length;
  return UNKNOWN;
}

const isPrimitiveValue = (v: unknown): boolean =>
  v !== UNKNOWN && (typeof v !== 'object' || v === null);

/** Uses that only inspect a value, whatever it is: nothing can keep or change it there. */
function isInspection(ts: TypeScript, node: TS.Node): boolean {
  const p = node.parent;
  if (ts.isExpressionStatement(p) || ts.isTypeOfExpression(p) || ts.isVoidExpression(p))
    return true;
  if (ts.isPrefixUnaryExpression(p) || ts.isTemplateSpan(p)) return true;
  if (ts.isBinaryExpression(p)) {
    const k = p.operatorToken.kind;
    if (
      k !== ts.SyntaxKind.AmpersandAmpersandToken &&
      k !== ts.SyntaxKind.BarBarToken &&
      k !== ts.SyntaxKind.QuestionQuestionToken &&
      k !== ts.SyntaxKind.CommaToken &&
      !(k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment)
    )
      return true;
  }
  return isBooleanContext(ts, node);
}

/**
 * Why one value, shared by every call from now on, could behave differently from a fresh one
 * at `expr`: it, or a part of it reached through property reads, is mutated or escapes to code
 * that might mutate it. `value` is what `expr` evaluates to: reads that end on a primitive may
 * go anywhere.
 */
export function sharedValueProblem(
  ts: TypeScript,
  expr: TS.Expression,
  value: unknown,
): string | undefined {
  let top = outerExpression(ts, expr);
  let current = value;
  let receiver = value;
  for (;;) {
    const access = top.parent;
    if (
      !(ts.isPropertyAccessExpression(access) || ts.isElementAccessExpression(access)) ||
      access.expression !== top
    )
      break;
    const arg = ts.isElementAccessExpression(access) ? access.argumentExpression : undefined;
    const key = ts.isPropertyAccessExpression(access)
      ? access.name.text
      : arg && (ts.isStringLiteral(arg) || ts.isNumericLiteral(arg))
        ? arg.text
        : undefined;
    receiver = current;
    current = step(current, key);
    top = outerExpression(ts, access);
  }
  const p = top.parent;
  if (isWriteTarget(ts, top)) {
    return ts.isBinaryExpression(p) && p.left === top
      ? `it is assigned to (${p.getText()})`
      : `it is mutated (${p.getText().slice(0, 60)})`;
  }
  const callee = unwrap(ts, top as TS.Expression);
  if (ts.isCallExpression(p) && p.expression === top && ts.isPropertyAccessExpression(callee)) {
    const method = callee.name.text;
    if (MUTATING_METHODS.has(method)) return `it is mutated by .${method}()`;
    if (isPrimitiveValue(receiver) || READ_ONLY_METHODS.has(method)) return undefined;
    return `it is handed to .${method}(), which could change it or give parts of it away`;
  }
  if (isPrimitiveValue(current) || isInspection(ts, top)) return undefined;
  return `it escapes (${p.getText().slice(0, 60)}), where it could be mutated`;
}

/** A string literal, or a module-level `const` bound to one (it exists when the module loads). */
function constantString(
  ts: TypeScript,
  expr: TS.Expression,
): { literal: TS.StringLiteral | TS.NoSubstitutionTemplateLiteral; constant?: string } | undefined {
  const e = unwrap(ts, expr);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return { literal: e };
  if (!ts.isIdentifier(e)) return undefined;
  const d = resolveVariable(ts, e);
  if (!isConstDeclaration(ts, d) || !d.initializer || !isModuleLevel(ts, d)) return undefined;
  const init = unwrap(ts, d.initializer);
  if (!ts.isStringLiteral(init) && !ts.isNoSubstitutionTemplateLiteral(init)) return undefined;
  return { literal: init, constant: e.text };
}

export interface JsonHoist {
  /** The argument as written. */
  text: TS.Expression;
  /** The module-level constant it names, if it is one (the hoisted parse must follow it). */
  constant?: string;
  /** The local `const` the result is bound to, if any. */
  binding?: TS.Identifier;
}

/**
 * `JSON.parse(constant)` inside a function → parsed once at module level: why that could change
 * behaviour (the reason), or what the rewrite needs. The text must be a literal or a
 * module-level constant, valid JSON, and the result only ever read.
 */
export function jsonParseHoist(ts: TypeScript, call: MethodCall): JsonHoist | string {
  if (!isGlobal(ts, call, 'JSON')) return '`JSON` is shadowed here';
  const arg = call.arguments[0];
  if (call.arguments.length !== 1 || !arg) return 'JSON.parse has a reviver or no argument';
  const constant = constantString(ts, arg);
  if (!constant) return 'the parsed text is not a constant string';
  let parsed: unknown;
  try {
    parsed = JSON.parse(constant.literal.text);
  } catch {
    return 'the constant string is not valid JSON (parsing it at load time would throw early)';
  }
  const fn = enclosingFunction(ts, call);
  if (!fn) return 'the call is already at module level';
  const bound = outerExpression(ts, call);
  const decl = bound.parent;
  if (ts.isVariableDeclaration(decl) && decl.initializer === bound) {
    if (!ts.isIdentifier(decl.name)) return 'the parsed result is destructured';
    const name = decl.name.text;
    if (!isConstDeclaration(ts, decl)) return `the parsed result \`${name}\` is not const`;
    for (const ref of references(ts, fn, name)) {
      const why = sharedValueProblem(ts, ref, parsed);
      if (why) return `the parsed result \`${name}\` is not read-only: ${why}`;
    }
    return { text: arg, constant: constant.constant, binding: decl.name };
  }
  const why = sharedValueProblem(ts, call, parsed);
  if (why) return `the parsed result is not read-only: ${why}`;
  return { text: arg, constant: constant.constant };
}

// --- Appending in place ------------------------------------------------------------------

/**
 * `name = [...name, a, b]` → `name.push(a, b)`: why that could change behaviour, or undefined.
 * The array must be a fresh local literal nobody else holds or iterates, and every value
 * assigned to the variable a fresh literal too.
 */
export function spreadPushProblem(ts: TypeScript, assign: TS.BinaryExpression): string | undefined {
  const name = (assign.left as TS.Identifier).text;
  const array = unwrap(ts, assign.right) as TS.ArrayLiteralExpression;
  const [first, ...rest] = array.elements;
  if (
    !first ||
    !ts.isSpreadElement(first) ||
    !ts.isIdentifier(unwrap(ts, first.expression)) ||
    (unwrap(ts, first.expression) as TS.Identifier).text !== name
  )
    return `the new array does not start with \`...${name}\``;
  if (rest.some((e) => ts.isOmittedExpression(e) || references(ts, e, name).length > 0))
    return `the appended values read \`${name}\` or leave holes`;
  if (rest.some((e) => ts.isSpreadElement(e)))
    return 'an appended spread could exceed the argument limit of push';
  if (!ts.isExpressionStatement(outerExpression(ts, assign).parent))
    return 'the assignment is used as a value';
  const fn = enclosingFunction(ts, assign);
  const decl = findDeclaration(ts, assign, name);
  if (!decl || !fn || enclosingFunction(ts, decl) !== fn)
    return `\`${name}\` is not a local variable of the enclosing function`;
  if (
    !ts.isVariableDeclaration(decl) ||
    !ts.isIdentifier(decl.name) ||
    !decl.initializer ||
    !ts.isArrayLiteralExpression(unwrap(ts, decl.initializer))
  )
    return `\`${name}\` does not start as a fresh array literal (it could be aliased or frozen)`;
  if (isConstDeclaration(ts, decl)) return `\`${name}\` is const`;
  // Each use must not keep a second handle on the array (push would change what it sees).
  for (const ref of references(ts, fn, name)) {
    const use = outerExpression(ts, ref);
    const p = use.parent;
    if (ts.isBinaryExpression(p) && p.left === use) {
      if (
        p.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isArrayLiteralExpression(unwrap(ts, p.right))
      )
        continue;
      return `\`${name}\` is also assigned something other than a fresh array (${p.getText().slice(0, 60)})`;
    }
    if (ts.isSpreadElement(p) || ts.isReturnStatement(p)) continue;
    if (
      (ts.isPropertyAccessExpression(p) || ts.isElementAccessExpression(p)) &&
      p.expression === use &&
      !isWriteTarget(ts, p)
    )
      continue;
    if (ts.isForOfStatement(p) || ts.isForInStatement(p)) {
      return `a loop iterates over \`${name}\` itself; appending in place would change the iteration`;
    }
    return `\`${name}\` may be aliased (${p.getText().slice(0, 60)})`;
  }
  return undefined;
}

// --- Timers ------------------------------------------------------------------------------

/** Timers and how many arguments they take before the forwarded ones. */
export const TIMER_ARITY: Readonly<Record<string, number>> = {
  setTimeout: 2,
  setInterval: 2,
  setImmediate: 1,
};

/**
 * A value that is the same when the timer is set and when it fires: a primitive literal, a
 * `const`, or a function declaration the file never reassigns. Imports are live bindings their
 * module may reassign, so they do not count.
 */
function isStable(ts: TypeScript, e: TS.Expression): boolean {
  if (isPrimitiveLiteral(ts, e)) return true;
  const id = unwrap(ts, e);
  if (!ts.isIdentifier(id)) return false;
  const d = findDeclaration(ts, id, id.text);
  if (isConstDeclaration(ts, d)) return true;
  if (!d || !ts.isFunctionDeclaration(d)) return false;
  return !references(ts, d.getSourceFile(), id.text).some((r) => isWriteTarget(ts, r));
}

export interface TimerForward {
  timer: string;
  /** The forwarding closure's call: `fn(a, b)` in `setTimeout(() => fn(a, b), t)`. */
  inner: TS.CallExpression & { expression: TS.Identifier };
}

/**
 * `setTimeout(() => fn(a), t)` → `setTimeout(fn, t, a)`: the parts, or why it could change
 * behaviour. The arguments move from fire time to scheduling time, so they must be stable.
 */
export function timerForward(ts: TypeScript, call: TS.CallExpression): TimerForward | string {
  if (!ts.isIdentifier(call.expression) || !(call.expression.text in TIMER_ARITY))
    return 'no timer call at the position';
  const timer = call.expression.text;
  if (!isGlobal(ts, call, timer)) return `\`${timer}\` is shadowed`;
  if (call.arguments.length !== TIMER_ARITY[timer])
    return `${timer} already passes extra arguments or lacks a delay`;
  const cb = call.arguments[0]!;
  if (!ts.isArrowFunction(cb) || cb.parameters.length > 0)
    return 'the callback is not a parameterless arrow function';
  let body: TS.Node = cb.body;
  if (ts.isBlock(body)) {
    const only = body.statements[0];
    if (body.statements.length !== 1 || !only || !ts.isExpressionStatement(only))
      return 'the callback does more than one call';
    body = only.expression;
  }
  const inner = unwrap(ts, body as TS.Expression);
  if (!ts.isCallExpression(inner) || !ts.isIdentifier(inner.expression))
    return 'the callback does not call a plain function (a method would lose `this`)';
  if (!isStable(ts, inner.expression))
    return `\`${inner.expression.text}\` is not a const or function declaration`;
  const bad = inner.arguments.find((a) => !isStable(ts, a));
  if (bad)
    return `argument \`${bad.getText()}\` is not side-effect free and constant (a literal or a const)`;
  return { timer, inner: inner as TimerForward['inner'] };
}

// --- The clock ---------------------------------------------------------------------------

/**
 * The `new Date()` (no arguments) that `new Date().getTime()`, `.valueOf()`, `+new Date()` or
 * `Number(new Date())` reads the clock through; undefined for anything else. Whether `Date`
 * and `Number` are the globals is the caller's check.
 */
export function dateNowOperand(ts: TypeScript, node: TS.Node): TS.NewExpression | undefined {
  let operand: TS.Expression | undefined;
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.PlusToken)
    operand = node.operand;
  else if (ts.isCallExpression(node) && !ts.isOptionalChain(node)) {
    const callee = node.expression;
    if (
      ts.isPropertyAccessExpression(callee) &&
      (callee.name.text === 'getTime' || callee.name.text === 'valueOf') &&
      node.arguments.length === 0
    )
      operand = callee.expression;
    else if (ts.isIdentifier(callee) && callee.text === 'Number' && node.arguments.length === 1)
      operand = node.arguments[0];
  }
  const e = operand && unwrap(ts, operand);
  return e &&
    ts.isNewExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'Date' &&
    (e.arguments?.length ?? 0) === 0
    ? e
    : undefined;
}
