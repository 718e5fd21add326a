/**
 * memoize-pure-function: a module-level function of primitive arguments whose body provably
 * depends on nothing but them, called again with the same arguments — by branching recursion
 * (naive fib) or from a loop with loop-invariant arguments.
 */
import type * as TS from 'typescript';
import {
  enclosingLoop,
  findDeclaration,
  findNode,
  isConstDeclaration,
  isFunctionLiteral,
  isPrimitiveLiteral,
  isReference,
  isWriteTarget,
  loopDepthOf,
  memoizeBlocker,
  memoizeTargetProblem,
  outerExpression,
  primitiveParameter,
  unwrap,
  walk,
} from '../../ast/index.js';
import type { TypeScript } from '../../typescript.js';
import type { Rule } from '../rule.js';

type FunctionNode = TS.FunctionDeclaration | TS.ArrowFunction | TS.FunctionExpression;

const VALUE_OPERATORS = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '<',
  '>',
  '<=',
  '>=',
  '===',
  '!==',
  '==',
  '!=',
  '&',
  '|',
  '^',
  '<<',
  '>>',
  '>>>',
]);

/** Module-level named functions: declarations, and `const f = (…) => …` alone in its statement. */
function* candidates(ts: TypeScript, sf: TS.SourceFile) {
  for (const s of sf.statements) {
    if (ts.isFunctionDeclaration(s) && s.name && s.body) yield { name: s.name, fn: s, node: s };
    else if (ts.isVariableStatement(s) && s.declarationList.declarations.length === 1) {
      const d = s.declarationList.declarations[0]!;
      const init = d.initializer && unwrap(ts, d.initializer);
      if (
        isConstDeclaration(ts, d) &&
        ts.isIdentifier(d.name) &&
        init &&
        isFunctionLiteral(ts, init)
      )
        yield { name: d.name, fn: init, node: s };
    }
  }
}

/**
 * Is the parameter a primitive: annotated (or JSDoc-typed) as one, or untyped but only ever
 * used as a value (compared, computed with, passed back to the function itself)?
 */
function primitiveParam(
  ts: TypeScript,
  p: TS.ParameterDeclaration,
  fn: FunctionNode,
  self: string,
): boolean {
  const param = primitiveParameter(ts, p);
  if (typeof param === 'string') return false;
  if (param.type !== undefined) return true;
  const { name } = param;
  let ok = true;
  if (fn.body)
    walk(ts, fn.body, (n) => {
      if (!ok || !ts.isIdentifier(n) || n.text !== name || !isReference(ts, n)) return;
      const c = outerExpression(ts, n);
      const parent = c.parent;
      const op = ts.isBinaryExpression(parent)
        ? ts.tokenToString(parent.operatorToken.kind)
        : undefined;
      const selfArg =
        ts.isCallExpression(parent) &&
        ts.isIdentifier(parent.expression) &&
        parent.expression.text === self &&
        parent.arguments.includes(c as TS.Expression);
      const valueUse =
        (op !== undefined && VALUE_OPERATORS.has(op)) ||
        selfArg ||
        ts.isPrefixUnaryExpression(parent) ||
        ts.isConditionalExpression(parent) ||
        ts.isReturnStatement(parent) ||
        ts.isTemplateSpan(parent);
      if (!valueUse) ok = false;
    });
  return ok;
}

/** Calls of `fn` to itself by name (inside its own body). */
function selfCallCount(ts: TypeScript, fn: FunctionNode, self: string): number {
  let calls = 0;
  if (fn.body)
    walk(ts, fn.body, (n) => {
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === self)
        calls++;
    });
  return calls;
}

/** Names declared or written inside `loop`: arguments built from them change per iteration. */
function variesIn(ts: TypeScript, loop: TS.Node, arg: TS.Expression): boolean {
  const e = unwrap(ts, arg);
  if (isPrimitiveLiteral(ts, e)) return false;
  if (!ts.isIdentifier(e)) return true;
  const decl = findDeclaration(ts, e, e.text);
  if (!decl || (decl.pos >= loop.pos && decl.end <= loop.end)) return true;
  const written = (n: TS.Node) => ts.isIdentifier(n) && n.text === e.text && isWriteTarget(ts, n);
  return findNode(ts, loop, written) !== undefined;
}

export const memoizePureFunction: Rule = {
  id: 'memoize-pure-function',
  weight: 8,
  risk: 'medium',
  rationale:
    'A pure function of primitive arguments is recomputed for arguments it has already seen.',
  expectedEffect:
    'A bounded cache keyed by the arguments returns repeated results at once; exponential recursion becomes linear.',
  finish(ctx) {
    const { ts, sf } = ctx;
    for (const { name, fn, node } of candidates(ts, sf)) {
      if (fn.parameters.length > 3) continue;
      const named = ctx.identifiers.get(name.text) ?? [];
      if (memoizeTargetProblem(ts, node, fn, name, named)) continue;
      if (!fn.parameters.every((p) => primitiveParam(ts, p, fn, name.text))) continue;
      if (memoizeBlocker(ts, fn, name.text)) continue;
      const selfCalls = selfCallCount(ts, fn, name.text);
      const outsideCalls = named.filter(
        (id) =>
          (id.pos < fn.pos || id.end > fn.end) &&
          ts.isCallExpression(id.parent) &&
          id.parent.expression === id,
      );
      const repeatedFromLoop = outsideCalls.filter((id) => {
        const loop = enclosingLoop(ts, id);
        const call = id.parent as TS.CallExpression;
        return loop !== undefined && !call.arguments.some((a) => variesIn(ts, loop, a));
      });
      if (selfCalls < 2 && repeatedFromLoop.length === 0) continue;
      const depth =
        Math.max(0, ...outsideCalls.map((id) => loopDepthOf(ts, id))) + (selfCalls >= 2 ? 1 : 0);
      ctx.report(node, {
        loopDepth: depth,
        rationale:
          selfCalls >= 2
            ? `\`${name.text}\` is pure and calls itself ${selfCalls}× per call: the same arguments are recomputed exponentially often.`
            : `\`${name.text}\` is pure and called from a loop with the same arguments on every iteration.`,
      });
    }
  },
};
