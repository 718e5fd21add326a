/** Small built-in swaps: `Date.now()` and timers that forward their arguments themselves. */
import type * as TS from 'typescript';
import { dateNowOperand, isGlobal, TIMER_ARITY, timerForward } from '../../ast/index.js';
import { locate, replace } from '../ast.js';
import type { Template } from './template.js';

export const preferDateNow: Template = (ctx) => {
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

export const preferTimerArgs: Template = (ctx) => {
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
