/**
 * Spreads that copy for nothing: accumulating spreads in reduce and loops (quadratic), and
 * `[...x]` handed to something that iterates `x` once itself.
 */
import type * as TS from 'typescript';
import {
  isConstDeclaration,
  isFunctionLiteral,
  isGlobal,
  isKnownString,
  isMethodCall,
  references,
  resolveVariable,
  spreadPushProblem,
  unwrap,
  type MethodCall,
} from '../../ast/index.js';
import { locate, replace } from '../ast.js';
import type { Template, Ts } from './template.js';

// --- Accumulating spreads --------------------------------------------------------------

export const noAccumulatingSpread: Template = (ctx) => {
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
    // `acc.push(...val)` passes val's items as arguments: past ~10^5 of them it throws a
    // RangeError where the spread into a literal does not (spread-push-in-loop refuses it too).
    if (rest.some((e) => ts.isSpreadElement(e)))
      return 'an appended spread would become push(...x), which throws past the argument limit';
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

export const spreadPushInLoop: Template = (ctx) => {
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

// --- Copies handed to something that iterates once -------------------------------------

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

export const noUselessSpread: Template = (ctx) => {
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
