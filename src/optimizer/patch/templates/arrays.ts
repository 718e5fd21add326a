/**
 * Array method chains: intermediate arrays built only to be flattened, counted, indexed or
 * tested, and filter/map chains fused into one loop.
 */
import type * as TS from 'typescript';
import {
  declarations,
  enclosingFunction,
  identifiersNamed,
  isBooleanContext,
  isGlobal,
  isKnownSet,
  isMethodCall,
  isNumberLiteral,
  isPrimitiveLiteral,
  isSideEffectFree,
  isStaticCall,
  isWriteTarget,
  lengthComparison,
  outerExpression,
  pureCallbackOf,
  references,
  unwrap,
  walk,
  type MethodCall,
} from '../../ast/index.js';
import { constKeyword, type Edit, locate, replace, uniqueName } from '../ast.js';
import { builtinProblem } from '../level.js';
import { type Rewrite, type Template, type Ts, asReceiver, parenthesizeFor } from './template.js';

export const preferFlatMap: Template = (ctx) => {
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
  const missing = builtinProblem(ctx.level, 'Array#flatMap');
  if (missing) return missing;
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

export const preferArraySome: Template = (ctx) => {
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

export const preferArrayFind: Template = (ctx) => {
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
  const missing = builtinProblem(ctx.level, 'Array#find');
  if (missing) return missing;
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

export const preferSetSize: Template = (ctx) => {
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

export const preferInlineEquality: Template = (ctx) => {
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

export const reduceIntermediateArrays: Template = (ctx) => {
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
    const flags = p.parent.flags;
    const keyword = flags & ts.NodeFlags.Const ? 'const' : flags & ts.NodeFlags.Let ? 'let' : 'var';
    head = `${keyword} ${result}${p.type ? `: ${p.type.getText(sf)}` : ''} = [];`;
  } else if (ts.isReturnStatement(p) && ts.isBlock(p.parent)) {
    target = p;
    result = uniqueName(ts, sf, 'result');
    head = `${constKeyword(ctx)} ${result} = [];`;
    tail = `return ${result};`;
  } else if (ts.isArrowFunction(p) && p.body === outer) {
    target = outer;
    result = uniqueName(ts, sf, 'result');
    head = `{\n__INDENT__  ${constKeyword(ctx)} ${result} = [];`;
    tail = `return ${result};\n__INDENT__}`;
  } else {
    return 'the chain is not a declaration, a return or an arrow body, so there is no statement to turn into a loop';
  }

  // ES5 code gets `var`, scoped to the whole function: every name it declares must be unused
  // there outside the chain, and no callback may capture a per-iteration binding.
  const blockScoped = ctx.level.allows('blockBindings');
  const scope = enclosingFunction(ts, outer) ?? sf;
  const freeHere = (name: string): boolean =>
    blockScoped ||
    identifiersNamed(ts, scope, name).every(
      (id) => id.getStart(sf) >= outer.getStart(sf) && id.getEnd() <= outer.getEnd(),
    );
  if (!blockScoped && steps.some((st) => containsFunction(ts, st.body)))
    return `a callback creates a function, which would capture the loop's \`var\` instead of its own value (the repository's level: ${ctx.level.describe()})`;
  const decl = constKeyword(ctx);
  // Each callback body is inlined with its parameter renamed to the loop's current value.
  const first = freeHere(steps[0]!.param)
    ? steps[0]!.param
    : uniqueName(ts, sf, `${steps[0]!.param}Item`);
  const declared = new Set<string>([steps[0]!.param, first]);
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
  let value = first;
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
        !freeHere(next) ||
        steps.some((st) => references(ts, st.body, next).length > 0 && st.param !== next);
        n++
      ) {
        next = uniqueName(ts, sf, `${wanted}${n}`);
      }
      lines.push(`${decl} ${next} = ${text};`);
      declared.add(next);
      value = next;
    }
  }
  const lineStart = sf.getLineAndCharacterOfPosition(target.getStart(sf));
  const indent = /^\s*/.exec(
    sf.text.slice(sf.getLineStarts()[lineStart.line], target.getStart(sf)),
  )![0];
  const inner = target === outer ? `${indent}  ` : indent;
  const loopHead = loopOver(ctx, source, first, decl, freeHere, outer);
  const loop = [
    ...(head ? [head.replace(/__INDENT__/g, indent)] : []),
    ...loopHead.before.map((l, k) => `${head || k > 0 ? inner : ''}${l}`),
    `${head || loopHead.before.length > 0 ? inner : ''}${loopHead.head}`,
    ...[...loopHead.first, ...lines].map((l) => `${inner}  ${l}`),
    `${inner}}`,
    ...(tail ? [`${inner}${tail.replace(/__INDENT__/g, indent)}`] : []),
  ].join('\n');
  return {
    edits: [replace(target, sf, loop)],
    explanation: `\`.${steps.map((s) => s.method).join('().')}()\` built ${steps.length - 1} intermediate array(s); with pure callbacks one loop does every step in a single pass.${loopHead.holes ? ' The loop skips holes as map/filter do, and reads the length once as they do.' : ''}`,
  };
};

const containsFunction = (ts: Ts, node: TS.Node): boolean => {
  let found = false;
  walk(ts, node, (n) => {
    if (n !== node && ts.isFunctionLike(n)) found = true;
  });
  return found || ts.isFunctionLike(node);
};

/**
 * A source whose every index holds an element: `map`/`filter` skip holes, a `for…of` does not,
 * so only these may be walked without a hole check. Array literals without holes or spreads of
 * possibly sparse arrays, and the results of methods that always build dense arrays.
 */
function isDenseArray(ts: Ts, e: TS.Expression): boolean {
  const n = unwrap(ts, e);
  if (ts.isArrayLiteralExpression(n))
    return n.elements.every((el) => !ts.isOmittedExpression(el) && !ts.isSpreadElement(el));
  if (isMethodCall(ts, n, ['filter', 'split', 'flatMap'])) return true;
  if (isStaticCall(ts, n, 'Object', 'keys') || isStaticCall(ts, n, 'Object', 'values'))
    return isGlobal(ts, n, 'Object');
  if (isStaticCall(ts, n, 'Object', 'entries')) return isGlobal(ts, n, 'Object');
  if (isStaticCall(ts, n, 'Array', 'from')) return isGlobal(ts, n, 'Array');
  return false;
}

interface LoopHead {
  /** Statements before the loop (the source held in a variable). */
  before: string[];
  head: string;
  /** The loop body's first statements (hole check, the element). */
  first: string[];
  holes: boolean;
}

/**
 * The loop over `source` binding each element to `item`: `for…of` for a dense array where the
 * repository writes `for…of`; otherwise an indexed loop that reads the length once and skips
 * holes exactly as `map`/`filter` do (`HasProperty`, then `Get`), so sparse arrays and
 * array-likes see the same reads in the same order.
 */
function loopOver(
  ctx: Parameters<Template>[0],
  source: TS.Expression,
  item: string,
  decl: string,
  freeHere: (name: string) => boolean,
  chain: TS.Node,
): LoopHead {
  const { ts, sf } = ctx;
  const dense = isDenseArray(ts, source);
  if (dense && ctx.level.allows('forOf'))
    return {
      before: [],
      head: `for (${decl} ${item} of ${source.getText(sf)}) {`,
      first: [],
      holes: false,
    };
  // A loop name must not capture anything the chain reads; with `var` it must also be unused
  // in the whole function (freeHere). Block-scoped names may shadow what lives outside the loop.
  const taken = new Set<string>([item]);
  walk(ts, chain, (n) => {
    if (ts.isIdentifier(n)) taken.add(n.text);
  });
  const fresh = (wanted: string): string => {
    let name = wanted;
    for (let k = 2; taken.has(name) || !freeHere(name); k++) name = `${wanted}${k}`;
    taken.add(name);
    return name;
  };
  const letKw = ctx.level.allows('blockBindings') ? 'let' : 'var';
  const before: string[] = [];
  let list = source.getText(sf);
  if (!ts.isIdentifier(unwrap(ts, source))) {
    const held = fresh('list');
    before.push(`${decl} ${held} = ${list};`);
    list = held;
  }
  const i = fresh('i');
  const n = fresh('n');
  return {
    before,
    head: `for (${letKw} ${i} = 0, ${n} = ${list}.length; ${i} < ${n}; ${i}++) {`,
    first: [
      ...(dense ? [] : [`if (!(${i} in ${list})) continue;`]),
      `${decl} ${item} = ${list}[${i}];`,
    ],
    holes: !dense,
  };
}
