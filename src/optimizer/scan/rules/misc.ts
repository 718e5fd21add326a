/** Clock, timers and the flag-only rules (`delete`, `await` in loops). */
import type * as TS from 'typescript';
import { dateNowOperand, isGlobal, timerForward, unwrap } from '../../ast/index.js';
import type { Rule } from '../rule.js';

export const preferDateNow: Rule = {
  id: 'prefer-date-now',
  weight: 2,
  risk: 'low',
  rationale: '`new Date().getTime()` allocates a Date object to read the clock.',
  expectedEffect: '`Date.now()` reads the clock without an allocation.',
  kinds: ['CallExpression', 'PrefixUnaryExpression'],
  visit(node, { ts, report }) {
    const date = dateNowOperand(ts, node);
    if (!date || !isGlobal(ts, date, 'Date')) return;
    // `Number(new Date())` relies on `Number` being the global too.
    const viaNumber = ts.isCallExpression(node) && ts.isIdentifier(node.expression);
    if (viaNumber && !isGlobal(ts, node, 'Number')) return;
    report(node);
  },
};

export const preferTimerArgs: Rule = {
  id: 'prefer-timer-args',
  weight: 1,
  risk: 'low',
  rationale:
    '`setTimeout(() => fn(a), t)` allocates a closure per timer only to forward arguments.',
  expectedEffect: '`setTimeout(fn, t, a)` passes them without the closure.',
  kinds: ['CallExpression'],
  visit(node, { ts, report }) {
    const call = node as TS.CallExpression;
    if (!ts.isIdentifier(call.expression)) return;
    const forward = timerForward(ts, call);
    if (typeof forward !== 'string' && forward.inner.arguments.length > 0) report(call);
  },
};

export const noDeleteOperator: Rule = {
  id: 'no-delete-operator',
  weight: 3,
  risk: 'medium',
  flagOnly: true,
  rationale: '`delete obj.prop` turns the object into a slow dictionary-mode object in V8.',
  expectedEffect:
    'Setting the property to `undefined`, or using a Map, keeps fast property access (needs review).',
  kinds: ['DeleteExpression'],
  visit(node, { ts, report }) {
    const e = unwrap(ts, (node as TS.DeleteExpression).expression);
    if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) report(node);
  },
};

export const noAwaitInLoop: Rule = {
  id: 'no-await-in-loop',
  weight: 6,
  risk: 'high',
  flagOnly: true,
  rationale: '`await` inside a loop runs independent operations one after another.',
  expectedEffect:
    'When iterations are independent, `Promise.all` overlaps them (needs review: ordering and rate limits).',
  kinds: ['AwaitExpression'],
  visit(node, { ts, state, report }) {
    if (ts.isAwaitExpression(node) && state.loopsInFunction > 0) report(node);
  },
};
