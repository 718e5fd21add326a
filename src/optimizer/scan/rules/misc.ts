/** Clock, timers and the flag-only rules (`delete`, `await` in loops). */
import type * as TS from 'typescript';
import type { TypeScript } from '../../typescript.js';
import {
  findDeclaration,
  isConstDeclaration,
  isPrimitiveLiteral,
  methodCall,
  unwrap,
} from '../ast.js';
import type { Rule } from '../rule.js';

/** `new Date()` with no arguments, where `Date` is the global. */
function isNewDateNow(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  return (
    ts.isNewExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'Date' &&
    (e.arguments?.length ?? 0) === 0 &&
    findDeclaration(ts, e, 'Date') === undefined
  );
}

export const preferDateNow: Rule = {
  id: 'prefer-date-now',
  weight: 2,
  risk: 'low',
  rationale: '`new Date().getTime()` allocates a Date object to read the clock.',
  expectedEffect: '`Date.now()` reads the clock without an allocation.',
  kinds: ['CallExpression', 'PrefixUnaryExpression'],
  visit(node, { ts, report }) {
    if (ts.isPrefixUnaryExpression(node)) {
      if (node.operator === ts.SyntaxKind.PlusToken && isNewDateNow(ts, node.operand)) report(node);
      return;
    }
    const call = node as TS.CallExpression;
    const m = methodCall(ts, call, ['getTime', 'valueOf']);
    if (m && m.call.arguments.length === 0 && isNewDateNow(ts, m.receiver)) {
      report(call);
      return;
    }
    if (
      ts.isIdentifier(call.expression) &&
      call.expression.text === 'Number' &&
      call.arguments.length === 1 &&
      isNewDateNow(ts, call.arguments[0]!) &&
      findDeclaration(ts, call, 'Number') === undefined
    )
      report(call);
  },
};

const TIMERS = ['setTimeout', 'setInterval', 'setImmediate'];

/** A value that is the same when the timer is set and when it fires. */
function isStableArgument(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (isPrimitiveLiteral(ts, e)) return true;
  if (!ts.isIdentifier(e)) return false;
  return isConstDeclaration(ts, findDeclaration(ts, e, e.text));
}

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
    if (!ts.isIdentifier(call.expression) || !TIMERS.includes(call.expression.text)) return;
    const cb = call.arguments[0];
    if (!cb || !ts.isArrowFunction(cb) || cb.parameters.length > 0) return;
    let body: TS.Node = cb.body;
    if (ts.isBlock(body)) {
      if (body.statements.length !== 1) return;
      const only = body.statements[0]!;
      if (!ts.isExpressionStatement(only)) return;
      body = only.expression;
    }
    const inner = unwrap(ts, body as TS.Expression);
    // A plain function identifier: a method would lose its `this`.
    if (!ts.isCallExpression(inner) || !ts.isIdentifier(inner.expression)) return;
    if (inner.arguments.length === 0) return;
    const decl = findDeclaration(ts, inner, inner.expression.text);
    if (!decl || !(ts.isFunctionDeclaration(decl) || isConstDeclaration(ts, decl))) return;
    if (!inner.arguments.every((a) => isStableArgument(ts, a))) return;
    if (findDeclaration(ts, call, call.expression.text)) return;
    report(call);
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
