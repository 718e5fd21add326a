/**
 * Deterministic rewrite templates, one per rule id (perf-validation.md's table plus the
 * issue's five). A template finds its pattern at the opportunity's position, re-checks the
 * guard itself (the scanner's word is never enough) and returns minimal text edits — or the
 * reason the guard failed, as a string.
 */
import type * as TS from 'typescript';
import type { RuleId } from '../../contracts/index.js';
import {
  classLoadEffect,
  dateNowOperand,
  hasExportModifier,
  declarations,
  enclosingFunction,
  findDeclaration,
  identifiersNamed,
  isBooleanContext,
  isConstDeclaration,
  isFunctionLiteral,
  isGlobal,
  isInertInitializer,
  isKnownSet,
  isKnownString,
  isMethodCall,
  isNumberLiteral,
  isPrimitiveLiteral,
  isSideEffectFree,
  isStaticCall,
  isWriteTarget,
  jsonParseHoist,
  lengthComparison,
  lineOf,
  literalRegex,
  memoizeBlocker,
  memoizeTargetProblem,
  outerExpression,
  primitiveParameter,
  pureCallbackOf,
  quoteString,
  references,
  regexLiteralOf,
  regexParts,
  resolveVariable,
  setHasProblem,
  spreadPushProblem,
  statefulFlags,
  TIMER_ARITY,
  timerForward,
  unwrap,
  type MethodCall,
} from '../ast/index.js';
import {
  type Edit,
  type TemplateContext,
  insertAtModuleTop,
  isExported,
  locate,
  replace,
  uniqueName,
  upperSnake,
} from './ast.js';

export interface Rewrite {
  edits: Edit[];
  explanation: string;
}
/** A rewrite, or why the guard refused it. */
export type TemplateOutcome = Rewrite | string;
export type Template = (ctx: TemplateContext) => TemplateOutcome;

type Ts = TemplateContext['ts'];

/** `text` (the source of `e`) where a member access follows it: parenthesised unless primary. */
function asReceiver(ts: Ts, e: TS.Expression, text: string): string {
  const primary =
    ts.isIdentifier(e) ||
    ts.isPropertyAccessExpression(e) ||
    ts.isElementAccessExpression(e) ||
    ts.isCallExpression(e) ||
    ts.isParenthesizedExpression(e) ||
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTemplateExpression(e);
  return primary ? text : `(${text})`;
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
  const call = locate(ctx, (n): n is MethodCall => isMethodCall(ts, n, ['includes']));
  const recv = call?.expression.expression;
  if (recv && ts.isIdentifier(recv)) {
    const d = findDeclaration(ts, recv, recv.text);
    if (d && ts.isVariableDeclaration(d)) decl = d;
  }
  decl ??= locate(ctx, (n): n is TS.VariableDeclaration => ts.isVariableDeclaration(n));
  if (!decl || !ts.isIdentifier(decl.name)) return 'no array declaration found at the position';
  const name = decl.name.text;
  const problem = setHasProblem(ts, decl, identifiersNamed(ts, sf, name));
  if (problem) return problem;
  const init = decl.initializer!;
  const edits: Edit[] = [replace(init, sf, `new Set(${init.getText(sf)})`)];
  for (const ref of references(ts, sf, name))
    edits.push(replace((ref.parent as TS.PropertyAccessExpression).name, sf, 'has'));
  return {
    edits,
    explanation: `\`${name}\` is a constant list only used for membership tests: a Set answers \`has\` in constant time instead of scanning the array on every \`includes\`.`,
  };
};

// --- JSON.parse of a constant ----------------------------------------------------------

const hoistJsonParse: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is MethodCall => isStaticCall(ts, n, 'JSON', 'parse'));
  if (!call) return 'no JSON.parse call at the position';
  const hoist = jsonParseHoist(ts, call);
  if (typeof hoist === 'string') return hoist;
  const base = hoist.binding ? upperSnake(hoist.binding.text) : 'PARSED_JSON';
  const name = uniqueName(ts, sf, base);
  return {
    edits: [
      insertAtModuleTop(
        ts,
        sf,
        `const ${name} = JSON.parse(${hoist.text.getText(sf)});`,
        hoist.constant ? [hoist.constant] : [],
      ),
      replace(call, sf, name),
    ],
    explanation: `The same constant JSON text was parsed on every call; it is parsed once at module load into \`${name}\`, which is only ever read.`,
  };
};

// --- Memoization -----------------------------------------------------------------------

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
  const name = decl.name;
  if (!isConstDeclaration(ts, decl)) return `${name.text} is not const`;
  const init = unwrap(ts, decl.initializer);
  if (!isFunctionLiteral(ts, init)) return `${name.text} is not a function`;
  return { fn: init, statement, name };
}

const memoizePureFunction: Template = (ctx) => {
  const { ts, sf } = ctx;
  const target = memoTarget(ctx);
  if (typeof target === 'string') return target;
  const { fn, statement } = target;
  const name = target.name.text;
  const problem = memoizeTargetProblem(
    ts,
    statement,
    fn,
    target.name,
    identifiersNamed(ts, sf, name),
  );
  if (problem) return problem;
  const keyParts: string[] = [];
  const untyped: string[] = [];
  for (const p of fn.parameters) {
    const param = primitiveParameter(ts, p);
    if (typeof param === 'string') return param;
    const { name: id, type } = param;
    // JSON-quoted strings are self-delimiting and numbers never contain ',': keys are unambiguous.
    if (type === 'string') keyParts.push(`JSON.stringify(${id})`);
    else if (type !== undefined) keyParts.push(`String(${id})`);
    else {
      // Untyped (JavaScript): objects bypass the cache at run time, other types stay distinct.
      untyped.push(id);
      keyParts.push(
        `typeof ${id} + ':' + (typeof ${id} === 'string' ? JSON.stringify(${id}) : String(${id}))`,
      );
    }
  }
  if (!fn.body) return `${name} has no body`;
  const blocker = memoizeBlocker(ts, fn, name);
  if (blocker) return blocker;
  const returnType = fn.type?.getText(sf);

  const uncached = uniqueName(ts, sf, `${name}Uncached`);
  const cache = uniqueName(ts, sf, `${name}Cache`);
  const params = fn.parameters.map((p) => p.getText(sf)).join(', ');
  const args = fn.parameters.map((p) => p.name.getText(sf)).join(', ');
  const exported = hasExportModifier(ts, statement) ? 'export ' : '';
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
  const call = locate(ctx, (n): n is MethodCall => isMethodCall(ts, n, ['reduce']));
  if (!call) return 'no reduce call at the position';
  const [cb, initial] = call.arguments;
  if (!cb || !initial || call.arguments.length !== 2) return 'reduce has no initial value';
  const init = unwrap(ts, initial);
  const freshArray = ts.isArrayLiteralExpression(init) && init.elements.length === 0;
  const freshObject = ts.isObjectLiteralExpression(init) && init.properties.length === 0;
  if (!freshArray && !freshObject) return 'the initial value is not a fresh empty literal';
  if (!isFunctionLiteral(ts, cb)) return 'the reducer is not an inline function';
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
  const literal = unwrap(ts, body as TS.Expression);
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
      ts.isArrayLiteralExpression(unwrap(ts, n.right)),
  );
  if (!assign) return 'no `x = [...x, …]` assignment at the position';
  const problem = spreadPushProblem(ts, assign);
  if (problem) return problem;
  const name = (assign.left as TS.Identifier).text;
  const rest = (unwrap(ts, assign.right) as TS.ArrayLiteralExpression).elements.slice(1);
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
    (n): n is MethodCall =>
      isMethodCall(ts, n, ['flat']) &&
      isMethodCall(ts, unwrap(ts, n.expression.expression), ['map']),
  );
  if (!flat) return 'no `.map(f).flat()` at the position';
  const depth = flat.arguments[0];
  if (flat.arguments.length > 1 || (depth && !isNumberLiteral(ts, depth, '1'))) {
    return 'flat() is called with a depth other than 1';
  }
  const receiver = flat.expression.expression;
  const map = unwrap(ts, receiver) as MethodCall;
  return {
    edits: [
      replace(map.expression.name, sf, 'flatMap'),
      { start: receiver.getEnd(), end: flat.getEnd(), text: '' },
    ],
    explanation:
      '`.map(f).flat()` built an intermediate array of arrays; `.flatMap(f)` maps and flattens in one pass.',
  };
};

/** `xs.filter(f)` behind `.length` or `[0]` (through parentheses). */
const filterCall = (ts: Ts, e: TS.Expression): MethodCall | undefined => {
  const call = unwrap(ts, e);
  return isMethodCall(ts, call, ['filter']) ? call : undefined;
};

const preferArraySome: Template = (ctx) => {
  const { ts, sf } = ctx;
  const length = locate(
    ctx,
    (n): n is TS.PropertyAccessExpression =>
      ts.isPropertyAccessExpression(n) &&
      n.name.text === 'length' &&
      filterCall(ts, n.expression) !== undefined,
  );
  if (!length) return 'no `.filter(f).length` at the position';
  const filter = filterCall(ts, length.expression)!;
  const cb = pureCallbackOf(ts, filter);
  if (typeof cb === 'string') return cb;
  const receiver = filter.expression.expression.getText(sf);
  const some = `${receiver}.some(${cb.getText(sf)})`;
  const p = outerExpression(ts, length).parent;
  const compared = ts.isBinaryExpression(p) ? lengthComparison(ts, p) : undefined;
  if (compared?.length === length) {
    if (compared.test === 'some') return someRewrite(replace(p, sf, some));
    if (compared.test === 'none') return someRewrite(replace(p, sf, `!${some}`));
    if (/^[<>=!]/.test(compared.comparison))
      return `the length is compared with ${compared.comparison}, not with emptiness`;
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
      ts.isElementAccessExpression(n) && filterCall(ts, n.expression) !== undefined,
  );
  if (!access) return 'no `.filter(f)[0]` at the position';
  if (!isNumberLiteral(ts, access.argumentExpression, '0')) return 'the element taken is not [0]';
  if (isWriteTarget(ts, access)) return 'the element is assigned to';
  const filter = filterCall(ts, access.expression)!;
  const cb = pureCallbackOf(ts, filter);
  if (typeof cb === 'string') return cb;
  return {
    edits: [
      replace(access, sf, `${filter.expression.expression.getText(sf)}.find(${cb.getText(sf)})`),
    ],
    explanation:
      '`.filter(f)[0]` filtered the whole array to keep its first element; `.find(f)` stops at the first match.',
  };
};

/** `[...x]` or `Array.from(x)`: the iterable copied, if `e` is one of these. */
function copiedIterable(ts: Ts, e: TS.Expression): TS.Expression | undefined {
  const copy = unwrap(ts, e);
  if (ts.isArrayLiteralExpression(copy)) {
    const [only, ...more] = copy.elements;
    return only && more.length === 0 && ts.isSpreadElement(only) ? only.expression : undefined;
  }
  if (isStaticCall(ts, copy, 'Array', 'from') && copy.arguments.length === 1)
    return isGlobal(ts, copy, 'Array') ? copy.arguments[0] : undefined;
  return undefined;
}

const preferSetSize: Template = (ctx) => {
  const { ts, sf } = ctx;
  const length = locate(
    ctx,
    (n): n is TS.PropertyAccessExpression =>
      ts.isPropertyAccessExpression(n) &&
      n.name.text === 'length' &&
      (ts.isArrayLiteralExpression(unwrap(ts, n.expression)) ||
        isMethodCall(ts, unwrap(ts, n.expression), ['from'])),
  );
  if (!length) return 'no `[...set].length` at the position';
  const inner = copiedIterable(ts, length.expression);
  if (!inner) return 'the array is not a plain copy of one iterable';
  if (isWriteTarget(ts, length)) return 'the length is assigned to';
  if (!isKnownSet(ts, inner)) return `\`${inner.getText(sf)}\` is not provably a Set`;
  return {
    edits: [replace(length, sf, `${asReceiver(ts, inner, inner.getText(sf))}.size`)],
    explanation:
      'Copying a Set into an array only to count it is linear time and memory; `.size` is constant.',
  };
};

// --- Regular expressions and strings ---------------------------------------------------

const preferRegexpTest: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is MethodCall => isMethodCall(ts, n, ['match', 'exec']));
  if (!call || call.arguments.length !== 1) return 'no `str.match(re)` at the position';
  const method = call.expression.name.text;
  const left = call.expression.expression;
  const [re, str] = method === 'match' ? [call.arguments[0]!, left] : [left, call.arguments[0]!];
  const literal = regexLiteralOf(ts, re);
  if (!literal) return 'the pattern is not a regex literal (or a const bound to one)';
  const stateful = statefulFlags(regexParts(literal.text).flags);
  if (stateful) return `the regex has the ${stateful} flag: test() would depend on lastIndex`;
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

const preferStringStartsEndsWith: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is MethodCall =>
      isMethodCall(ts, n, ['test']) &&
      ts.isRegularExpressionLiteral(unwrap(ts, n.expression.expression)),
  );
  if (!call || call.arguments.length !== 1) return 'no `/lit/.test(s)` at the position';
  const regex = unwrap(ts, call.expression.expression) as TS.RegularExpressionLiteral;
  const { flags } = regexParts(regex.text);
  if (flags) return `the regex has flags (${flags})`;
  const literal = literalRegex(regex.text);
  if (!literal) return 'the pattern is not a plain literal (metacharacters)';
  const subject = call.arguments[0]!;
  if (!isKnownString(ts, subject)) return `\`${subject.getText(sf)}\` is not provably a string`;
  const lit = quoteString(literal.literal);
  const s = subject.getText(sf);
  const text =
    literal.method === '==='
      ? parenthesizeFor(ts, call, `${s} === ${lit}`)
      : `${asReceiver(ts, subject, s)}.${literal.method}(${lit})`;
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
  const call = cmp.left as MethodCall;
  if (call.arguments.length !== 1) return 'indexOf has a start position';
  const receiver = call.expression.expression;
  if (!isKnownString(ts, receiver))
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
    if (!isGlobal(ts, regex, 'RegExp')) return '`RegExp` is shadowed here';
    flags = flagArg ? flagArg.text : '';
  }
  const stateful = statefulFlags(flags);
  if (stateful)
    return `the regex has the ${stateful} flag: a shared instance would share lastIndex`;
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
  const target = locate(ctx, (n): n is TS.Expression => dateNowOperand(ts, n) !== undefined);
  if (!target) return 'no `new Date().getTime()` at the position';
  if (!isGlobal(ts, target, 'Date')) return '`Date` is shadowed here';
  if (ts.isCallExpression(target) && ts.isIdentifier(target.expression))
    if (!isGlobal(ts, target, 'Number')) return '`Number` is shadowed here';
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
  if (ts.isIdentifier(p.expression) && !isGlobal(ts, p, p.expression.text))
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
    isKnownString(ts, inner) ||
    (ts.isIdentifier(inner) && isKnownIterableVariable(ts, inner));
  if (!fresh)
    return `\`${inner.getText(sf)}\` is not provably an iterable (the spread would have thrown on null)`;
  return {
    edits: [replace(array, sf, inner.getText(sf))],
    explanation:
      'The spread copied an iterable only for it to be iterated once more; passing it directly skips the copy.',
  };
};

/** A variable typed as an array, Set or Map, or a `const` bound to an array literal. */
function isKnownIterableVariable(ts: Ts, id: TS.Identifier): boolean {
  const d = resolveVariable(ts, id);
  if (!d) return false;
  if (d.type) {
    return (
      ts.isArrayTypeNode(d.type) ||
      /^(Readonly)?(Set|Map|Array|ReadonlyArray)<.*>$/.test(d.type.getText())
    );
  }
  return isConstDeclaration(ts, d) && !!d.initializer && ts.isArrayLiteralExpression(d.initializer);
}

const preferInlineEquality: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is MethodCall =>
      isMethodCall(ts, n, ['includes']) &&
      ts.isArrayLiteralExpression(unwrap(ts, n.expression.expression)),
  );
  if (!call || call.arguments.length !== 1) return 'no `[a, b].includes(x)` at the position';
  const list = unwrap(ts, call.expression.expression) as TS.ArrayLiteralExpression;
  if (list.elements.length === 0 || list.elements.length > 6) return 'the list is empty or long';
  if (!list.elements.every((e) => isPrimitiveLiteral(ts, e)))
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

const preferTimerArgs: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is TS.CallExpression =>
      ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text in TIMER_ARITY,
  );
  if (!call) return 'no timer call at the position';
  const forward = timerForward(ts, call);
  if (typeof forward === 'string') return forward;
  const { timer, inner } = forward;
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
  if (outside.length > 0) return `${name} is referenced (line ${lineOf(sf, outside[0]!)})`;
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
    (n): n is MethodCall =>
      isMethodCall(ts, n, ['map', 'filter', 'forEach', 'reduce']) &&
      isMethodCall(ts, n.expression.expression, ['map', 'filter']),
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
    const cb = pureCallbackOf(ts, cur);
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
