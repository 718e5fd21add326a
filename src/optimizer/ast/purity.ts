/**
 * Purity without a type checker: may calling this function fewer times, in another order or
 * once for many callers change anything? One walker serves the callback rules (`.some`,
 * `.find`, fused loops) and memoization, so the scanner never reports what the template then
 * refuses, and neither is looser than the other.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import {
  constInitializer,
  declarations,
  findDeclaration,
  isDeclarationName,
  isGlobal,
  isModuleLevel,
  isReference,
  references,
} from './scope.js';
import {
  enclosingFunction,
  hasModifier,
  isAssignmentOperator,
  isConstDeclaration,
  isAsyncOrGenerator,
  isFunctionLiteral,
  isWriteTarget,
  regexParts,
  returnedExpressions,
  statefulFlags,
  unwrap,
  walk,
} from './syntax.js';
import { regexLiteralOf } from './values.js';

/**
 * Methods that neither mutate their receiver nor have other effects on the usual built-ins,
 * whatever the receiver. Only what the scanner and the templates both accepted when each had
 * its own list (the stricter of the two): `test` is out because it moves a g-flag regex's
 * `lastIndex`; `some`, `map`, `normalize`… are out until a case shows they are worth adding.
 */
const PURE_METHODS = new Set([
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'has',
  'get',
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimStart',
  'trimEnd',
  'slice',
  'substring',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'at',
  'toString',
  'toFixed',
  'localeCompare',
  'padStart',
  'padEnd',
  'repeat',
  'split',
  'concat',
  'join',
]);

/**
 * Methods whose only argument that runs code is a callback: pure when that callback is an inline
 * function (the walk checks its body as part of the caller's) or absent, never when it is a
 * reference to code the walk cannot see. None of them mutates its receiver.
 */
const CALLBACK_METHODS = new Set([
  'map',
  'filter',
  'some',
  'every',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'reduce',
  'reduceRight',
  'flatMap',
  'forEach',
]);

/**
 * Regular-expression methods: pure when no regex involved keeps `lastIndex` state, that is when
 * the regex is a literal (or a `const` bound to one) without `g`/`y`, or the pattern is a string.
 * A `g` literal written inline is fresh on every evaluation, so its state is nobody else's.
 */
const REGEX_RECEIVER_METHODS = new Set(['test', 'exec']);
const REGEX_ARGUMENT_METHODS = new Set(['match', 'replace', 'replaceAll', 'search']);

/** Pure members of the global namespaces; any other member of these is treated as impure. */
const PURE_STATICS: Readonly<Record<string, ReadonlySet<string>>> = {
  Math: new Set([
    'abs',
    'floor',
    'ceil',
    'round',
    'trunc',
    'min',
    'max',
    'sqrt',
    'pow',
    'sign',
    'log',
    'log2',
    'log10',
    'exp',
    'sin',
    'cos',
    'tan',
    'atan2',
    'hypot',
    'cbrt',
    'fround',
    'imul',
    'clz32',
  ]),
  Number: new Set(['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'parseFloat', 'parseInt']),
  Array: new Set(['isArray']),
  Object: new Set(['keys', 'values', 'entries', 'is']),
  String: new Set(['fromCharCode', 'fromCodePoint']),
};

/** Global conversions a callback may call (a memoized body may call only itself by name). */
const PURE_FUNCTIONS = new Set(['Number', 'String', 'Boolean', 'parseInt', 'parseFloat', 'isNaN']);

/** Globals a memoized body may read besides its arguments and module-level constants. */
const PURE_GLOBALS = new Set(['Math', 'Number', 'String', 'Infinity', 'NaN', 'undefined']);

/** Type annotations of values a cache may key on and hand out to several callers. */
const PRIMITIVE_TYPES = new Set(['number', 'string', 'boolean', 'bigint']);

export function isPrimitiveType(type: string | undefined): boolean {
  return type !== undefined && PRIMITIVE_TYPES.has(type);
}

/**
 * Globals a callback may construct: a fresh object no one else holds, built without running
 * user code (`new Set(x)` iterates `x`, which may run a user iterator: only `new Set()` or of an
 * array literal). `new Date()` without arguments reads the clock and is left out.
 */
function isPureConstruction(ts: TypeScript, n: TS.NewExpression): boolean {
  if (!ts.isIdentifier(n.expression) || !isGlobal(ts, n, n.expression.text)) return false;
  const args = n.arguments ?? [];
  switch (n.expression.text) {
    case 'RegExp':
    case 'Error':
    case 'TypeError':
    case 'RangeError':
      return true;
    case 'Date':
      return args.length > 0;
    case 'Set':
    case 'Map':
      return args.length === 0 || (args.length === 1 && ts.isArrayLiteralExpression(args[0]!));
    default:
      return false;
  }
}

/** A regex used at `e` has no `lastIndex` state another evaluation could see. */
function isStatelessPattern(ts: TypeScript, e: TS.Expression | undefined): boolean {
  if (!e) return false;
  const n = unwrap(ts, e);
  if (ts.isStringLiteralLike(n)) return true;
  if (ts.isRegularExpressionLiteral(n)) {
    // Inline: a fresh object on every evaluation. `test`/`exec` on it still read lastIndex 0.
    return true;
  }
  const re = regexLiteralOf(ts, n);
  return re !== undefined && statefulFlags(regexParts(re.text).flags) === '';
}

function isPureCallee(
  ts: TypeScript,
  call: TS.CallExpression,
  callee: TS.Expression,
  self: string | undefined,
  visiting: Set<TS.Node>,
): boolean {
  if (ts.isIdentifier(callee)) {
    if (self !== undefined && callee.text === self) return true;
    if (self === undefined && PURE_FUNCTIONS.has(callee.text) && isGlobal(ts, call, callee.text))
      return true;
    return pureHelper(ts, callee, self !== undefined, visiting);
  }
  if (!ts.isPropertyAccessExpression(callee)) return false;
  const method = callee.name.text;
  const receiver = callee.expression;
  // Own keys only: `toString.call(x)` must not find Object.prototype.toString here.
  const statics = ts.isIdentifier(receiver) && Object.hasOwn(PURE_STATICS, receiver.text);
  if (statics && isGlobal(ts, call, receiver.text)) return PURE_STATICS[receiver.text]!.has(method);
  if (PURE_METHODS.has(method)) return true;
  // Memoization keeps to the short list: its callers share one result.
  if (self !== undefined) return false;
  if (CALLBACK_METHODS.has(method)) {
    const [cb, ...rest] = call.arguments;
    return cb !== undefined && isFunctionLiteral(ts, unwrap(ts, cb)) && rest.length <= 1;
  }
  if (REGEX_RECEIVER_METHODS.has(method)) {
    const re = unwrap(ts, receiver);
    // An inline `g` literal is fresh, but `test` on it still depends on nothing shared.
    return (
      ts.isRegularExpressionLiteral(re) ||
      (isStatelessPattern(ts, re) && regexLiteralOf(ts, re) !== undefined)
    );
  }
  if (REGEX_ARGUMENT_METHODS.has(method)) {
    const [pattern, replacement] = call.arguments;
    if (!isStatelessPattern(ts, pattern)) return false;
    // A replacement function runs user code: only an inline one (the walk checks it).
    if (replacement === undefined) return true;
    const r = unwrap(ts, replacement);
    return (
      ts.isStringLiteralLike(r) ||
      ts.isTemplateExpression(r) ||
      isFunctionLiteral(ts, r) ||
      (ts.isBinaryExpression(r) &&
        r.operatorToken.kind === ts.SyntaxKind.PlusToken &&
        (ts.isStringLiteralLike(unwrap(ts, r.left)) || ts.isStringLiteralLike(unwrap(ts, r.right))))
    );
  }
  return false;
}

/**
 * A call by name to a function declared once at module level in this file, never reassigned,
 * whose own body is pure by the same rules (for memoization: `memoizeBlocker`'s, so it also
 * reads only constants and builds nothing). Recursion between helpers is cut by `visiting`.
 */
function pureHelper(
  ts: TypeScript,
  callee: TS.Identifier,
  forMemo: boolean,
  visiting: Set<TS.Node>,
): boolean {
  const d = findDeclaration(ts, callee, callee.text);
  if (!d) return false;
  let fn: TS.FunctionLikeDeclaration | undefined;
  if (ts.isFunctionDeclaration(d) && d.body && ts.isSourceFile(d.parent)) fn = d;
  else if (ts.isVariableDeclaration(d) && d.initializer && isModuleLevel(ts, d)) {
    const init = unwrap(ts, d.initializer);
    if (isConstDeclaration(ts, d) && isFunctionLiteral(ts, init)) fn = init;
  }
  if (!fn) return false;
  const sf = callee.getSourceFile();
  if (declarations(ts, sf, callee.text).length !== 1) return false;
  if (references(ts, sf, callee.text).some((r) => isWriteTarget(ts, r))) return false;
  if (visiting.has(fn)) return true; // assumed while it is being checked: recursion adds nothing
  visiting.add(fn);
  const problem = forMemo
    ? memoizeBlocker(ts, fn, callee.text, visiting)
    : impurityOf(ts, fn, undefined, visiting);
  return problem === undefined;
}

/**
 * Is `id` (being written) a binding of `fn`'s own: one of its parameters, or a variable or
 * function declared inside it? Resolved by scope, so an outer variable that merely shares the
 * name of some inner one is not mistaken for a local.
 */
function isOwnBinding(ts: TypeScript, fn: TS.Node, id: TS.Identifier): boolean {
  const d = findDeclaration(ts, id, id.text);
  if (!d || d === fn || d.pos < fn.pos || d.end > fn.end) return false;
  if (ts.isParameter(d)) return d.parent === fn;
  return ts.isVariableDeclaration(d) || ts.isFunctionDeclaration(d);
}

/** Every function from `node` up to and including `fn` is an arrow (so `this` is the caller's). */
function lexicalUpTo(ts: TypeScript, node: TS.Node, fn: TS.Node): boolean {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n) && !ts.isArrowFunction(n)) return false;
    if (n === fn) return true;
  }
  return false;
}

/**
 * Why calling `fn` may have a visible effect, or undefined when syntax shows none: it is not
 * async or a generator; it writes only its own locals; it has no `this`, `await`, `yield`,
 * `delete`, `new` or tagged template; it calls only well-known pure built-ins. With `self`
 * (memoization), the only function it may call by name is itself.
 */
export function impurityOf(
  ts: TypeScript,
  fn: TS.FunctionLikeDeclaration,
  self?: string,
  visiting: Set<TS.Node> = new Set([fn]),
): string | undefined {
  const kind = isAsyncOrGenerator(ts, fn);
  if (kind) return kind === 'async' ? 'it is async' : 'it is a generator';
  let reason: string | undefined;
  const local = (e: TS.Expression): boolean => ts.isIdentifier(e) && isOwnBinding(ts, fn, e);
  walk(ts, fn, (n) => {
    if (reason) return;
    if (ts.isBinaryExpression(n)) {
      // Destructuring (`[a, b] = …`) is refused whatever it writes: the left is not an identifier.
      if (isAssignmentOperator(ts, n.operatorToken.kind) && !local(n.left))
        reason = `it assigns to ${n.left.getText()}`;
    } else if (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) {
      const op = n.operator;
      if (
        (op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken) &&
        !local(n.operand)
      )
        reason = `it updates ${n.operand.getText()}`;
    } else if (
      (ts.isForOfStatement(n) || ts.isForInStatement(n)) &&
      !ts.isVariableDeclarationList(n.initializer) &&
      !local(n.initializer)
    ) {
      reason = `it assigns to ${n.initializer.getText()}`;
    } else if (ts.isDeleteExpression(n)) reason = 'it deletes a property';
    else if (ts.isAwaitExpression(n)) reason = 'it awaits';
    else if (ts.isYieldExpression(n)) reason = 'it yields';
    else if (n.kind === ts.SyntaxKind.ThisKeyword) {
      // Reading the lexical `this` of arrows is a read like any other; a function's own `this`
      // depends on how it is called, and memoization keys on the arguments only.
      if (self !== undefined || !lexicalUpTo(ts, n, fn)) reason = 'it uses `this`';
    } else if (ts.isIdentifier(n) && n.text === 'arguments' && isReference(ts, n)) {
      if (self !== undefined || !lexicalUpTo(ts, n, fn)) reason = 'it reads its `arguments`';
    } else if (ts.isNewExpression(n)) {
      if (self !== undefined || !isPureConstruction(ts, n))
        reason = `it constructs ${n.expression.getText()}`;
    } else if (ts.isTaggedTemplateExpression(n)) reason = `it calls ${n.tag.getText()}`;
    else if (ts.isCallExpression(n) && !isPureCallee(ts, n, n.expression, self, visiting))
      reason = `it calls ${n.expression.getText()}`;
  });
  return reason;
}

/**
 * A constant's initializer a memoized body may depend on: a string, number (`-1` too) or
 * bigint literal, as written. Both former checks accepted these; `true`/`false`/`null`, `(1)`
 * or `-x` were each refused by one of them, and sharing the check loosened nothing.
 */
function isConstantPrimitive(ts: TypeScript, init: TS.Expression): boolean {
  return (
    ts.isStringLiteral(init) ||
    ts.isNumericLiteral(init) ||
    ts.isBigIntLiteral(init) ||
    ts.isNoSubstitutionTemplateLiteral(init) ||
    (ts.isPrefixUnaryExpression(init) &&
      init.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(init.operand))
  );
}

/**
 * Names the body reads that are neither its own, nor pure globals, nor constants bound to a
 * primitive literal and declared once in the file.
 */
function impureRead(
  ts: TypeScript,
  fn: TS.FunctionLikeDeclaration,
  self: string,
  visiting: Set<TS.Node>,
) {
  let problem: string | undefined;
  if (fn.body)
    walk(ts, fn.body, (n) => {
      if (problem || !ts.isIdentifier(n) || n.text === self || !isReference(ts, n)) return;
      if (isOwnBinding(ts, fn, n)) return;
      // A helper it calls was proven pure, with these same rules, when the call was checked.
      const p = n.parent;
      if (ts.isCallExpression(p) && p.expression === n && pureHelper(ts, n, true, visiting)) return;
      const d = findDeclaration(ts, n, n.text);
      if (!d && PURE_GLOBALS.has(n.text)) return;
      const init = d && constInitializer(ts, n);
      const once = () => declarations(ts, n.getSourceFile(), n.text).length === 1;
      if (!init || !isConstantPrimitive(ts, init) || !once())
        problem = `it reads \`${n.text}\`, which is not a module-level constant primitive`;
    });
  return problem;
}

const isObjectLike = (ts: TypeScript, e: TS.Expression): boolean => {
  const n = unwrap(ts, e);
  return (
    ts.isObjectLiteralExpression(n) ||
    ts.isArrayLiteralExpression(n) ||
    ts.isNewExpression(n) ||
    isFunctionLiteral(ts, n)
  );
};

/**
 * Why `fn` (named `name`) cannot be memoized as a pure function of its arguments, or
 * undefined: it must be pure with calls only to itself, read nothing but its arguments, its
 * locals, pure globals and module-level constant primitives, and return primitives only,
 * since one cached result goes to every caller. Object and array literals and nested
 * functions are refused outright: what they hold could escape through the result.
 */
export function memoizeBlocker(
  ts: TypeScript,
  fn: TS.FunctionLikeDeclaration,
  name: string,
  visiting: Set<TS.Node> = new Set([fn]),
): string | undefined {
  const impure = impurityOf(ts, fn, name, visiting) ?? impureRead(ts, fn, name, visiting);
  if (impure) return `${name} is not provably pure: ${impure}`;
  const returnType = fn.type?.getText();
  if (returnType !== undefined && !isPrimitiveType(returnType))
    return `${name} returns ${returnType}, not a primitive`;
  if (returnType === undefined && returnedExpressions(ts, fn).some((e) => isObjectLike(ts, e)))
    return `${name} may return an object, which callers would then share`;
  let built: string | undefined;
  if (fn.body)
    walk(ts, fn.body, (n) => {
      if (built) return;
      if (ts.isObjectLiteralExpression(n) || ts.isArrayLiteralExpression(n))
        built = `it builds ${n.getText().slice(0, 40)}, which could reach a caller`;
      else if (ts.isFunctionLike(n)) built = 'it defines a nested function';
    });
  return built ? `${name} is not provably pure: ${built}` : undefined;
}

/**
 * A parameter a cache can key on: a plain name (no default, rest or `?`), typed (or
 * JSDoc-typed) as a primitive or untyped. Its type text, or why not.
 */
export function primitiveParameter(
  ts: TypeScript,
  p: TS.ParameterDeclaration,
): { name: string; type?: string } | string {
  if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken || p.questionToken)
    return `parameter ${p.getText()} is not a plain parameter`;
  const type = (p.type ?? ts.getJSDocType(p))?.getText();
  if (type !== undefined && !isPrimitiveType(type))
    return `parameter ${p.name.text} is declared as ${type}, not a primitive (number, string, boolean, bigint)`;
  return { name: p.name.text, type };
}

/**
 * Why the module-level function `fn`, declared by `statement` as `name`, cannot be wrapped in a
 * cache whatever its body: how it is declared and when it is first called. `named` is every
 * identifier in the file with its name.
 */
export function memoizeTargetProblem(
  ts: TypeScript,
  statement: TS.Statement,
  fn: TS.FunctionLikeDeclaration,
  name: TS.Identifier,
  named: readonly TS.Identifier[],
): string | undefined {
  const n = name.text;
  const kind = isAsyncOrGenerator(ts, fn);
  if (kind) return `${n} is a generator or async function`;
  if (hasModifier(ts, statement, ts.SyntaxKind.DefaultKeyword)) return `${n} is a default export`;
  if (hasModifier(ts, statement, ts.SyntaxKind.DeclareKeyword)) return `${n} is only declared`;
  if (ts.isVariableDeclaration(name.parent) && name.parent.type)
    return `${n} has a declared function type`;
  if (fn.typeParameters) return `${n} is generic`;
  if (fn.parameters.length === 0) return `${n} takes no arguments`;
  if (named.filter((id) => isDeclarationName(ts, id)).length !== 1)
    return `${n} is declared more than once (overloads or shadowing)`;
  // The cache is declared after the function: a call while the module initialises before that
  // line would hit its temporal dead zone.
  const end = statement.getEnd();
  if (named.some((r) => isReference(ts, r) && r.getStart() < end && !enclosingFunction(ts, r)))
    return `${n} is called during module initialisation before its declaration ends`;
  return undefined;
}
