/**
 * `Object.prototype.toString.call(x)` inside a function reads two properties (`prototype`,
 * then the method) on every call before calling; libraries hoist it by hand
 * (`var has = Object.prototype.hasOwnProperty`). The guard: the constructor is the global
 * built-in, the method is only ever called through `.call`/`.apply` (so `this` is passed
 * explicitly and a plain reference behaves the same), and the file never writes it or defines
 * it (a polyfill in the same file would run after a hoisted read). Like every rewrite to a
 * built-in, it assumes no other code replaces the built-in method after this module loads.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import { isGlobal } from './scope.js';
import { walk } from './syntax.js';

/** Built-in constructors whose prototype methods are borrowed with `.call`. */
export const HOISTABLE_PROTOTYPES = new Set([
  'Object',
  'Array',
  'String',
  'Number',
  'Boolean',
  'Function',
  'RegExp',
]);

export interface PrototypeMethod {
  /** `Object.prototype.toString`. */
  access: TS.PropertyAccessExpression;
  ctor: string;
  method: string;
}

/** `access` as `Ctor.prototype.method` when it has that shape (the guard is separate). */
export function prototypeMethodOf(ts: TypeScript, node: TS.Node): PrototypeMethod | undefined {
  if (!ts.isPropertyAccessExpression(node) || !ts.isIdentifier(node.name)) return undefined;
  const proto = node.expression;
  if (!ts.isPropertyAccessExpression(proto) || proto.name.text !== 'prototype') return undefined;
  if (!ts.isIdentifier(proto.expression)) return undefined;
  const ctor = proto.expression.text;
  if (!HOISTABLE_PROTOTYPES.has(ctor)) return undefined;
  return { access: node, ctor, method: node.name.text };
}

/** Is the access the callee of `.call(…)`/`.apply(…)`? */
function calledExplicitly(ts: TypeScript, access: TS.PropertyAccessExpression): boolean {
  const parent = access.parent;
  return (
    ts.isPropertyAccessExpression(parent) &&
    parent.expression === access &&
    (parent.name.text === 'call' || parent.name.text === 'apply') &&
    ts.isCallExpression(parent.parent) &&
    parent.parent.expression === parent
  );
}

/**
 * Every use of `ctor.prototype.method` in the file, when hoisting them all to one module-level
 * binding keeps behaviour; else the reason it may not.
 */
export function prototypeMethodHoist(
  ts: TypeScript,
  sf: TS.SourceFile,
  found: PrototypeMethod,
): PrototypeMethod[] | string {
  const { ctor, method } = found;
  const name = `${ctor}.prototype.${method}`;
  if (!isGlobal(ts, found.access, ctor)) return `\`${ctor}\` is shadowed here`;
  const uses: PrototypeMethod[] = [];
  let problem: string | undefined;
  walk(ts, sf, (n) => {
    if (problem) return;
    if (
      ts.isCallExpression(n) &&
      /defineProperty|defineProperties|setPrototypeOf/.test(n.expression.getText(sf))
    ) {
      if (n.arguments.some((a) => a.getText(sf).replace(/\s/g, '').startsWith(`${ctor}.prototype`)))
        problem = `the file redefines a property of \`${ctor}.prototype\``;
      return;
    }
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const target = n.left.getText(sf).replace(/\s/g, '');
      if (target === `${ctor}.prototype` || target.startsWith(`${ctor}.prototype.`)) {
        problem = `the file assigns to \`${target}\``;
      }
      return;
    }
    const use = prototypeMethodOf(ts, n);
    if (!use || use.ctor !== ctor || use.method !== method) return;
    if (!isGlobal(ts, n, ctor)) problem = `\`${ctor}\` is shadowed at one use of ${name}`;
    else if (!calledExplicitly(ts, use.access))
      problem = `${name} is used other than through \`.call\`/\`.apply\``;
    else uses.push(use);
  });
  if (problem) return problem;
  if (!uses.some((u) => inFunction(ts, u.access)))
    return `${name} is only read at module level, once`;
  return uses;
}

function inFunction(ts: TypeScript, node: TS.Node): boolean {
  for (let p = node.parent; p; p = p.parent) if (ts.isFunctionLike(p)) return true;
  return false;
}
