/**
 * Syntactic helpers shared by the rules: method calls, regex literals, a by-name scope lookup
 * and the purity test for callbacks. All of them answer "not proven" rather than guess.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';

export function unwrap(ts: TypeScript, node: TS.Expression): TS.Expression {
  let n = node;
  while (
    ts.isParenthesizedExpression(n) ||
    ts.isAsExpression(n) ||
    ts.isNonNullExpression(n) ||
    ts.isSatisfiesExpression(n)
  )
    n = n.expression;
  return n;
}

/** `receiver.name(args)` → its parts; undefined for any other call (or optional calls). */
export function methodCall(
  ts: TypeScript,
  node: TS.Node,
  names?: readonly string[],
): { receiver: TS.Expression; name: string; call: TS.CallExpression } | undefined {
  if (!ts.isCallExpression(node) || node.questionDotToken) return undefined;
  const callee = node.expression;
  if (!ts.isPropertyAccessExpression(callee) || callee.questionDotToken) return undefined;
  if (!ts.isIdentifier(callee.name)) return undefined;
  const name = callee.name.text;
  if (names && !names.includes(name)) return undefined;
  return { receiver: callee.expression, name, call: node };
}

/** `Global.name(…)` with `Global` an identifier, e.g. `JSON.parse`. */
export function isStaticCall(ts: TypeScript, node: TS.Node, object: string, name: string): boolean {
  const m = methodCall(ts, node, [name]);
  return m !== undefined && ts.isIdentifier(m.receiver) && m.receiver.text === object;
}

export function isFunctionLiteral(
  ts: TypeScript,
  node: TS.Node,
): node is TS.ArrowFunction | TS.FunctionExpression {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

export function regexParts(text: string): { body: string; flags: string } {
  const end = text.lastIndexOf('/');
  return { body: text.slice(1, end), flags: text.slice(end + 1) };
}

/** A regex whose `lastIndex` carries state between uses (`g` or `y`). */
export function isStatefulRegex(text: string): boolean {
  const { flags } = regexParts(text);
  return flags.includes('g') || flags.includes('y');
}

export function bindingNames(ts: TypeScript, name: TS.BindingName, out: TS.Identifier[] = []) {
  if (ts.isIdentifier(name)) out.push(name);
  else
    for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(ts, el.name, out);
  return out;
}

export type Declaration =
  | TS.VariableDeclaration
  | TS.ParameterDeclaration
  | TS.FunctionDeclaration
  | TS.ClassDeclaration
  | TS.ImportClause
  | TS.ImportSpecifier
  | TS.NamespaceImport
  | TS.ImportEqualsDeclaration
  | TS.EnumDeclaration
  | TS.FunctionExpression;

function declaredIn(
  ts: TypeScript,
  statements: readonly TS.Statement[],
  name: string,
): Declaration | undefined {
  for (const s of statements) {
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations)
        if (bindingNames(ts, d.name).some((id) => id.text === name)) return d;
    } else if (
      (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) &&
      s.name?.text === name
    ) {
      return s;
    } else if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name?.text === name) return c;
      const b = c.namedBindings;
      if (b && ts.isNamespaceImport(b) && b.name.text === name) return b;
      if (b && ts.isNamedImports(b)) {
        const spec = b.elements.find((e) => e.name.text === name);
        if (spec) return spec;
      }
    } else if (ts.isImportEqualsDeclaration(s) && s.name.text === name) {
      return s;
    }
  }
  return undefined;
}

/**
 * The declaration a name refers to at `from`, by walking the enclosing scopes syntactically.
 * It does not see `var` hoisted out of nested blocks nor globals: undefined means "not declared
 * in this file as far as the syntax shows".
 */
export function findDeclaration(
  ts: TypeScript,
  from: TS.Node,
  name: string,
): Declaration | undefined {
  for (let n: TS.Node | undefined = from.parent; n; n = n.parent) {
    let found: Declaration | undefined;
    if (ts.isSourceFile(n) || ts.isBlock(n) || ts.isModuleBlock(n) || ts.isCaseClause(n)) {
      found = declaredIn(ts, n.statements, name);
    } else if (ts.isCaseBlock(n)) {
      for (const clause of n.clauses) found ??= declaredIn(ts, clause.statements, name);
    } else if (
      (ts.isForStatement(n) || ts.isForOfStatement(n) || ts.isForInStatement(n)) &&
      n.initializer &&
      ts.isVariableDeclarationList(n.initializer)
    ) {
      found = n.initializer.declarations.find((d) =>
        bindingNames(ts, d.name).some((id) => id.text === name),
      );
    } else if (ts.isCatchClause(n) && n.variableDeclaration) {
      const d = n.variableDeclaration;
      if (bindingNames(ts, d.name).some((id) => id.text === name)) found = d;
    } else if (ts.isFunctionLike(n)) {
      found = (n.parameters as readonly TS.ParameterDeclaration[]).find((p) =>
        bindingNames(ts, p.name).some((id) => id.text === name),
      );
      if (!found && ts.isFunctionExpression(n) && n.name?.text === name) found = n;
    }
    if (found) return found;
  }
  return undefined;
}

/** Is this identifier a reference (not a property name, declaration name or label)? */
export function isReference(ts: TypeScript, id: TS.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name === id) return false;
  if ((ts.isMethodDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id)
    return false;
  if (ts.isPropertySignature(p) || ts.isMethodSignature(p)) return p.name !== id;
  if (ts.isVariableDeclaration(p) && p.name === id) return false;
  if ((ts.isFunctionDeclaration(p) || ts.isClassDeclaration(p)) && p.name === id) return false;
  if (ts.isParameter(p) && p.name === id) return false;
  if (ts.isBindingElement(p) && (p.name === id || p.propertyName === id)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return false;
  if (ts.isExportSpecifier(p) && p.propertyName !== undefined && p.name === id) return false;
  return true;
}

/** Is `node` the target of an assignment, `++`/`--` or `delete`? */
export function isWriteTarget(ts: TypeScript, node: TS.Node): boolean {
  let n = node;
  while (ts.isParenthesizedExpression(n.parent)) n = n.parent;
  const p = n.parent;
  if (ts.isBinaryExpression(p) && p.left === n) {
    const k = p.operatorToken.kind;
    return k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
  }
  if (ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) {
    return (
      p.operator === ts.SyntaxKind.PlusPlusToken || p.operator === ts.SyntaxKind.MinusMinusToken
    );
  }
  if (ts.isDeleteExpression(p)) return true;
  return false;
}

/** Methods that read their receiver and return a fresh value, never mutating anything. */
export const PURE_METHODS = new Set([
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'has',
  'get',
  'test',
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimStart',
  'trimEnd',
  'slice',
  'substring',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'at',
  'toString',
  'toFixed',
  'localeCompare',
  'padStart',
  'padEnd',
  'repeat',
  'split',
  'concat',
  'join',
  'abs',
  'floor',
  'ceil',
  'round',
  'trunc',
  'min',
  'max',
  'sqrt',
  'pow',
  'sign',
  'isInteger',
  'isFinite',
  'isNaN',
  'isArray',
  'keys',
  'values',
  'entries',
]);

/** The names a function declares itself (parameters and local bindings). */
function localNames(ts: TypeScript, fn: TS.SignatureDeclaration): Set<string> {
  const names = new Set<string>();
  for (const p of fn.parameters) for (const id of bindingNames(ts, p.name)) names.add(id.text);
  const visit = (n: TS.Node): void => {
    if (ts.isVariableDeclaration(n) || ts.isBindingElement(n))
      for (const id of bindingNames(ts, n.name)) names.add(id.text);
    if (ts.isFunctionDeclaration(n) && n.name) names.add(n.name.text);
    ts.forEachChild(n, visit);
  };
  if (ts.isFunctionLike(fn) && 'body' in fn && fn.body) visit(fn.body as TS.Node);
  return names;
}

/**
 * A callback whose evaluation has no visible effect, so calling it fewer times (`.some`,
 * `.find`) or in another order changes nothing: no writes to anything but its own locals, no
 * `this`, `await`, `yield`, `new`, `delete`, and calls only to well-known pure methods.
 */
export function isPureCallback(ts: TypeScript, fn: TS.Node): boolean {
  if (!isFunctionLiteral(ts, fn)) return false;
  if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) return false;
  if (fn.asteriskToken) return false;
  const locals = localNames(ts, fn);
  let pure = true;
  const visit = (n: TS.Node): void => {
    if (!pure) return;
    if (
      n.kind === ts.SyntaxKind.ThisKeyword ||
      ts.isAwaitExpression(n) ||
      ts.isYieldExpression(n) ||
      ts.isNewExpression(n) ||
      ts.isDeleteExpression(n) ||
      ts.isTaggedTemplateExpression(n)
    ) {
      pure = false;
      return;
    }
    if (ts.isCallExpression(n)) {
      const callee = unwrap(ts, n.expression);
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee) && ['Number', 'String', 'Boolean'].includes(callee.text)
          ? 'toString'
          : undefined;
      if (!name || !PURE_METHODS.has(name)) {
        pure = false;
        return;
      }
    }
    if (ts.isIdentifier(n) && isWriteTarget(ts, n) && !locals.has(n.text)) {
      pure = false;
      return;
    }
    if (
      (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) &&
      isWriteTarget(ts, n)
    ) {
      pure = false;
      return;
    }
    if (ts.isBinaryExpression(n) && n.left.kind !== ts.SyntaxKind.Identifier) {
      const k = n.operatorToken.kind;
      // Destructuring assignments `[a, b] = …` write through patterns.
      if (
        k === ts.SyntaxKind.EqualsToken &&
        (ts.isArrayLiteralExpression(n.left) || ts.isObjectLiteralExpression(n.left))
      ) {
        pure = false;
        return;
      }
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn, (child) => {
    if (child !== fn.name) visit(child);
  });
  return pure;
}

/** A literal or identifier: evaluating it twice, or earlier, changes nothing. */
export function isSideEffectFree(ts: TypeScript, node: TS.Expression): boolean {
  const n = unwrap(ts, node);
  if (
    ts.isIdentifier(n) ||
    ts.isStringLiteral(n) ||
    ts.isNumericLiteral(n) ||
    ts.isNoSubstitutionTemplateLiteral(n) ||
    n.kind === ts.SyntaxKind.TrueKeyword ||
    n.kind === ts.SyntaxKind.FalseKeyword ||
    n.kind === ts.SyntaxKind.NullKeyword
  )
    return true;
  if (ts.isPropertyAccessExpression(n) && !n.questionDotToken)
    return isSideEffectFree(ts, n.expression);
  return false;
}

export function isPrimitiveLiteral(ts: TypeScript, node: TS.Expression): boolean {
  const n = unwrap(ts, node);
  return (
    ts.isStringLiteral(n) ||
    ts.isNumericLiteral(n) ||
    ts.isNoSubstitutionTemplateLiteral(n) ||
    ts.isBigIntLiteral(n) ||
    n.kind === ts.SyntaxKind.TrueKeyword ||
    n.kind === ts.SyntaxKind.FalseKeyword ||
    n.kind === ts.SyntaxKind.NullKeyword ||
    (ts.isPrefixUnaryExpression(n) &&
      n.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(n.operand))
  );
}

/** Is the declaration a `const` variable? */
export function isConstDeclaration(ts: TypeScript, d: TS.Node | undefined): boolean {
  return (
    d !== undefined &&
    ts.isVariableDeclaration(d) &&
    ts.isVariableDeclarationList(d.parent) &&
    (d.parent.flags & ts.NodeFlags.Const) !== 0
  );
}

/** Is the statement or declaration `export`ed (a modifier on it)? */
export function hasExportModifier(ts: TypeScript, node: TS.Node): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
}
