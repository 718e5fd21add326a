/** Copies that grow with the data: accumulating spreads and spreads nobody needed. */
import type * as TS from 'typescript';
import {
  isFunctionLiteral,
  isGlobal,
  isStaticCall,
  methodCall,
  returnedExpressions,
  spreadPushProblem,
  unwrap,
} from '../../ast/index.js';
import type { TypeScript } from '../../typescript.js';
import type { Rule } from '../rule.js';

function spreadsAccumulator(ts: TypeScript, expr: TS.Expression, acc: string): boolean {
  const e = unwrap(ts, expr);
  const isAcc = (x: TS.Expression) => ts.isIdentifier(x) && x.text === acc;
  if (ts.isObjectLiteralExpression(e))
    return e.properties.some((p) => ts.isSpreadAssignment(p) && isAcc(p.expression));
  if (ts.isArrayLiteralExpression(e))
    return e.elements.some((el) => ts.isSpreadElement(el) && isAcc(el.expression));
  if (isStaticCall(ts, e, 'Object', 'assign')) {
    const [target, ...sources] = (e as TS.CallExpression).arguments;
    return (
      target !== undefined &&
      ts.isObjectLiteralExpression(unwrap(ts, target)) &&
      sources.some((s) => isAcc(s))
    );
  }
  return false;
}

/** Is `name` referenced from a function nested inside `fn` (a closure could keep it)? */
function capturedInside(ts: TypeScript, fn: TS.Node, name: string): boolean {
  let captured = false;
  const visit = (n: TS.Node, nested: boolean): void => {
    if (captured) return;
    if (nested && ts.isIdentifier(n) && n.text === name) captured = true;
    ts.forEachChild(n, (c) => visit(c, nested || ts.isFunctionLike(c)));
  };
  ts.forEachChild(fn, (c) => visit(c, false));
  return captured;
}

export const noAccumulatingSpread: Rule = {
  id: 'no-accumulating-spread',
  weight: 9,
  risk: 'low',
  rationale:
    'The reduce callback spreads its accumulator into a new object/array on every step: O(n²) copying.',
  expectedEffect:
    'Mutating the fresh accumulator makes the reduce O(n); large speedups on big inputs.',
  kinds: ['CallExpression'],
  visit(node, { ts, state, report }) {
    const m = methodCall(ts, node, ['reduce', 'reduceRight']);
    if (!m || m.call.arguments.length !== 2) return;
    const [cb, init] = m.call.arguments as unknown as [TS.Expression, TS.Expression];
    const seed = unwrap(ts, init);
    // The seed must be a literal created here: mutating a shared object would leak.
    if (!ts.isObjectLiteralExpression(seed) && !ts.isArrayLiteralExpression(seed)) return;
    if (!isFunctionLiteral(ts, cb)) return;
    const accParam = cb.parameters[0];
    if (!accParam || !ts.isIdentifier(accParam.name)) return;
    const acc = accParam.name.text;
    if (!returnedExpressions(ts, cb).some((e) => spreadsAccumulator(ts, e, acc))) return;
    if (capturedInside(ts, cb, acc)) return;
    // The copy happens once per element: count the reduce itself as a loop.
    report(m.call, { loopDepth: state.loopDepth + 1 });
  },
};

export const spreadPushInLoop: Rule = {
  id: 'spread-push-in-loop',
  weight: 9,
  risk: 'low',
  rationale: '`arr = [...arr, x]` inside a loop copies the whole array on every iteration: O(n²).',
  expectedEffect: '`arr.push(x)` appends in amortised O(1); large speedups on long loops.',
  kinds: ['BinaryExpression'],
  visit(node, { ts, state, report }) {
    const b = node as TS.BinaryExpression;
    if (b.operatorToken.kind !== ts.SyntaxKind.EqualsToken || state.loopDepth === 0) return;
    if (!ts.isIdentifier(b.left)) return;
    const right = unwrap(ts, b.right);
    if (!ts.isArrayLiteralExpression(right) || right.elements.length < 2) return;
    if (!spreadPushProblem(ts, b)) report(b);
  },
};

const FRESH_ARRAY_METHODS = new Set([
  'map',
  'filter',
  'flatMap',
  'flat',
  'toSorted',
  'toReversed',
  'split',
]);

function singleSpread(ts: TypeScript, node: TS.Expression | undefined): TS.Expression | undefined {
  if (!node) return undefined;
  const e = unwrap(ts, node);
  if (!ts.isArrayLiteralExpression(e) || e.elements.length !== 1) return undefined;
  const only = e.elements[0]!;
  return ts.isSpreadElement(only) ? only.expression : undefined;
}

export const noUselessSpread: Rule = {
  id: 'no-useless-spread',
  weight: 4,
  risk: 'low',
  rationale:
    'The spread copies a value into a new array only to hand it to something that iterates or already got a fresh array.',
  expectedEffect: 'One fewer full copy and allocation per evaluation.',
  kinds: ['NewExpression', 'CallExpression', 'ArrayLiteralExpression'],
  visit(node, { ts, report }) {
    if (ts.isNewExpression(node)) {
      if (!ts.isIdentifier(node.expression)) return;
      const ctor = node.expression.text;
      if (!['Set', 'Map', 'WeakSet', 'WeakMap'].includes(ctor)) return;
      const arg = node.arguments?.[0];
      if (arg && singleSpread(ts, arg) && isGlobal(ts, node, ctor)) report(arg);
      return;
    }
    if (ts.isCallExpression(node)) {
      if (!isStaticCall(ts, node, 'Array', 'from')) return;
      const arg = node.arguments[0];
      if (arg && singleSpread(ts, arg)) report(arg);
      return;
    }
    const inner = singleSpread(ts, node as TS.ArrayLiteralExpression);
    if (!inner) return;
    const e = unwrap(ts, inner);
    const fresh =
      ts.isArrayLiteralExpression(e) ||
      methodCall(ts, e, [...FRESH_ARRAY_METHODS]) !== undefined ||
      isStaticCall(ts, e, 'Array', 'from') ||
      isStaticCall(ts, e, 'Object', 'keys') ||
      isStaticCall(ts, e, 'Object', 'values') ||
      isStaticCall(ts, e, 'Object', 'entries');
    if (fresh) report(node);
  },
};
