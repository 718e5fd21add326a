/** Array pipelines doing more work than the result needs. */
import type * as TS from 'typescript';
import {
  isBooleanContext,
  isFunctionLiteral,
  isGlobal,
  isKnownSet,
  isNumberLiteral,
  isPrimitiveLiteral,
  isSideEffectFree,
  isWriteTarget,
  lengthComparison,
  methodCall,
  pureCallbackOf,
  unwrap,
} from '../../ast/index.js';
import type { TypeScript } from '../../typescript.js';
import type { Rule } from '../rule.js';

/** `xs.filter(pureCallback)`: the template proves the callback pure the same way. */
function isPureFilter(ts: TypeScript, node: TS.Expression): boolean {
  const m = methodCall(ts, unwrap(ts, node), ['filter']);
  return m !== undefined && typeof pureCallbackOf(ts, m.call) !== 'string';
}

export const preferFlatMap: Rule = {
  id: 'prefer-flat-map',
  weight: 3,
  risk: 'low',
  rationale: '`.map(f).flat()` builds an intermediate array of arrays, then flattens it.',
  expectedEffect: '`.flatMap(f)` does both in one pass with one fewer array.',
  kinds: ['CallExpression'],
  visit(node, { ts, report }) {
    const flat = methodCall(ts, node, ['flat']);
    if (!flat) return;
    const args = flat.call.arguments;
    if (args.length > 1 || (args.length === 1 && !isNumberLiteral(ts, args[0]!, '1'))) return;
    const map = methodCall(ts, unwrap(ts, flat.receiver), ['map']);
    if (!map || map.call.arguments.length !== 1) return;
    report(flat.call);
  },
};

export const preferArraySome: Rule = {
  id: 'prefer-array-some',
  weight: 4,
  risk: 'low',
  rationale:
    '`.filter(f).length > 0` tests every element and allocates the matches only to count them.',
  expectedEffect: '`.some(f)` stops at the first match and allocates nothing.',
  kinds: ['BinaryExpression', 'PropertyAccessExpression'],
  visit(node, { ts, report }) {
    if (ts.isPropertyAccessExpression(node)) {
      // `if (xs.filter(f).length)`, `!xs.filter(f).length`: only its truthiness is used.
      if (node.name.text === 'length' && isBooleanContext(ts, node))
        if (isPureFilter(ts, node.expression)) report(node);
      return;
    }
    const c = lengthComparison(ts, node as TS.BinaryExpression);
    if (c?.test && isPureFilter(ts, c.length.expression)) report(node);
  },
};

export const preferArrayFind: Rule = {
  id: 'prefer-array-find',
  weight: 4,
  risk: 'low',
  rationale: '`.filter(f)[0]` tests every element and copies all matches to keep the first.',
  expectedEffect: '`.find(f)` stops at the first match and allocates nothing.',
  kinds: ['ElementAccessExpression'],
  visit(node, { ts, report }) {
    const e = node as TS.ElementAccessExpression;
    if (e.questionDotToken || !isNumberLiteral(ts, e.argumentExpression, '0')) return;
    if (isWriteTarget(ts, e)) return;
    if (isPureFilter(ts, e.expression)) report(e);
  },
};

export const preferSetSize: Rule = {
  id: 'prefer-set-size',
  weight: 5,
  risk: 'low',
  rationale: '`[...set].length` copies the whole Set into an array to count it.',
  expectedEffect: '`set.size` is O(1) with no allocation.',
  kinds: ['PropertyAccessExpression'],
  visit(node, { ts, report }) {
    const p = node as TS.PropertyAccessExpression;
    if (p.name.text !== 'length' || isWriteTarget(ts, p)) return;
    const arr = unwrap(ts, p.expression);
    if (!ts.isArrayLiteralExpression(arr) || arr.elements.length !== 1) return;
    const only = arr.elements[0]!;
    if (ts.isSpreadElement(only) && isKnownSet(ts, only.expression)) report(p);
  },
};

export const preferInlineEquality: Rule = {
  id: 'prefer-inline-equality',
  weight: 2,
  risk: 'low',
  rationale:
    '`[a, b].includes(x)` allocates an array literal on every evaluation to compare against a few constants.',
  expectedEffect: '`x === a || x === b` compares without allocating.',
  kinds: ['CallExpression'],
  visit(node, { ts, report }) {
    const m = methodCall(ts, node, ['includes']);
    if (!m || m.call.arguments.length !== 1) return;
    const arr = unwrap(ts, m.receiver);
    if (!ts.isArrayLiteralExpression(arr)) return;
    if (arr.elements.length < 1 || arr.elements.length > 4) return;
    // Literals only (never NaN, which `includes` finds and `===` does not) and a subject that
    // can be evaluated once per comparison without side effects.
    if (!arr.elements.every((e) => isPrimitiveLiteral(ts, e))) return;
    if (!isSideEffectFree(ts, m.call.arguments[0]!)) return;
    report(m.call);
  },
};

const CHAIN_PRODUCERS = ['map', 'filter'];
const CHAIN_CONSUMERS = ['map', 'filter', 'reduce', 'forEach'];

export const reduceIntermediateArrays: Rule = {
  id: 'reduce-intermediate-arrays',
  weight: 5,
  risk: 'medium',
  rationale:
    'A `.map()`/`.filter()` chain on a hot path allocates an intermediate array per step and walks the data twice.',
  expectedEffect:
    'One loop (or one `reduce`) without the intermediate array; fewer allocations and GC.',
  kinds: ['CallExpression'],
  visit(node, { ts, state, report }) {
    const outer = methodCall(ts, node, CHAIN_CONSUMERS);
    if (!outer || !outer.call.arguments[0] || !isFunctionLiteral(ts, outer.call.arguments[0]))
      return;
    const inner = methodCall(ts, unwrap(ts, outer.receiver), CHAIN_PRODUCERS);
    if (!inner || inner.call.arguments.length !== 1) return;
    if (!isFunctionLiteral(ts, inner.call.arguments[0]!)) return;
    // Report a longer chain once, at its first pair.
    const before = methodCall(ts, unwrap(ts, inner.receiver), CHAIN_PRODUCERS);
    if (
      before &&
      before.call.arguments.length === 1 &&
      isFunctionLiteral(ts, before.call.arguments[0]!)
    )
      return;
    if (state.fn === undefined && state.loopDepth === 0) return;
    report(outer.call, { requiresHot: true });
  },
};

export const noHoleyArray: Rule = {
  id: 'no-holey-array',
  weight: 2,
  risk: 'medium',
  flagOnly: true,
  rationale:
    '`new Array(n)` creates a holey array: V8 keeps it in a slower elements kind for its whole life.',
  expectedEffect: 'Building with `push` or `Array.from({ length: n }, …)` keeps packed elements.',
  kinds: ['NewExpression', 'CallExpression'],
  visit(node, { ts, report }) {
    const call = node as TS.NewExpression | TS.CallExpression;
    if (!ts.isIdentifier(call.expression) || call.expression.text !== 'Array') return;
    const args = call.arguments ?? [];
    if (args.length !== 1) return;
    const arg = unwrap(ts, args[0]!);
    if (ts.isNumericLiteral(arg) ? arg.text === '0' : isPrimitiveLiteral(ts, arg)) return;
    if (ts.isArrayLiteralExpression(arg) || ts.isObjectLiteralExpression(arg)) return;
    if (!isGlobal(ts, call, 'Array')) return;
    report(call);
  },
};
