/** Names several rules agree on. */
import type * as TS from 'typescript';
import type { TypeScript } from '../../typescript.js';

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

/** Methods that change an array in place. */
export const MUTATING_ARRAY_METHODS = new Set([
  'push',
  'pop',
  'shift',
  'unshift',
  'splice',
  'sort',
  'reverse',
  'fill',
  'copyWithin',
]);

/** Loops and iteration callbacks around `node`, counted through its parents. */
export function loopDepthOf(ts: TypeScript, node: TS.Node): number {
  let depth = 0;
  for (let n = node.parent; n; n = n.parent) {
    if (
      ts.isForStatement(n) ||
      ts.isForOfStatement(n) ||
      ts.isForInStatement(n) ||
      ts.isWhileStatement(n) ||
      ts.isDoStatement(n)
    )
      depth++;
    else if (
      (ts.isArrowFunction(n) || ts.isFunctionExpression(n)) &&
      ts.isCallExpression(n.parent) &&
      ts.isPropertyAccessExpression(n.parent.expression) &&
      ITERATION_METHODS.has(n.parent.expression.name.text)
    )
      depth++;
  }
  return depth;
}
