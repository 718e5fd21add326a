/**
 * What every rewrite template is: a function from the opportunity's context to minimal text
 * edits, or the reason its guard refused. Plus the two precedence helpers several families
 * share when they splice an expression's text into a new position.
 */
import type * as TS from 'typescript';
import type { Edit, TemplateContext } from '../ast.js';

export interface Rewrite {
  edits: Edit[];
  explanation: string;
}
/** A rewrite, or why the guard refused it. */
export type TemplateOutcome = Rewrite | string;
export type Template = (ctx: TemplateContext) => TemplateOutcome;

export type Ts = TemplateContext['ts'];

/** `text` (the source of `e`) where a member access follows it: parenthesised unless primary. */
export function asReceiver(ts: Ts, e: TS.Expression, text: string): string {
  const primary =
    ts.isIdentifier(e) ||
    ts.isPropertyAccessExpression(e) ||
    ts.isElementAccessExpression(e) ||
    ts.isCallExpression(e) ||
    ts.isParenthesizedExpression(e) ||
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTemplateExpression(e);
  return primary ? text : `(${text})`;
}

/** Wraps `text` in parentheses unless the node's position makes precedence irrelevant. */
export function parenthesizeFor(ts: Ts, node: TS.Node, text: string): string {
  const p = node.parent;
  const safe =
    ts.isParenthesizedExpression(p) ||
    ts.isExpressionStatement(p) ||
    ts.isIfStatement(p) ||
    ts.isWhileStatement(p) ||
    ts.isDoStatement(p) ||
    ts.isReturnStatement(p) ||
    (ts.isVariableDeclaration(p) && p.initializer === node) ||
    (ts.isConditionalExpression(p) && p.condition === node) ||
    (ts.isArrowFunction(p) && p.body === node) ||
    (ts.isCallExpression(p) && p.arguments.includes(node as TS.Expression));
  return safe ? text : `(${text})`;
}
