/**
 * Deterministic rewrite templates, one per rule id (perf-validation.md's table plus the
 * issue's five). A template finds its pattern at the opportunity's position, re-checks the
 * guard itself (the scanner's word is never enough) and returns minimal text edits — or the
 * reason the guard failed, as a string.
 */
import type * as TS from 'typescript';
import type { RuleId } from '../../contracts/index.js';
import {
  type Edit,
  type TemplateContext,
  declarations,
  enclosingFunction,
  impurityOf,
  isFunctionLike,
  insertAtModuleTop,
  isExported,
  isKnownString,
  isSideEffectFree,
  locate,
  localNames,
  references,
  regexParts,
  resolveConstInitializer,
  uniqueName,
  upperSnake,
  walk,
} from './ast.js';

export interface Rewrite {
  edits: Edit[];
  explanation: string;
}
/** A rewrite, or why the guard refused it. */
export type TemplateOutcome = Rewrite | string;
export type Template = (ctx: TemplateContext) => TemplateOutcome;

type Ts = TemplateContext['ts'];

const replace = (node: TS.Node, sf: TS.SourceFile, text: string): Edit => ({
  start: node.getStart(sf),
  end: node.getEnd(),
  text,
});

/** `recv.method(...)` with the given method names. */
function isMethodCall(
  ts: Ts,
  n: TS.Node,
  names: readonly string[],
): n is TS.CallExpression & { expression: TS.PropertyAccessExpression } {
  return (
    ts.isCallExpression(n) &&
    ts.isPropertyAccessExpression(n.expression) &&
    names.includes(n.expression.name.text)
  );
}

/** The single callback argument of an array method, if it is an inline pure function. */
function pureCallback(
  ts: Ts,
  call: TS.CallExpression,
): TS.ArrowFunction | TS.FunctionExpression | string {
  const cb = call.arguments[0];
  if (call.arguments.length !== 1 || !cb) return 'the callback is not the only argument';
  if (!ts.isArrowFunction(cb) && !ts.isFunctionExpression(cb)) {
    return 'the callback is not an inline function, so its purity cannot be proven';
  }
  const impure = impurityOf(ts, cb);
  return impure ? `the callback is impure: ${impure}` : cb;
}

function isBooleanContext(ts: Ts, n: TS.Node): boolean {
  const p = n.parent;
  if (ts.isParenthesizedExpression(p)) return isBooleanContext(ts, p);
  if (ts.isIfStatement(p) || ts.isWhileStatement(p) || ts.isDoStatement(p))
    return p.expression === n;
  if (ts.isForStatement(p)) return p.condition === n;
  if (ts.isConditionalExpression(p)) return p.condition === n;
  if (ts.isPrefixUnaryExpression(p)) return p.operator === ts.SyntaxKind.ExclamationToken;
  if (ts.isBinaryExpression(p)) {
    const op = p.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
      // `a || b` yields an operand's own value, so only a yes/no context makes it one.
      return isBooleanContext(ts, p);
    }
  }
  return false;
}

/** Wraps `text` in parentheses unless the node's position makes precedence irrelevant. */
function parenthesizeFor(ts: Ts, node: TS.Node, text: string): string {
  const p = node.parent;
  const safe =
    ts.isParenthesizedExpression(p) ||
    ts.isExpressionStatement(p) ||
    ts.isIfStatement(p) ||
    ts.isWhileStatement(p) ||
    ts.isDoStatement(p) ||
    ts.isReturnStatement(p) ||
    (ts.isVariableDeclaration(p) && p.initializer === node) ||
    (ts.isConditionalExpression(p) && p.condition === node) ||
    (ts.isArrowFunction(p) && p.body === node) ||
    (ts.isCallExpression(p) && p.arguments.includes(node as TS.Expression));
  return safe ? text : `(${text})`;
}

// --- Set membership --------------------------------------------------------------------

const preferSetHas: Template = (ctx) => {
  const { ts, sf } = ctx;
  // The scanner may point at a use (`X.includes(y)`) or at the declaration itself.
  let decl: TS.VariableDeclaration | undefined;
  const call = locate(ctx, (n): n is TS.CallExpression => isMethodCall(ts, n, ['includes']));
  const recv = call && (call.expression as TS.PropertyAccessExpression).expression;
  if (recv && ts.isIdentifier(recv)) {
    const d = declarations(ts, sf, recv.text)[0]?.parent;
    if (d && ts.isVariableDeclaration(d)) decl = d;
  }
  decl ??= locate(ctx, (n): n is TS.VariableDeclaration => ts.isVariableDeclaration(n));
  if (!decl || !ts.isIdentifier(decl.name)) return 'no array declaration found at the position';
  const name = decl.name.text;
  const list = decl.parent;
  if (!(list.flags & ts.NodeFlags.Const)) return `${name} is not const`;
  if (decl.type) return `${name} has a type annotation the Set would contradict`;
  if (!decl.initializer || !ts.isArrayLiteralExpression(decl.initializer)) {
    return `${name} is not initialised with an array literal`;
  }
  if (declarations(ts, sf, name).length !== 1)
    return `${name} is declared more than once (shadowed)`;
  const statement = list.parent;
  if (ts.isVariableStatement(statement) && isExported(ts, sf, statement, name))
    return `${name} is exported`;
  const refs = references(ts, sf, name);
  if (refs.length === 0) return `${name} is never used`;
  const edits: Edit[] = [replace(decl.initializer, sf, `new Set(${decl.initializer.getText(sf)})`)];
  for (const ref of refs) {
    const access = ref.parent;
    if (
      !ts.isPropertyAccessExpression(access) ||
      access.expression !== ref ||
      access.name.text !== 'includes' ||
      !ts.isCallExpression(access.parent) ||
      access.parent.expression !== access ||
      access.parent.arguments.length !== 1
    ) {
      const line = sf.getLineAndCharacterOfPosition(ref.getStart(sf)).line + 1;
      return `${name} is used other than as \`.includes(x)\` (line ${line}: ${ref.parent.getText(sf)})`;
    }
    edits.push(replace(access.name, sf, 'has'));
  }
  return {
    edits,
    explanation: `\`${name}\` is a constant list only used for membership tests: a Set answers \`has\` in constant time instead of scanning the array on every \`includes\`.`,
  };
};

// --- JSON.parse of a constant ----------------------------------------------------------

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

/** Why a value reached through `expr` (and property reads of it) could be mutated or escape. */
/** What a static property path reads from the parsed value (`unknown` when not static). */
const UNKNOWN = Symbol('unknown');
function step(value: unknown, key: string | undefined): unknown {
  if (key === undefined || value === UNKNOWN) return UNKNOWN;
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  if (key === 'length' && (Array.isArray(value) || typeof value === 'string')) return value.length;
  return UNKNOWN;
}

/**
 * Why the parsed value reached through `expr` (and property reads of it) could be mutated or
 * escape. `parsed` is the constant's value: reads that end on a primitive may go anywhere.
 */
function escapeOrMutation(ts: Ts, expr: TS.Expression, parsed: unknown): string | undefined {
  let top: TS.Node = expr;
  let value = parsed;
  while (
    (ts.isPropertyAccessExpression(top.parent) || ts.isElementAccessExpression(top.parent)) &&
    top.parent.expression === top
  ) {
    const access: TS.PropertyAccessExpression | TS.ElementAccessExpression = top.parent;
    const key = ts.isPropertyAccessExpression(access)
      ? access.name.text
      : ts.isStringLiteral(access.argumentExpression) ||
          ts.isNumericLiteral(access.argumentExpression)
        ? access.argumentExpression.text
        : undefined;
    value = step(value, key);
    top = access;
  }
  const primitive = value !== UNKNOWN && (typeof value !== 'object' || value === null);
  const p = top.parent;
  if (ts.isCallExpression(p) && p.expression === top && ts.isPropertyAccessExpression(top)) {
    return MUTATING_METHODS.has(top.name.text) ? `it is mutated by .${top.name.text}()` : undefined;
  }
  if (
    ts.isBinaryExpression(p) &&
    p.left === top &&
    p.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    p.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  ) {
    return `it is assigned to (${p.getText()})`;
  }
  if (ts.isDeleteExpression(p) || ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) {
    const op = ts.isDeleteExpression(p) ? undefined : p.operator;
    if (
      op === undefined ||
      op === ts.SyntaxKind.PlusPlusToken ||
      op === ts.SyntaxKind.MinusMinusToken
    ) {
      return `it is mutated (${p.getText()})`;
    }
    return undefined;
  }
  if (primitive) return undefined;
  if (
    ts.isCallExpression(p) ||
    ts.isNewExpression(p) ||
    ts.isReturnStatement(p) ||
    ts.isVariableDeclaration(p) ||
    ts.isArrayLiteralExpression(p) ||
    ts.isPropertyAssignment(p) ||
    ts.isShorthandPropertyAssignment(p) ||
    ts.isSpreadElement(p) ||
    ts.isArrowFunction(p) ||
    (ts.isBinaryExpression(p) &&
      p.right === top &&
      p.operatorToken.kind === ts.SyntaxKind.EqualsToken) ||
    ts.isForOfStatement(p)
  ) {
    return `it escapes (${p.getText().slice(0, 60)}), where it could be mutated`;
  }
  return undefined;
}

const hoistJsonParse: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is TS.CallExpression =>
      isMethodCall(ts, n, ['parse']) &&
      ts.isIdentifier((n.expression as TS.PropertyAccessExpression).expression) &&
      ((n.expression as TS.PropertyAccessExpression).expression as TS.Identifier).text === 'JSON',
  );
  if (!call) return 'no JSON.parse call at the position';
  if (declarations(ts, sf, 'JSON').length > 0) return '`JSON` is shadowed in this file';
  const arg = call.arguments[0];
  if (call.arguments.length !== 1 || !arg) return 'JSON.parse has a reviver or no argument';
  let literal: TS.Expression | undefined = arg;
  if (ts.isIdentifier(arg)) literal = resolveConstInitializer(ts, sf, arg);
  if (!literal || !(ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal))) {
    return 'the parsed text is not a constant string';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(literal.text);
  } catch {
    return 'the constant string is not valid JSON (parsing it at load time would throw early)';
  }
  if (!enclosingFunction(ts, call)) return 'the call is already at module level';
  // The parsed value becomes shared: every use must only read it.
  const decl = call.parent;
  if (ts.isVariableDeclaration(decl) && decl.initializer === call && ts.isIdentifier(decl.name)) {
    const fn = enclosingFunction(ts, call)!;
    for (const ref of references(ts, fn, decl.name.text)) {
      const why = escapeOrMutation(ts, ref, parsed);
      if (why) return `the parsed result \`${decl.name.text}\` is not read-only: ${why}`;
    }
  } else {
    const why = escapeOrMutation(ts, call, parsed);
    if (why) return `the parsed result is not read-only: ${why}`;
  }
  const base =
    ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)
      ? upperSnake(decl.name.text)
      : 'PARSED_JSON';
  const name = uniqueName(ts, sf, base);
  return {
    edits: [
      insertAtModuleTop(
        ts,
        sf,
        `const ${name} = JSON.parse(${arg.getText(sf)});`,
        ts.isIdentifier(arg) ? [arg.text] : [],
      ),
      replace(call, sf, name),
    ],
    explanation: `The same constant JSON text was parsed on every call; it is parsed once at module load into \`${name}\`, which is only ever read.`,
  };
};

// --- Memoization -----------------------------------------------------------------------

const PRIMITIVE_TYPES = new Set(['number', 'string', 'boolean', 'bigint']);

const GLOBALS = new Set([
  'Math',
  'Number',
  'String',
  'Boolean',
  'Array',
  'Object',
  'JSON',
  'Infinity',
  'NaN',
  'undefined',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'Set',
  'Map',
]);

/** The function a memoize opportunity points at: a declaration or `const f = (…) => …`. */
function memoTarget(ctx: TemplateContext):
  | {
      fn: TS.FunctionDeclaration | TS.ArrowFunction | TS.FunctionExpression;
      statement: TS.Statement;
      name: TS.Identifier;
    }
  | string {
  const { ts, sf } = ctx;
  const statement = locate(
    ctx,
    (n): n is TS.FunctionDeclaration | TS.VariableStatement =>
      ts.isFunctionDeclaration(n) || (ts.isVariableStatement(n) && n.parent === sf),
  );
  if (!statement) return 'no function declaration at the position';
  if (statement.parent !== sf) return 'the function is not declared at module level';
  if (ts.isFunctionDeclaration(statement)) {
    if (!statement.name || !statement.body) return 'the function has no name or no body';
    return { fn: statement, statement, name: statement.name };
  }
  const [decl, ...more] = statement.declarationList.declarations;
  if (!decl || more.length > 0 || !ts.isIdentifier(decl.name) || !decl.initializer) {
    return 'the statement does not declare exactly one function';
  }
  if (!(statement.declarationList.flags & ts.NodeFlags.Const))
    return `${decl.name.text} is not const`;
  if (decl.type) return `${decl.name.text} has a declared function type`;
  const init = decl.initializer;
  if (!ts.isArrowFunction(init) && !ts.isFunctionExpression(init))
    return `${decl.name.text} is not a function`;
  return { fn: init, statement, name: decl.name };
}

const memoizePureFunction: Template = (ctx) => {
  const { ts, sf } = ctx;
  const target = memoTarget(ctx);
  if (typeof target === 'string') return target;
  const { fn, statement } = target;
  const name = target.name.text;
  if (fn.asteriskToken || fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) {
    return `${name} is a generator or async function`;
  }
  const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword))
    return `${name} is a default export`;
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword))
    return `${name} is only declared`;
  if (fn.typeParameters) return `${name} is generic`;
  if (fn.parameters.length === 0) return `${name} takes no arguments`;
  if (declarations(ts, sf, name).length !== 1)
    return `${name} is declared more than once (overloads or shadowing)`;
  const keyParts: string[] = [];
  const untyped: string[] = [];
  for (const p of fn.parameters) {
    if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken || p.questionToken) {
      return `parameter ${p.getText(sf)} is not a plain parameter`;
    }
    const id = p.name.text;
    const typeText = (p.type ?? ts.getJSDocType(p))?.getText(sf);
    if (typeText !== undefined && !PRIMITIVE_TYPES.has(typeText)) {
      return `parameter ${id} is declared as ${typeText}, not a primitive (number, string, boolean, bigint)`;
    }
    // JSON-quoted strings are self-delimiting and numbers never contain ',': keys are unambiguous.
    if (typeText === 'string') keyParts.push(`JSON.stringify(${id})`);
    else if (typeText !== undefined) keyParts.push(`String(${id})`);
    else {
      // Untyped (JavaScript): objects bypass the cache at run time, other types stay distinct.
      untyped.push(id);
      keyParts.push(
        `typeof ${id} + ':' + (typeof ${id} === 'string' ? JSON.stringify(${id}) : String(${id}))`,
      );
    }
  }
  const body = fn.body;
  if (!body) return `${name} has no body`;
  const impure = impurityOf(ts, fn, name);
  if (impure) return `${name} is not provably pure: ${impure}`;
  const locals = localNames(ts, fn);
  let freeProblem: string | undefined;
  walk(ts, body, (n) => {
    if (freeProblem || !ts.isIdentifier(n)) return;
    if (!references(ts, n.parent, n.text).includes(n)) return;
    if (locals.has(n.text) || n.text === name || GLOBALS.has(n.text)) return;
    const init = resolveConstInitializer(ts, sf, n);
    if (!init || !(ts.isLiteralExpression(init) || ts.isPrefixUnaryExpression(init))) {
      freeProblem = `it reads \`${n.text}\`, which is not a module-level constant primitive`;
    }
  });
  if (freeProblem) return `${name} is not provably pure: ${freeProblem}`;
  // Memoized results are shared between callers: they must be primitives too.
  const returnType = fn.type?.getText(sf);
  if (returnType !== undefined && !PRIMITIVE_TYPES.has(returnType)) {
    return `${name} returns ${returnType}, not a primitive`;
  }
  const returned: TS.Expression[] = [];
  if (!ts.isBlock(body)) returned.push(body);
  walk(ts, body, (n) => {
    if (ts.isReturnStatement(n) && n.expression && enclosingFunction(ts, n) === fn)
      returned.push(n.expression);
  });
  const objectLike = (e: TS.Expression): boolean =>
    ts.isParenthesizedExpression(e)
      ? objectLike(e.expression)
      : ts.isObjectLiteralExpression(e) ||
        ts.isArrayLiteralExpression(e) ||
        ts.isNewExpression(e) ||
        isFunctionLike(ts, e);
  if (returnType === undefined && returned.some(objectLike)) {
    return `${name} may return an object, which callers would then share`;
  }
  // The cache is declared after the function: a call while the module initialises before that
  // line would hit its temporal dead zone.
  const early = references(ts, sf, name).some(
    (r) => r.getStart(sf) < statement.getEnd() && !enclosingFunction(ts, r),
  );
  if (early) return `${name} is called during module initialisation before its declaration ends`;

  const uncached = uniqueName(ts, sf, `${name}Uncached`);
  const cache = uniqueName(ts, sf, `${name}Cache`);
  const params = fn.parameters.map((p) => p.getText(sf)).join(', ');
  const args = fn.parameters.map((p) => p.name.getText(sf)).join(', ');
  const exported = modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ? 'export ' : '';
  // One typed primitive is a Map key as it is; otherwise one unambiguous string.
  const key = keyParts.length === 1 && untyped.length === 0 ? args : keyParts.join(" + ',' + ");
  const bypass = untyped.map(
    (id) =>
      `(typeof ${id} === 'object' || typeof ${id} === 'function' || typeof ${id} === 'symbol')`,
  );
  const wrapper = [
    '',
    '',
    `/** Bounded cache for \`${name}\`: pure, and called with primitive arguments. */`,
    `const ${cache} = new Map();`,
    `${exported}function ${name}(${params})${returnType ? `: ${returnType}` : ''} {`,
    ...(bypass.length > 0
      ? [
          `  if (${bypass.length === 1 ? bypass[0]!.slice(1, -1) : bypass.join(' || ')}) return ${uncached}(${args});`,
        ]
      : []),
    `  const key = ${key};`,
    `  if (${cache}.has(key)) return ${cache}.get(key);`,
    `  const value = ${uncached}(${args});`,
    `  if (${cache}.size >= 1000) ${cache}.delete(${cache}.keys().next().value);`,
    `  ${cache}.set(key, value);`,
    `  return value;`,
    `}`,
  ].join('\n');
  const start = statement.getStart(sf);
  const renamed = ts.isFunctionDeclaration(statement)
    ? `function ${uncached}`
    : `const ${uncached}`;
  return {
    edits: [
      { start, end: target.name.getEnd(), text: renamed },
      { start: statement.getEnd(), end: statement.getEnd(), text: wrapper },
    ],
    explanation: `\`${name}\` is pure and takes only primitive arguments: repeated calls with the same arguments are answered from a bounded cache (1000 entries, oldest evicted first).`,
  };
};

// --- Accumulating spreads --------------------------------------------------------------

const noAccumulatingSpread: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is TS.CallExpression => isMethodCall(ts, n, ['reduce']));
  if (!call) return 'no reduce call at the position';
  const [cb, initial] = call.arguments;
  if (!cb || !initial || call.arguments.length !== 2) return 'reduce has no initial value';
  let init: TS.Expression = initial;
  while (ts.isAsExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
  const freshArray = ts.isArrayLiteralExpression(init) && init.elements.length === 0;
  const freshObject = ts.isObjectLiteralExpression(init) && init.properties.length === 0;
  if (!freshArray && !freshObject) return 'the initial value is not a fresh empty literal';
  if (!ts.isArrowFunction(cb) && !ts.isFunctionExpression(cb))
    return 'the reducer is not an inline function';
  const accParam = cb.parameters[0];
  if (!accParam || !ts.isIdentifier(accParam.name))
    return 'the accumulator is not a plain parameter';
  const acc = accParam.name.text;
  let body: TS.Node = cb.body;
  if (ts.isBlock(body)) {
    const last = body.statements[body.statements.length - 1];
    if (!last || !ts.isReturnStatement(last) || !last.expression)
      return 'the reducer does not end with a return';
    body = last.expression;
  }
  let literal = body as TS.Expression;
  while (ts.isParenthesizedExpression(literal)) literal = literal.expression;
  const refs = references(ts, cb.body, acc);
  if (refs.length !== 1)
    return `the accumulator \`${acc}\` is used elsewhere than in the spread (captured)`;
  if (freshArray && ts.isArrayLiteralExpression(literal)) {
    const [first, ...rest] = literal.elements;
    if (!first || !ts.isSpreadElement(first) || first.expression !== refs[0]) {
      return `the returned array does not start with \`...${acc}\``;
    }
    if (rest.some((e) => ts.isOmittedExpression(e))) return 'the array has holes';
    const pushed = rest.map((e) => e.getText(sf)).join(', ');
    return {
      edits: [replace(body, sf, `(${acc}.push(${pushed}), ${acc})`)],
      explanation: `The reducer copied the whole accumulator on every step (quadratic); it now pushes into the fresh array it owns.`,
    };
  }
  if (freshObject && ts.isObjectLiteralExpression(literal)) {
    const [first, ...rest] = literal.properties;
    if (!first || !ts.isSpreadAssignment(first) || first.expression !== refs[0]) {
      return `the returned object does not start with \`...${acc}\``;
    }
    if (rest.some((p) => p.name?.getText(sf) === '__proto__')) return 'the object sets __proto__';
    const props = rest.map((p) => p.getText(sf)).join(', ');
    return {
      edits: [replace(body, sf, `Object.assign(${acc}, { ${props} })`)],
      explanation: `The reducer copied the whole accumulator object on every step (quadratic); it now assigns into the fresh object it owns.`,
    };
  }
  return 'the reducer does not return a spread of the accumulator of the same kind as the initial value';
};

const spreadPushInLoop: Template = (ctx) => {
  const { ts, sf } = ctx;
  const assign = locate(
    ctx,
    (n): n is TS.BinaryExpression =>
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(n.left) &&
      ts.isArrayLiteralExpression(n.right),
  );
  if (!assign) return 'no `x = [...x, …]` assignment at the position';
  const name = (assign.left as TS.Identifier).text;
  const array = assign.right as TS.ArrayLiteralExpression;
  const [first, ...rest] = array.elements;
  if (
    !first ||
    !ts.isSpreadElement(first) ||
    !ts.isIdentifier(first.expression) ||
    first.expression.text !== name
  ) {
    return `the new array does not start with \`...${name}\``;
  }
  if (rest.some((e) => ts.isOmittedExpression(e) || references(ts, e, name).length > 0)) {
    return `the appended values read \`${name}\` or leave holes`;
  }
  if (!ts.isExpressionStatement(assign.parent)) return 'the assignment is used as a value';
  const fn = enclosingFunction(ts, assign);
  const decls = declarations(ts, sf, name);
  const declId = decls[0];
  if (decls.length !== 1 || !declId || !fn || enclosingFunction(ts, declId) !== fn) {
    return `\`${name}\` is not a local variable of the enclosing function`;
  }
  const decl = declId.parent;
  if (
    !ts.isVariableDeclaration(decl) ||
    !decl.initializer ||
    !ts.isArrayLiteralExpression(decl.initializer)
  ) {
    return `\`${name}\` does not start as a fresh array literal (it could be aliased or frozen)`;
  }
  // Each use must not keep a second handle on the array (push would change what it sees).
  for (const ref of references(ts, fn, name)) {
    const p = ref.parent;
    if (
      ts.isBinaryExpression(p) &&
      p.left === ref &&
      p.operatorToken.kind === ts.SyntaxKind.EqualsToken
    )
      continue;
    if (ts.isSpreadElement(p)) continue;
    if (ts.isReturnStatement(p)) continue;
    if (
      (ts.isPropertyAccessExpression(p) || ts.isElementAccessExpression(p)) &&
      p.expression === ref
    ) {
      const outer = p.parent;
      const written = ts.isBinaryExpression(outer) && outer.left === p;
      if (!written) continue;
    }
    if (ts.isForOfStatement(p) || ts.isForInStatement(p)) {
      return `a loop iterates over \`${name}\` itself; appending in place would change the iteration`;
    }
    return `\`${name}\` may be aliased (${p.getText(sf).slice(0, 60)})`;
  }
  const pushed = rest.map((e) => e.getText(sf)).join(', ');
  return {
    edits: [replace(assign, sf, `${name}.push(${pushed})`)],
    explanation: `\`${name} = [...${name}, …]\` copied the array on every iteration (quadratic); \`${name}\` is a local array nobody else holds, so appending in place is equivalent.`,
  };
};

// --- Array method chains ---------------------------------------------------------------

const preferFlatMap: Template = (ctx) => {
  const { ts, sf } = ctx;
  const flat = locate(
    ctx,
    (n): n is TS.CallExpression =>
      isMethodCall(ts, n, ['flat']) &&
      isMethodCall(ts, (n.expression as TS.PropertyAccessExpression).expression, ['map']),
  );
  if (!flat) return 'no `.map(f).flat()` at the position';
  const depth = flat.arguments[0];
  if (flat.arguments.length > 1 || (depth && !(ts.isNumericLiteral(depth) && depth.text === '1'))) {
    return 'flat() is called with a depth other than 1';
  }
  const map = (flat.expression as TS.PropertyAccessExpression).expression as TS.CallExpression & {
    expression: TS.PropertyAccessExpression;
  };
  return {
    edits: [
      replace(map.expression.name, sf, 'flatMap'),
      { start: map.getEnd(), end: flat.getEnd(), text: '' },
    ],
    explanation:
      '`.map(f).flat()` built an intermediate array of arrays; `.flatMap(f)` maps and flattens in one pass.',
  };
};

const LENGTH_NONEMPTY: Record<string, string> = {
  '>0': 'some',
  '!==0': 'some',
  '!=0': 'some',
  '>=1': 'some',
};
const LENGTH_EMPTY = new Set(['===0', '==0', '<1']);

const preferArraySome: Template = (ctx) => {
  const { ts, sf } = ctx;
  const length = locate(
    ctx,
    (n): n is TS.PropertyAccessExpression =>
      ts.isPropertyAccessExpression(n) &&
      n.name.text === 'length' &&
      isMethodCall(ts, n.expression, ['filter']),
  );
  if (!length) return 'no `.filter(f).length` at the position';
  const filter = length.expression as TS.CallExpression & {
    expression: TS.PropertyAccessExpression;
  };
  const cb = pureCallback(ts, filter);
  if (typeof cb === 'string') return cb;
  const receiver = filter.expression.expression.getText(sf);
  const some = `${receiver}.some(${cb.getText(sf)})`;
  const p = length.parent;
  if (ts.isBinaryExpression(p) && p.left === length && ts.isNumericLiteral(p.right)) {
    const key = p.operatorToken.getText(sf) + p.right.text;
    if (LENGTH_NONEMPTY[key]) return someRewrite(replace(p, sf, some));
    if (LENGTH_EMPTY.has(key)) return someRewrite(replace(p, sf, `!${some}`));
    if (/^[<>=!]/.test(key)) return `the length is compared with ${key}, not with emptiness`;
  }
  if (isBooleanContext(ts, length)) return someRewrite(replace(length, sf, some));
  return 'the filtered length is used as a number, not as a yes/no';
};
const someRewrite = (edit: Edit): Rewrite => ({
  edits: [edit],
  explanation:
    '`.filter(f).length` built a whole array to answer yes/no; `.some(f)` stops at the first match and allocates nothing.',
});

const preferArrayFind: Template = (ctx) => {
  const { ts, sf } = ctx;
  const access = locate(
    ctx,
    (n): n is TS.ElementAccessExpression =>
      ts.isElementAccessExpression(n) && isMethodCall(ts, n.expression, ['filter']),
  );
  if (!access) return 'no `.filter(f)[0]` at the position';
  if (!ts.isNumericLiteral(access.argumentExpression) || access.argumentExpression.text !== '0') {
    return 'the element taken is not [0]';
  }
  const p = access.parent;
  if (
    ts.isBinaryExpression(p) &&
    p.left === access &&
    p.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    p.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  ) {
    return 'the element is assigned to';
  }
  const filter = access.expression as TS.CallExpression & {
    expression: TS.PropertyAccessExpression;
  };
  const cb = pureCallback(ts, filter);
  if (typeof cb === 'string') return cb;
  return {
    edits: [
      replace(access, sf, `${filter.expression.expression.getText(sf)}.find(${cb.getText(sf)})`),
    ],
    explanation:
      '`.filter(f)[0]` filtered the whole array to keep its first element; `.find(f)` stops at the first match.',
  };
};

function isKnownSet(ts: Ts, sf: TS.SourceFile, e: TS.Expression): boolean {
  if (ts.isNewExpression(e)) return ts.isIdentifier(e.expression) && e.expression.text === 'Set';
  if (!ts.isIdentifier(e)) return false;
  if (declarations(ts, sf, 'Set').length > 0) return false;
  const decls = declarations(ts, sf, e.text);
  const d = decls.length === 1 ? decls[0]!.parent : undefined;
  if (!d || !(ts.isVariableDeclaration(d) || ts.isParameter(d))) return false;
  const type = d.type?.getText(sf);
  if (type !== undefined) return /^(Readonly)?Set(<.*>)?$/.test(type);
  return (
    ts.isVariableDeclaration(d) &&
    !!d.initializer &&
    ts.isNewExpression(d.initializer) &&
    d.initializer.expression.getText(sf) === 'Set' &&
    !!(d.parent.flags & ts.NodeFlags.Const)
  );
}

const preferSetSize: Template = (ctx) => {
  const { ts, sf } = ctx;
  const length = locate(
    ctx,
    (n): n is TS.PropertyAccessExpression =>
      ts.isPropertyAccessExpression(n) &&
      n.name.text === 'length' &&
      (ts.isArrayLiteralExpression(n.expression) || isMethodCall(ts, n.expression, ['from'])),
  );
  if (!length) return 'no `[...set].length` at the position';
  let inner: TS.Expression | undefined;
  const e = length.expression;
  if (
    ts.isArrayLiteralExpression(e) &&
    e.elements.length === 1 &&
    ts.isSpreadElement(e.elements[0]!)
  ) {
    inner = (e.elements[0] as TS.SpreadElement).expression;
  } else if (
    ts.isCallExpression(e) &&
    e.expression.getText(sf) === 'Array.from' &&
    e.arguments.length === 1
  ) {
    inner = e.arguments[0];
  }
  if (!inner) return 'the array is not a plain copy of one iterable';
  if (!isKnownSet(ts, sf, inner)) return `\`${inner.getText(sf)}\` is not provably a Set`;
  return {
    edits: [replace(length, sf, `${inner.getText(sf)}.size`)],
    explanation:
      'Copying a Set into an array only to count it is linear time and memory; `.size` is constant.',
  };
};

// --- Regular expressions and strings ---------------------------------------------------

/** The regex literal an expression is (directly or through a const), with its flags. */
function regexLiteralOf(
  ts: Ts,
  sf: TS.SourceFile,
  e: TS.Expression,
): TS.RegularExpressionLiteral | undefined {
  if (ts.isRegularExpressionLiteral(e)) return e;
  if (ts.isIdentifier(e)) {
    const init = resolveConstInitializer(ts, sf, e);
    if (init && ts.isRegularExpressionLiteral(init)) return init;
  }
  return undefined;
}

const preferRegexpTest: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is TS.CallExpression => isMethodCall(ts, n, ['match', 'exec']));
  if (!call || call.arguments.length !== 1) return 'no `str.match(re)` at the position';
  const method = (call.expression as TS.PropertyAccessExpression).name.text;
  const left = (call.expression as TS.PropertyAccessExpression).expression;
  const [re, str] = method === 'match' ? [call.arguments[0]!, left] : [left, call.arguments[0]!];
  const literal = regexLiteralOf(ts, sf, re);
  if (!literal) return 'the pattern is not a regex literal (or a const bound to one)';
  const { flags } = regexParts(literal.text);
  if (/[gy]/.test(flags))
    return `the regex has the ${flags.replace(/[^gy]/g, '')} flag: test() would depend on lastIndex`;
  if (!isSideEffectFree(ts, str) || !isSideEffectFree(ts, re))
    return 'reordering the operands could reorder side effects';
  const test = `${re.getText(sf)}.test(${str.getText(sf)})`;
  const p = call.parent;
  if (
    ts.isBinaryExpression(p) &&
    ts.isToken(p.right) &&
    p.right.kind === ts.SyntaxKind.NullKeyword &&
    ['!==', '!=', '===', '=='].includes(p.operatorToken.getText(sf))
  ) {
    const negate = p.operatorToken.getText(sf).startsWith('=');
    return regexTestRewrite(replace(p, sf, negate ? `!${test}` : test), method);
  }
  if (!isBooleanContext(ts, call))
    return `the ${method} result is used as a value, not as a yes/no`;
  return regexTestRewrite(replace(call, sf, test), method);
};
const regexTestRewrite = (edit: Edit, method: string): Rewrite => ({
  edits: [edit],
  explanation: `Only whether the pattern matches was used: \`RegExp#test\` answers that without building the ${method} result array.`,
});

const REGEX_META = /[\\^$.|?*+()[\]{}/]/;

const preferStringStartsEndsWith: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is TS.CallExpression =>
      isMethodCall(ts, n, ['test']) &&
      ts.isRegularExpressionLiteral((n.expression as TS.PropertyAccessExpression).expression),
  );
  if (!call || call.arguments.length !== 1) return 'no `/lit/.test(s)` at the position';
  const literal = (call.expression as TS.PropertyAccessExpression)
    .expression as TS.RegularExpressionLiteral;
  const { source, flags } = regexParts(literal.text);
  if (flags) return `the regex has flags (${flags})`;
  const anchoredStart = source.startsWith('^');
  const anchoredEnd = source.endsWith('$') && !source.endsWith('\\$');
  const body = source.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  if (body === '' || REGEX_META.test(body))
    return 'the pattern is not a plain literal (metacharacters)';
  const subject = call.arguments[0]!;
  if (!isKnownString(ts, sf, subject)) return `\`${subject.getText(sf)}\` is not provably a string`;
  const lit = `'${body.replace(/'/g, "\\'")}'`;
  const s = subject.getText(sf);
  const text =
    anchoredStart && anchoredEnd
      ? parenthesizeFor(ts, call, `${s} === ${lit}`)
      : anchoredStart
        ? `${s}.startsWith(${lit})`
        : anchoredEnd
          ? `${s}.endsWith(${lit})`
          : `${s}.includes(${lit})`;
  return {
    edits: [replace(call, sf, text)],
    explanation:
      'A regex with a plain literal pattern ran the regex engine for a substring check; the string method does it directly.',
  };
};

const noIndexofEquality: Template = (ctx) => {
  const { ts, sf } = ctx;
  const cmp = locate(
    ctx,
    (n): n is TS.BinaryExpression =>
      ts.isBinaryExpression(n) && isMethodCall(ts, n.left, ['indexOf']),
  );
  if (!cmp) return 'no `s.indexOf(p) === 0` at the position';
  const call = cmp.left as TS.CallExpression & { expression: TS.PropertyAccessExpression };
  if (call.arguments.length !== 1) return 'indexOf has a start position';
  const receiver = call.expression.expression;
  if (!isKnownString(ts, sf, receiver))
    return `\`${receiver.getText(sf)}\` is not provably a string (arrays have indexOf too)`;
  const needle = call.arguments[0]!;
  if (ts.isRegularExpressionLiteral(needle)) return 'the needle is a regex';
  const op = cmp.operatorToken.getText(sf);
  const rhs = cmp.right.getText(sf);
  const s = receiver.getText(sf);
  const p = needle.getText(sf);
  const forms: Record<string, string> = {
    '===0': `${s}.startsWith(${p})`,
    '==0': `${s}.startsWith(${p})`,
    '!==0': `!${s}.startsWith(${p})`,
    '!=0': `!${s}.startsWith(${p})`,
    '!==-1': `${s}.includes(${p})`,
    '!=-1': `${s}.includes(${p})`,
    '>-1': `${s}.includes(${p})`,
    '>=0': `${s}.includes(${p})`,
    '===-1': `!${s}.includes(${p})`,
    '==-1': `!${s}.includes(${p})`,
    '<0': `!${s}.includes(${p})`,
  };
  const text = forms[op + rhs];
  if (!text) return `the comparison \`${op} ${rhs}\` has no string-method equivalent`;
  return {
    edits: [replace(cmp, sf, text)],
    explanation:
      '`indexOf` searched the whole string to compare a position; `startsWith`/`includes` say what is meant and stop early.',
  };
};

const preferStaticRegex: Template = (ctx) => {
  const { ts, sf } = ctx;
  const regex = locate(
    ctx,
    (n): n is TS.RegularExpressionLiteral | TS.NewExpression =>
      ts.isRegularExpressionLiteral(n) ||
      (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'RegExp'),
  );
  if (!regex) return 'no regex at the position';
  let flags: string;
  if (ts.isRegularExpressionLiteral(regex)) flags = regexParts(regex.text).flags;
  else {
    const [source, flagArg, ...more] = regex.arguments ?? [];
    if (!source || more.length > 0 || !ts.isStringLiteralLike(source)) {
      return 'the RegExp source is not a string literal (it may be interpolated)';
    }
    if (flagArg && !ts.isStringLiteralLike(flagArg)) return 'the RegExp flags are not a literal';
    if (declarations(ts, sf, 'RegExp').length > 0) return '`RegExp` is shadowed in this file';
    flags = flagArg ? flagArg.text : '';
  }
  if (/[gy]/.test(flags)) {
    return `the regex has the ${flags.replace(/[^gy]/g, '')} flag: a shared instance would share lastIndex`;
  }
  const fn = enclosingFunction(ts, regex);
  if (!fn) return 'the regex is already at module level';
  const p = regex.parent;
  const fromVar =
    ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) ? upperSnake(p.name.text) : undefined;
  const fnName = fn.name && ts.isIdentifier(fn.name) ? upperSnake(fn.name.text) : 'STATIC';
  const base = fromVar ? (fromVar.endsWith('RE') ? fromVar : `${fromVar}_RE`) : `${fnName}_RE`;
  const name = uniqueName(ts, sf, base);
  return {
    edits: [
      insertAtModuleTop(ts, sf, `const ${name} = ${regex.getText(sf)};`),
      replace(regex, sf, name),
    ],
    explanation: `The regex was compiled again on every call; it has no g/y flag, so one module-level instance (\`${name}\`) behaves the same.`,
  };
};

// --- Small built-in swaps --------------------------------------------------------------

const preferDateNow: Template = (ctx) => {
  const { ts, sf } = ctx;
  const isNewDate = (e: TS.Node): e is TS.NewExpression =>
    ts.isNewExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'Date' &&
    !e.arguments?.length;
  const target = locate(
    ctx,
    (n): n is TS.Expression =>
      (isMethodCall(ts, n, ['getTime', 'valueOf']) &&
        n.arguments.length === 0 &&
        isNewDate((n.expression as TS.PropertyAccessExpression).expression)) ||
      (ts.isPrefixUnaryExpression(n) &&
        n.operator === ts.SyntaxKind.PlusToken &&
        isNewDate(n.operand)) ||
      (ts.isCallExpression(n) &&
        ts.isIdentifier(n.expression) &&
        n.expression.text === 'Number' &&
        n.arguments.length === 1 &&
        isNewDate(n.arguments[0]!)),
  );
  if (!target) return 'no `new Date().getTime()` at the position';
  if (declarations(ts, sf, 'Date').length > 0) return '`Date` is shadowed in this file';
  return {
    edits: [replace(target, sf, 'Date.now()')],
    explanation: '`Date.now()` returns the same timestamp without allocating a Date object.',
  };
};

const SPREAD_CONSUMERS = new Set(['Set', 'Map', 'WeakSet', 'WeakMap']);
const FRESH_ITERABLE_METHODS = new Set([
  'map',
  'filter',
  'slice',
  'concat',
  'flat',
  'flatMap',
  'split',
  'keys',
  'values',
  'entries',
  'from',
  'of',
]);

const noUselessSpread: Template = (ctx) => {
  const { ts, sf } = ctx;
  const array = locate(
    ctx,
    (n): n is TS.ArrayLiteralExpression =>
      ts.isArrayLiteralExpression(n) &&
      n.elements.length === 1 &&
      ts.isSpreadElement(n.elements[0]!),
  );
  if (!array) return 'no `[...x]` at the position';
  const p = array.parent;
  const consumer =
    (ts.isNewExpression(p) &&
      ts.isIdentifier(p.expression) &&
      SPREAD_CONSUMERS.has(p.expression.text) &&
      p.arguments?.length === 1) ||
    (ts.isCallExpression(p) &&
      ['Array.from', 'Promise.all', 'Promise.allSettled', 'Promise.race', 'Promise.any'].includes(
        p.expression.getText(sf),
      ) &&
      p.arguments.length === 1);
  if (!consumer) return 'the copy is not consumed by something that iterates it once itself';
  if (ts.isIdentifier(p.expression) && declarations(ts, sf, p.expression.text).length > 0)
    return `\`${p.expression.getText(sf)}\` is shadowed`;
  const inner = (array.elements[0] as TS.SpreadElement).expression;
  // `[...x]` throws on null/undefined where `new Set(x)` would not: x must be a known iterable.
  const fresh =
    ts.isArrayLiteralExpression(inner) ||
    (ts.isNewExpression(inner) &&
      ts.isIdentifier(inner.expression) &&
      ['Set', 'Map', 'Array'].includes(inner.expression.text)) ||
    (ts.isCallExpression(inner) &&
      ts.isPropertyAccessExpression(inner.expression) &&
      FRESH_ITERABLE_METHODS.has(inner.expression.name.text)) ||
    isKnownString(ts, sf, inner) ||
    (ts.isIdentifier(inner) && isKnownIterableVariable(ts, sf, inner));
  if (!fresh)
    return `\`${inner.getText(sf)}\` is not provably an iterable (the spread would have thrown on null)`;
  return {
    edits: [replace(array, sf, inner.getText(sf))],
    explanation:
      'The spread copied an iterable only for it to be iterated once more; passing it directly skips the copy.',
  };
};

function isKnownIterableVariable(ts: Ts, sf: TS.SourceFile, id: TS.Identifier): boolean {
  const decls = declarations(ts, sf, id.text);
  const d = decls.length === 1 ? decls[0]!.parent : undefined;
  if (!d || !(ts.isVariableDeclaration(d) || ts.isParameter(d))) return false;
  const type = d.type;
  if (type) {
    return (
      ts.isArrayTypeNode(type) ||
      /^(Readonly)?(Set|Map|Array|ReadonlyArray)<.*>$/.test(type.getText(sf))
    );
  }
  return (
    ts.isVariableDeclaration(d) && !!d.initializer && ts.isArrayLiteralExpression(d.initializer)
  );
}

const preferInlineEquality: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is TS.CallExpression =>
      isMethodCall(ts, n, ['includes']) &&
      ts.isArrayLiteralExpression((n.expression as TS.PropertyAccessExpression).expression),
  );
  if (!call || call.arguments.length !== 1) return 'no `[a, b].includes(x)` at the position';
  const list = (call.expression as TS.PropertyAccessExpression)
    .expression as TS.ArrayLiteralExpression;
  if (list.elements.length === 0 || list.elements.length > 6) return 'the list is empty or long';
  const literalOk = (e: TS.Expression): boolean =>
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isNumericLiteral(e) ||
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    e.kind === ts.SyntaxKind.NullKeyword ||
    (ts.isPrefixUnaryExpression(e) &&
      e.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(e.operand));
  if (!list.elements.every(literalOk))
    return 'an element is not a non-NaN literal (=== would differ from includes on NaN)';
  const x = call.arguments[0]!;
  if (!isSideEffectFree(ts, x)) return `\`${x.getText(sf)}\` would be evaluated several times`;
  const text = list.elements.map((e) => `${x.getText(sf)} === ${e.getText(sf)}`).join(' || ');
  return {
    edits: [replace(call, sf, list.elements.length === 1 ? text : parenthesizeFor(ts, call, text))],
    explanation:
      'An array literal was allocated on every evaluation just to test membership; direct comparisons allocate nothing.',
  };
};

const TIMERS: Record<string, number> = { setTimeout: 2, setInterval: 2, setImmediate: 1 };

const preferTimerArgs: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is TS.CallExpression =>
      ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text in TIMERS,
  );
  if (!call) return 'no timer call at the position';
  const timer = (call.expression as TS.Identifier).text;
  if (declarations(ts, sf, timer).length > 0) return `\`${timer}\` is shadowed`;
  if (call.arguments.length !== TIMERS[timer])
    return `${timer} already passes extra arguments or lacks a delay`;
  const cb = call.arguments[0]!;
  if (!ts.isArrowFunction(cb) || cb.parameters.length > 0)
    return 'the callback is not a parameterless arrow function';
  let inner: TS.Node = cb.body;
  if (ts.isBlock(inner)) {
    const only = inner.statements[0];
    if (inner.statements.length !== 1 || !only || !ts.isExpressionStatement(only))
      return 'the callback does more than one call';
    inner = only.expression;
  }
  if (!ts.isCallExpression(inner) || !ts.isIdentifier(inner.expression)) {
    return 'the callback does not call a plain function (a method would lose `this`)';
  }
  // Arguments move from fire time to scheduling time: they must not be able to change between.
  const stable = (e: TS.Expression): boolean => {
    if (
      ts.isLiteralExpression(e) ||
      e.kind === ts.SyntaxKind.TrueKeyword ||
      e.kind === ts.SyntaxKind.FalseKeyword ||
      e.kind === ts.SyntaxKind.NullKeyword
    )
      return true;
    if (!ts.isIdentifier(e)) return false;
    const decls = declarations(ts, sf, e.text);
    const d = decls.length === 1 ? decls[0]!.parent : undefined;
    return (
      !!d &&
      (ts.isFunctionDeclaration(d) ||
        ts.isImportSpecifier(d) ||
        ts.isImportClause(d) ||
        (ts.isVariableDeclaration(d) && !!(d.parent.flags & ts.NodeFlags.Const)))
    );
  };
  if (!stable(inner.expression))
    return `\`${inner.expression.getText(sf)}\` is not a const or function declaration`;
  const bad = inner.arguments.find((a) => !stable(a));
  if (bad)
    return `argument \`${bad.getText(sf)}\` is not side-effect free and constant (a literal or a const)`;
  const args = inner.arguments.map((a) => a.getText(sf));
  const rest = call.arguments.slice(1).map((a) => a.getText(sf));
  return {
    edits: [
      replace(call, sf, `${timer}(${[inner.expression.getText(sf), ...rest, ...args].join(', ')})`),
    ],
    explanation: `The timer allocated a closure only to forward constant arguments; ${timer} passes them itself.`,
  };
};

// --- Dead code --------------------------------------------------------------------------

function isInertInitializer(ts: Ts, e: TS.Expression): boolean {
  if (
    ts.isArrowFunction(e) ||
    ts.isFunctionExpression(e) ||
    ts.isLiteralExpression(e) ||
    ts.isRegularExpressionLiteral(e)
  )
    return true;
  if (
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    e.kind === ts.SyntaxKind.NullKeyword
  )
    return true;
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e))
    return isInertInitializer(ts, e.expression);
  if (ts.isPrefixUnaryExpression(e)) return ts.isNumericLiteral(e.operand);
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => isInertInitializer(ts, x));
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.every(
      (p) =>
        ts.isPropertyAssignment(p) &&
        !ts.isComputedPropertyName(p.name) &&
        isInertInitializer(ts, p.initializer),
    );
  }
  return false;
}

/** What evaluating a class declaration runs besides defining it, if anything. */
function classLoadEffect(ts: Ts, c: TS.ClassDeclaration): string | undefined {
  if (ts.getDecorators(c)?.length) return 'it is decorated';
  const base = c.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
  if (
    base &&
    !ts.isIdentifier(base.expression) &&
    !ts.isPropertyAccessExpression(base.expression)
  ) {
    return 'its base class is computed';
  }
  for (const m of c.members) {
    if (ts.isClassStaticBlockDeclaration(m)) return 'it has a static block';
    if (ts.canHaveDecorators(m) && ts.getDecorators(m)?.length) return 'a member is decorated';
    if (m.name && ts.isComputedPropertyName(m.name)) return 'a member name is computed';
    const isStatic =
      ts.canHaveModifiers(m) &&
      ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
    if (
      isStatic &&
      ts.isPropertyDeclaration(m) &&
      m.initializer &&
      !isInertInitializer(ts, m.initializer)
    ) {
      return `static ${m.name.getText()} is initialised with code`;
    }
  }
  return undefined;
}

const removeDeadCode: Template = (ctx) => {
  const { ts, sf, text } = ctx;
  const statement = locate(
    ctx,
    (n): n is TS.FunctionDeclaration | TS.ClassDeclaration | TS.VariableStatement =>
      n.parent === sf &&
      (ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isVariableStatement(n)),
  );
  if (!statement) return 'no module-level function, class or variable at the position';
  let name: string;
  if (ts.isFunctionDeclaration(statement)) {
    if (!statement.name) return 'the function has no name';
    name = statement.name.text;
  } else if (ts.isClassDeclaration(statement)) {
    if (!statement.name) return 'the class has no name';
    name = statement.name.text;
    const effect = classLoadEffect(ts, statement);
    if (effect) return `${name} runs code when the module loads: ${effect}`;
  } else {
    const [decl, ...more] = statement.declarationList.declarations;
    if (!decl || more.length > 0 || !ts.isIdentifier(decl.name))
      return 'the statement declares several or destructured names';
    name = decl.name.text;
    if (decl.initializer && !isInertInitializer(ts, decl.initializer))
      return `the initialiser of ${name} may have side effects`;
  }
  if (isExported(ts, sf, statement, name)) return `${name} is exported`;
  // References inside the declaration itself (recursion) do not keep it alive.
  const outside = references(ts, sf, name).filter(
    (r) => r.getStart(sf) < statement.getStart(sf) || r.getEnd() > statement.getEnd(),
  );
  if (outside.length > 0)
    return `${name} is referenced (line ${sf.getLineAndCharacterOfPosition(outside[0]!.getStart(sf)).line + 1})`;
  if (declarations(ts, sf, name).length > 1 && ts.isFunctionDeclaration(statement))
    return `${name} is overloaded or declared twice`;
  // Delete whole lines: attached comments above, the statement, and one blank line around it.
  let start = statement.getStart(sf);
  const comments = ts.getLeadingCommentRanges(text, statement.getFullStart()) ?? [];
  for (let i = comments.length - 1; i >= 0; i--) {
    const gap = text.slice(comments[i]!.end, start);
    if ((gap.match(/\n/g) ?? []).length > 1) break;
    start = comments[i]!.pos;
  }
  start = text.lastIndexOf('\n', start - 1) + 1;
  let end = statement.getEnd();
  const nl = text.indexOf('\n', end);
  end = nl === -1 ? text.length : nl + 1;
  const blankBefore = start >= 2 && text[start - 1] === '\n' && text[start - 2] === '\n';
  const blankAfter = text[end] === '\n';
  if (blankAfter && (blankBefore || start === 0)) end += 1;
  else if (blankBefore && end === text.length) start -= 1;
  return {
    edits: [{ start, end, text: '' }],
    explanation: `\`${name}\` is module-private and nothing references it; removing it leaves less code to parse and load (build and typecheck confirm it was unused).`,
  };
};

// --- Fusing filter + map ---------------------------------------------------------------

/** The returned expression of a one-parameter callback (expression body or `{ return e; }`). */
function singleExpression(
  ts: Ts,
  fn: TS.ArrowFunction | TS.FunctionExpression,
): TS.Expression | undefined {
  if (!ts.isBlock(fn.body)) return fn.body;
  const [only, ...more] = fn.body.statements;
  return only && more.length === 0 && ts.isReturnStatement(only) ? only.expression : undefined;
}

interface ChainStep {
  method: 'map' | 'filter' | 'forEach';
  param: string;
  body: TS.Expression;
  fn: TS.ArrowFunction | TS.FunctionExpression;
}

/** A condition as an operand of `!`: parenthesised unless it is a simple access or call. */
const negate = (ts: Ts, e: TS.Expression, text: string): string =>
  ts.isIdentifier(e) ||
  ts.isPropertyAccessExpression(e) ||
  ts.isCallExpression(e) ||
  ts.isElementAccessExpression(e)
    ? `!${text}`
    : `!(${text})`;

const reduceIntermediateArrays: Template = (ctx) => {
  const { ts, sf } = ctx;
  let outer = locate(
    ctx,
    (n): n is TS.CallExpression & { expression: TS.PropertyAccessExpression } =>
      isMethodCall(ts, n, ['map', 'filter', 'forEach', 'reduce']) &&
      isMethodCall(ts, (n.expression as TS.PropertyAccessExpression).expression, ['map', 'filter']),
  );
  if (!outer) return 'no `.filter(f).map(g)`-style chain at the position';
  // The scanner reports a chain at its first pair: take in the steps that follow.
  while (
    ts.isPropertyAccessExpression(outer.parent) &&
    outer.parent.expression === outer &&
    isMethodCall(ts, outer.parent.parent, ['map', 'filter', 'forEach', 'reduce']) &&
    outer.parent.parent.expression === outer.parent
  ) {
    outer = outer.parent.parent;
  }
  if (outer.expression.name.text === 'reduce')
    return 'a chain ending in reduce is not fused by this template';
  // Collect the chain from its source outwards: source.step1(...).step2(...)…
  const steps: ChainStep[] = [];
  let cur: TS.Expression = outer;
  while (
    isMethodCall(ts, cur, ['map', 'filter', 'forEach']) &&
    (steps.length === 0 || cur.expression.name.text !== 'forEach')
  ) {
    const method = cur.expression.name.text as ChainStep['method'];
    const cb = pureCallback(ts, cur);
    if (typeof cb === 'string') return `${method}: ${cb}`;
    if (cb.parameters.length !== 1 || !ts.isIdentifier(cb.parameters[0]!.name)) {
      return `${method}: the callback uses the index or destructures: fusing would change what it sees`;
    }
    const body = singleExpression(ts, cb);
    if (!body) return `${method}: the callback is more than one returned expression`;
    steps.unshift({ method, param: (cb.parameters[0]!.name as TS.Identifier).text, body, fn: cb });
    cur = cur.expression.expression;
  }
  const source = cur;
  if (steps.length < 2) return 'the chain has a single step';

  // Where the loop goes: a variable declaration, a return, an arrow body, or a forEach statement.
  const consumer = steps[steps.length - 1]!.method;
  const p = outer.parent;
  let target: TS.Node;
  let result: string | undefined;
  let head = '';
  let tail = '';
  if (consumer === 'forEach') {
    if (!ts.isExpressionStatement(p)) return 'forEach is not used as a statement';
    target = p;
  } else if (ts.isVariableDeclaration(p) && p.initializer === outer && ts.isIdentifier(p.name)) {
    const statement = p.parent.parent;
    if (!ts.isVariableStatement(statement) || statement.declarationList.declarations.length !== 1) {
      return 'the declaration is not a single-variable statement';
    }
    if (statement.modifiers?.length) return 'the declaration is exported';
    if (!ts.isBlock(statement.parent) && !ts.isSourceFile(statement.parent))
      return 'the declaration is not in a block';
    target = statement;
    result = p.name.text;
    const keyword = p.parent.flags & ts.NodeFlags.Const ? 'const' : 'let';
    head = `${keyword} ${result}${p.type ? `: ${p.type.getText(sf)}` : ''} = [];`;
  } else if (ts.isReturnStatement(p) && ts.isBlock(p.parent)) {
    target = p;
    result = uniqueName(ts, sf, 'result');
    head = `const ${result} = [];`;
    tail = `return ${result};`;
  } else if (ts.isArrowFunction(p) && p.body === outer) {
    target = outer;
    result = uniqueName(ts, sf, 'result');
    head = `{\n__INDENT__  const ${result} = [];`;
    tail = `return ${result};\n__INDENT__}`;
  } else {
    return 'the chain is not a declaration, a return or an arrow body, so there is no statement to turn into a loop';
  }

  // Each callback body is inlined with its parameter renamed to the loop's current value.
  const declared = new Set<string>([steps[0]!.param]);
  if (references(ts, source, steps[0]!.param).length > 0) {
    return `the source reads \`${steps[0]!.param}\`, which the loop variable would shadow`;
  }
  const inline = (step: ChainStep, value: string): string | { text: string } => {
    if (declarations(ts, step.body, step.param).length > 0)
      return `${step.method}'s callback redeclares \`${step.param}\``;
    for (const name of declared) {
      if (name !== step.param && references(ts, step.body, name).length > 0) {
        return `${step.method}'s callback reads an outer \`${name}\` the fused loop would shadow`;
      }
    }
    if (result && references(ts, step.body, result).length > 0)
      return `a callback reads \`${result}\``;
    if (value === step.param) return { text: step.body.getText(sf) };
    const edits = references(ts, step.body, step.param).map((ref) => ({
      start: ref.getStart(sf) - step.body.getStart(sf),
      end: ref.getEnd() - step.body.getStart(sf),
      text: ts.isShorthandPropertyAssignment(ref.parent) ? `${step.param}: ${value}` : value,
    }));
    let text = step.body.getText(sf);
    for (const e of edits.sort((a, b) => b.start - a.start))
      text = text.slice(0, e.start) + e.text + text.slice(e.end);
    return { text };
  };
  const lines: string[] = [];
  let value = steps[0]!.param;
  for (const [k, step] of steps.entries()) {
    const inlined = inline(step, value);
    if (typeof inlined === 'string') return inlined;
    const { text } = inlined;
    const last = k === steps.length - 1;
    if (step.method === 'filter') {
      lines.push(`if (${negate(ts, step.body, text)}) continue;`);
      if (last) lines.push(`${result}.push(${value});`);
    } else if (step.method === 'forEach') {
      lines.push(`${text};`);
    } else if (last) {
      lines.push(`${result}.push(${text});`);
    } else {
      const wanted = steps[k + 1]!.param;
      let next = wanted;
      for (
        let n = 2;
        declared.has(next) ||
        steps.some((st) => references(ts, st.body, next).length > 0 && st.param !== next);
        n++
      ) {
        next = uniqueName(ts, sf, `${wanted}${n}`);
      }
      lines.push(`const ${next} = ${text};`);
      declared.add(next);
      value = next;
    }
  }
  const lineStart = sf.getLineAndCharacterOfPosition(target.getStart(sf));
  const indent = /^\s*/.exec(
    sf.text.slice(sf.getLineStarts()[lineStart.line], target.getStart(sf)),
  )![0];
  const inner = target === outer ? `${indent}  ` : indent;
  const loop = [
    ...(head ? [head.replace(/__INDENT__/g, indent)] : []),
    `${head ? inner : ''}for (const ${steps[0]!.param} of ${source.getText(sf)}) {`,
    ...lines.map((l) => `${inner}  ${l}`),
    `${inner}}`,
    ...(tail ? [`${inner}${tail.replace(/__INDENT__/g, indent)}`] : []),
  ].join('\n');
  return {
    edits: [replace(target, sf, loop)],
    explanation: `\`.${steps.map((s) => s.method).join('().')}()\` built ${steps.length - 1} intermediate array(s); with pure callbacks one loop does every step in a single pass.`,
  };
};

/** Every rule with a template. `prefer-static-collator` is flagged by the scanner only for now. */
export const TEMPLATES: Partial<Record<RuleId, Template>> = {
  'prefer-set-has': preferSetHas,
  'hoist-json-parse': hoistJsonParse,
  'memoize-pure-function': memoizePureFunction,
  'no-accumulating-spread': noAccumulatingSpread,
  'spread-push-in-loop': spreadPushInLoop,
  'prefer-flat-map': preferFlatMap,
  'prefer-array-some': preferArraySome,
  'prefer-array-find': preferArrayFind,
  'prefer-set-size': preferSetSize,
  'prefer-regexp-test': preferRegexpTest,
  'prefer-string-starts-ends-with': preferStringStartsEndsWith,
  'no-indexof-equality': noIndexofEquality,
  'prefer-static-regex': preferStaticRegex,
  'prefer-date-now': preferDateNow,
  'no-useless-spread': noUselessSpread,
  'prefer-inline-equality': preferInlineEquality,
  'prefer-timer-args': preferTimerArgs,
  'remove-dead-code': removeDeadCode,
  'reduce-intermediate-arrays': reduceIntermediateArrays,
};
