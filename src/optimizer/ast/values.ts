/**
 * What syntax alone proves about a value: how it is used (as a yes/no), what it is (a string,
 * a Set, a regex), whether evaluating it has effects. "Not proven" is always the safe answer.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import { constInitializer, declarations, isGlobal, resolveVariable } from './scope.js';
import {
  isConstDeclaration,
  isFunctionLiteral,
  isLiteralValue,
  isMethodCall,
  isTransparent,
  outerExpression,
  unwrap,
} from './syntax.js';

/**
 * Is the value only tested for truthiness: `if (…)`, loop conditions, `… ? :`, `!…`,
 * `Boolean(…)` (the global), or an operand of `&&`/`||` that is itself only tested?
 * `Boolean(x)` counts: it yields exactly the truthiness of `x`, so any `x` with the same
 * truthiness (`re.test(s)` for `s.match(re)`) gives the same result.
 */
export function isBooleanContext(ts: TypeScript, node: TS.Node): boolean {
  const n = outerExpression(ts, node);
  const p = n.parent;
  if ((ts.isIfStatement(p) || ts.isWhileStatement(p) || ts.isDoStatement(p)) && p.expression === n)
    return true;
  if (ts.isForStatement(p)) return p.condition === n;
  if (ts.isConditionalExpression(p)) return p.condition === n;
  if (ts.isPrefixUnaryExpression(p)) return p.operator === ts.SyntaxKind.ExclamationToken;
  if (ts.isCallExpression(p))
    return (
      p.arguments.length === 1 &&
      p.arguments[0] === n &&
      ts.isIdentifier(p.expression) &&
      p.expression.text === 'Boolean' &&
      isGlobal(ts, p, 'Boolean')
    );
  if (
    ts.isBinaryExpression(p) &&
    (p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
      p.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  )
    // Either operand can be the value the whole expression yields (`s.match(re) || []` is the
    // match), so only a yes/no context around it makes this one.
    return isBooleanContext(ts, p);
  return false;
}

/** An expression that can be evaluated twice, or moved, without changing anything. */
export function isSideEffectFree(ts: TypeScript, node: TS.Expression): boolean {
  const e = unwrap(ts, node);
  if (ts.isIdentifier(e) || isLiteralValue(ts, e) || e.kind === ts.SyntaxKind.ThisKeyword)
    return true;
  if (ts.isPropertyAccessExpression(e)) return isSideEffectFree(ts, e.expression);
  if (ts.isElementAccessExpression(e))
    return isSideEffectFree(ts, e.expression) && isSideEffectFree(ts, e.argumentExpression);
  return false;
}

/** `new Name(…)` with `Name` the global of that name. */
export function isNewOfGlobal(ts: TypeScript, node: TS.Expression, name: string): boolean {
  const e = unwrap(ts, node);
  return (
    ts.isNewExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === name &&
    isGlobal(ts, e, name)
  );
}

/** Methods that always return a string (on the receivers that have them). */
const STRING_METHODS = new Set([
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimStart',
  'trimEnd',
  'join',
  'toString',
  'toFixed',
  'padStart',
  'padEnd',
  'repeat',
  'substring',
  'charAt',
  'normalize',
]);

/**
 * True only when syntax proves `e` evaluates to a string: string literals and templates,
 * `String(x)`, string-returning methods, `x as string`, a parameter typed `string` (also in
 * JSDoc; not optional or rest), a variable typed `string`, a `const` bound to a string.
 */
export function isKnownString(ts: TypeScript, e: TS.Expression, depth = 0): boolean {
  if (depth > 8) return false;
  let n = e;
  while (isTransparent(ts, n)) {
    if (ts.isAsExpression(n) && n.type.kind === ts.SyntaxKind.StringKeyword) return true;
    n = n.expression;
  }
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n))
    return true;
  if (ts.isCallExpression(n)) {
    if (ts.isIdentifier(n.expression))
      return n.expression.text === 'String' && isGlobal(ts, n, 'String');
    return isMethodCall(ts, n) && STRING_METHODS.has(n.expression.name.text);
  }
  if (!ts.isIdentifier(n)) return false;
  const d = resolveVariable(ts, n);
  if (!d) return false;
  if (ts.isParameter(d)) {
    const type = d.type ?? ts.getJSDocType(d);
    return type?.kind === ts.SyntaxKind.StringKeyword && !d.questionToken && !d.dotDotDotToken;
  }
  if (d.type) return d.type.kind === ts.SyntaxKind.StringKeyword;
  return (
    isConstDeclaration(ts, d) && !!d.initializer && isKnownString(ts, d.initializer, depth + 1)
  );
}

/**
 * True only when syntax proves `expr` is a Set: `new Set(…)`, a `const` bound to one, or a
 * variable or parameter annotated `Set<…>`/`ReadonlySet<…>` (the global types).
 */
export function isKnownSet(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (isNewOfGlobal(ts, e, 'Set')) return true;
  if (!ts.isIdentifier(e)) return false;
  const d = resolveVariable(ts, e);
  if (!d) return false;
  if (d.type) {
    const sf = d.getSourceFile();
    const name = /^(Set|ReadonlySet)(<.*>)?$/.exec(d.type.getText(sf))?.[1];
    return name !== undefined && declarations(ts, sf, name).length === 0;
  }
  return isConstDeclaration(ts, d) && !!d.initializer && isNewOfGlobal(ts, d.initializer, 'Set');
}

/** The regex literal an expression is, directly or through a `const` bound to one. */
export function regexLiteralOf(
  ts: TypeScript,
  expr: TS.Expression,
): TS.RegularExpressionLiteral | undefined {
  const e = unwrap(ts, expr);
  if (ts.isRegularExpressionLiteral(e)) return e;
  const init = constInitializer(ts, e);
  const value = init && unwrap(ts, init);
  return value && ts.isRegularExpressionLiteral(value) ? value : undefined;
}

/**
 * Evaluating it runs no code: literals, function literals, and arrays and objects of those
 * (methods included, computed keys excluded). Deleting its declaration deletes nothing else.
 */
export function isInertInitializer(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (isFunctionLiteral(ts, e) || isLiteralValue(ts, e)) return true;
  if (ts.isPrefixUnaryExpression(e)) return ts.isNumericLiteral(e.operand);
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => isInertInitializer(ts, x));
  if (ts.isObjectLiteralExpression(e))
    return e.properties.every(
      (p) =>
        p.name !== undefined &&
        !ts.isComputedPropertyName(p.name) &&
        ((ts.isPropertyAssignment(p) && isInertInitializer(ts, p.initializer)) ||
          ts.isMethodDeclaration(p) ||
          ts.isGetAccessor(p) ||
          ts.isSetAccessor(p)),
    );
  return false;
}

/** What evaluating a class declaration runs besides defining it, if anything. */
export function classLoadEffect(ts: TypeScript, c: TS.ClassDeclaration): string | undefined {
  if (ts.getDecorators(c)?.length) return 'it is decorated';
  const base = c.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
  if (
    base &&
    !ts.isIdentifier(base.expression) &&
    !ts.isPropertyAccessExpression(base.expression)
  ) {
    return 'its base class is computed';
  }
  for (const m of c.members) {
    if (ts.isClassStaticBlockDeclaration(m)) return 'it has a static block';
    if (ts.canHaveDecorators(m) && ts.getDecorators(m)?.length) return 'a member is decorated';
    if (m.name && ts.isComputedPropertyName(m.name)) return 'a member name is computed';
    const isStatic =
      ts.canHaveModifiers(m) &&
      ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
    if (
      isStatic &&
      ts.isPropertyDeclaration(m) &&
      m.initializer &&
      !isInertInitializer(ts, m.initializer)
    ) {
      return `static ${m.name.getText()} is initialised with code`;
    }
  }
  return undefined;
}
