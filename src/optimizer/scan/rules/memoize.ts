/**
 * memoize-pure-function: a module-level function of primitive arguments whose body provably
 * depends on nothing but them, called again with the same arguments — by branching recursion
 * (naive fib) or from a loop with loop-invariant arguments.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../../typescript.js';
import {
  bindingNames,
  findDeclaration,
  isConstDeclaration,
  isFunctionLiteral,
  isPrimitiveLiteral,
  isReference,
  isWriteTarget,
  PURE_METHODS,
  unwrap,
} from '../ast.js';
import type { Rule, RuleContext } from '../rule.js';
import { ITERATION_METHODS, loopDepthOf } from './shared.js';

type FunctionNode = TS.FunctionDeclaration | TS.ArrowFunction | TS.FunctionExpression;

const PURE_GLOBALS = new Set([
  'Math',
  'Number',
  'String',
  'Infinity',
  'NaN',
  'undefined',
  'BigInt',
]);
const PRIMITIVE_TYPES = new Set([
  'NumberKeyword',
  'StringKeyword',
  'BooleanKeyword',
  'BigIntKeyword',
]);
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

function* candidates(ts: TypeScript, sf: TS.SourceFile) {
  for (const s of sf.statements) {
    if (ts.isFunctionDeclaration(s) && s.name && s.body)
      yield { name: s.name, fn: s as FunctionNode, node: s as TS.Node };
    else if (ts.isVariableStatement(s) && (s.declarationList.flags & ts.NodeFlags.Const) !== 0)
      for (const d of s.declarationList.declarations)
        if (
          ts.isIdentifier(d.name) &&
          d.initializer &&
          isFunctionLiteral(ts, unwrap(ts, d.initializer))
        )
          yield { name: d.name, fn: unwrap(ts, d.initializer) as FunctionNode, node: s as TS.Node };
  }
}

/** Is the parameter used only as a value (compared, computed with, passed back to itself)? */
function primitiveParam(
  ts: TypeScript,
  p: TS.ParameterDeclaration,
  fn: FunctionNode,
  self: string,
): boolean {
  if (!ts.isIdentifier(p.name) || p.initializer || p.dotDotDotToken || p.questionToken)
    return false;
  if (p.type) return PRIMITIVE_TYPES.has(ts.SyntaxKind[p.type.kind]);
  const name = p.name.text;
  let ok = true;
  const visit = (n: TS.Node): void => {
    if (!ok) return;
    if (ts.isIdentifier(n) && n.text === name && n !== p.name && isReference(ts, n)) {
      let c: TS.Node = n;
      while (ts.isParenthesizedExpression(c.parent)) c = c.parent;
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
    }
    ts.forEachChild(n, visit);
  };
  if (fn.body) visit(fn.body);
  return ok;
}

/** No `this`, I/O, clock or randomness, no writes but to locals, no free mutable bindings. */
function pureBody(
  ctx: RuleContext,
  fn: FunctionNode,
  self: string,
): { pure: boolean; selfCalls: number } {
  const { ts } = ctx;
  const locals = new Set<string>([self]);
  for (const p of fn.parameters) for (const id of bindingNames(ts, p.name)) locals.add(id.text);
  let pure = true;
  let selfCalls = 0;
  const declare = (n: TS.Node): void => {
    if (ts.isVariableDeclaration(n)) for (const id of bindingNames(ts, n.name)) locals.add(id.text);
    if (ts.isFunctionLike(n)) pure = false; // nested closures: out of scope for a syntactic proof
    ts.forEachChild(n, declare);
  };
  if (fn.body) declare(fn.body);
  const visit = (n: TS.Node): void => {
    if (!pure) return;
    if (
      n.kind === ts.SyntaxKind.ThisKeyword ||
      ts.isAwaitExpression(n) ||
      ts.isYieldExpression(n) ||
      ts.isNewExpression(n) ||
      ts.isDeleteExpression(n) ||
      ts.isTaggedTemplateExpression(n) ||
      ts.isObjectLiteralExpression(n) ||
      ts.isArrayLiteralExpression(n)
    ) {
      pure = false;
      return;
    }
    if (ts.isCallExpression(n)) {
      const callee = unwrap(ts, n.expression);
      if (ts.isIdentifier(callee) && callee.text === self) selfCalls++;
      else if (
        !ts.isPropertyAccessExpression(callee) ||
        !PURE_METHODS.has(callee.name.text) ||
        (ts.isIdentifier(callee.expression) &&
          callee.expression.text === 'Math' &&
          callee.name.text === 'random')
      ) {
        pure = false;
        return;
      }
    }
    if (
      (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) &&
      isWriteTarget(ts, n)
    ) {
      pure = false;
      return;
    }
    if (ts.isIdentifier(n) && isReference(ts, n) && !locals.has(n.text)) {
      if (isWriteTarget(ts, n)) pure = false;
      else if (!PURE_GLOBALS.has(n.text)) {
        // A free name must be a module constant holding a primitive.
        const decl = findDeclaration(ts, n, n.text);
        const init = isConstDeclaration(ts, decl)
          ? (decl as TS.VariableDeclaration).initializer
          : undefined;
        if (!init || !isPrimitiveLiteral(ts, init)) pure = false;
      }
      return;
    }
    ts.forEachChild(n, visit);
  };
  if (fn.body) visit(fn.body);
  return { pure, selfCalls };
}

/** Names declared or written inside `loop`: arguments built from them change per iteration. */
function variesIn(ts: TypeScript, loop: TS.Node, arg: TS.Expression): boolean {
  const e = unwrap(ts, arg);
  if (isPrimitiveLiteral(ts, e)) return false;
  if (!ts.isIdentifier(e)) return true;
  const decl = findDeclaration(ts, e, e.text);
  if (!decl || (decl.pos >= loop.pos && decl.end <= loop.end)) return true;
  let written = false;
  const visit = (n: TS.Node): void => {
    if (written) return;
    if (ts.isIdentifier(n) && n.text === e.text && isWriteTarget(ts, n)) written = true;
    ts.forEachChild(n, visit);
  };
  visit(loop);
  return written;
}

function enclosingLoop(ts: TypeScript, node: TS.Node): TS.Node | undefined {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isIterationStatement(n, false)) return n;
    if (
      isFunctionLiteral(ts, n) &&
      ts.isCallExpression(n.parent) &&
      ts.isPropertyAccessExpression(n.parent.expression) &&
      ITERATION_METHODS.has(n.parent.expression.name.text)
    )
      return n;
    if (ts.isFunctionLike(n)) return undefined;
  }
  return undefined;
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
      if (fn.asteriskToken || fn.parameters.length === 0 || fn.parameters.length > 3) continue;
      if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) continue;
      if (!fn.parameters.every((p) => primitiveParam(ts, p, fn, name.text))) continue;
      const { pure, selfCalls } = pureBody(ctx, fn, name.text);
      if (!pure) continue;
      const outsideCalls = (ctx.identifiers.get(name.text) ?? []).filter(
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
