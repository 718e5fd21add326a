/**
 * Syntactic helpers the templates share. There is no type checker here (one file is parsed on
 * its own), so every guard is conservative: when syntax cannot prove a fact, the guard fails.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';

/** One text replacement in the original file: [start, end) becomes `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface TemplateContext {
  ts: TypeScript;
  sf: TS.SourceFile;
  text: string;
  /** Offsets of the opportunity's span. */
  start: number;
  end: number;
}

export function walk(ts: TypeScript, node: TS.Node, visit: (n: TS.Node) => void): void {
  const go = (n: TS.Node): void => {
    visit(n);
    ts.forEachChild(n, go);
  };
  go(node);
}

/**
 * The node matching `pred` nearest to the opportunity's span: one with exactly that span,
 * else the outermost inside it, else the innermost around it.
 */
export function locate<T extends TS.Node>(
  ctx: TemplateContext,
  pred: (n: TS.Node) => n is T,
): T | undefined {
  const { ts, sf, start, end } = ctx;
  let exact: T | undefined;
  let inside: T | undefined;
  let around: T | undefined;
  walk(ts, sf, (n) => {
    if (n === sf || !pred(n)) return;
    const s = n.getStart(sf);
    const e = n.getEnd();
    if (s === start && e === end) exact ??= n;
    else if (s >= start && e <= end) inside ??= n;
    else if (s <= start && e >= end) around = n;
  });
  return exact ?? inside ?? around;
}

/** The name of a declaration, when `id` is one (so it is not a reference). */
export function isDeclarationName(ts: TypeScript, id: TS.Identifier): boolean {
  const p = id.parent;
  return (
    ((ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isBindingElement(p) ||
      ts.isImportSpecifier(p) ||
      ts.isImportClause(p) ||
      ts.isNamespaceImport(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isEnumDeclaration(p)) &&
      p.name === id) ||
    (ts.isBindingElement(p) && p.propertyName === id)
  );
}

/** Identifiers that are property names (`a.NAME`, `{ NAME: v }`, members), not variables. */
function isPropertyName(ts: TypeScript, id: TS.Identifier): boolean {
  const p = id.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === id) ||
    (ts.isPropertyAssignment(p) && p.name === id) ||
    ((ts.isPropertyDeclaration(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isPropertySignature(p) ||
      ts.isMethodSignature(p) ||
      ts.isGetAccessor(p) ||
      ts.isSetAccessor(p) ||
      ts.isEnumMember(p)) &&
      p.name === id) ||
    (ts.isQualifiedName(p) && p.right === id) ||
    ts.isLabeledStatement(p) ||
    ts.isBreakOrContinueStatement(p)
  );
}

/** Every identifier named `name` under `root` that reads or writes a variable. */
export function references(ts: TypeScript, root: TS.Node, name: string): TS.Identifier[] {
  const out: TS.Identifier[] = [];
  walk(ts, root, (n) => {
    if (
      ts.isIdentifier(n) &&
      n.text === name &&
      !isDeclarationName(ts, n) &&
      !isPropertyName(ts, n)
    ) {
      out.push(n);
    }
  });
  return out;
}

/** Declarations of `name` anywhere in the file (variables, parameters, functions, imports…). */
export function declarations(ts: TypeScript, root: TS.Node, name: string): TS.Identifier[] {
  const out: TS.Identifier[] = [];
  walk(ts, root, (n) => {
    if (ts.isIdentifier(n) && n.text === name && isDeclarationName(ts, n)) out.push(n);
  });
  return out;
}

export function isFunctionLike(
  ts: TypeScript,
  n: TS.Node,
): n is TS.ArrowFunction | TS.FunctionExpression | TS.FunctionDeclaration {
  return ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n);
}

export function enclosingFunction(ts: TypeScript, n: TS.Node): TS.SignatureDeclaration | undefined {
  for (let p = n.parent; p; p = p.parent) {
    if (ts.isFunctionLike(p)) return p;
  }
  return undefined;
}

/** An expression that can be evaluated twice or moved without changing anything. */
export function isSideEffectFree(ts: TypeScript, e: TS.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isSideEffectFree(ts, e.expression);
  if (ts.isIdentifier(e) || ts.isLiteralExpression(e) || e.kind === ts.SyntaxKind.ThisKeyword) {
    return true;
  }
  if (
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    e.kind === ts.SyntaxKind.NullKeyword
  ) {
    return true;
  }
  if (ts.isPropertyAccessExpression(e)) return isSideEffectFree(ts, e.expression);
  if (ts.isElementAccessExpression(e)) {
    return isSideEffectFree(ts, e.expression) && isSideEffectFree(ts, e.argumentExpression);
  }
  return false;
}

const MATH_IMPURE = new Set(['random']);
/** Methods that neither mutate their receiver nor have other effects on the usual built-ins. */
const PURE_METHODS = new Set([
  'has',
  'get',
  'includes',
  'indexOf',
  'lastIndexOf',
  'startsWith',
  'endsWith',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'toLowerCase',
  'toUpperCase',
  'toLocaleLowerCase',
  'toLocaleUpperCase',
  'trim',
  'trimStart',
  'trimEnd',
  'slice',
  'substring',
  'substr',
  'at',
  'padStart',
  'padEnd',
  'repeat',
  'concat',
  'split',
  'join',
  'some',
  'every',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'filter',
  'map',
  'reduce',
  'flatMap',
  'toString',
  'toFixed',
  'localeCompare',
  'normalize',
]);
const PURE_STATICS: Record<string, Set<string>> = {
  Number: new Set(['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'parseFloat', 'parseInt']),
  Array: new Set(['isArray']),
  Object: new Set(['keys', 'values', 'entries']),
  String: new Set(['fromCharCode', 'fromCodePoint']),
};
const PURE_FUNCTIONS = new Set([
  'String',
  'Number',
  'Boolean',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
]);
const PURE_CONSTRUCTORS = new Set(['Set', 'Map', 'Array']);

/** Names declared inside `fn` (its parameters included). */
export function localNames(ts: TypeScript, fn: TS.Node): Set<string> {
  const names = new Set<string>();
  walk(ts, fn, (n) => {
    if (ts.isIdentifier(n) && isDeclarationName(ts, n) && n.parent !== fn) names.add(n.text);
  });
  return names;
}

/**
 * Why `fn` may have a side effect, or undefined when syntax shows none: no assignment outside
 * its own locals, no `delete`/`await`/`yield`/`this`, calls only to known pure built-ins (and
 * to `selfName`, for recursion).
 */
export function impurityOf(
  ts: TypeScript,
  fn: TS.SignatureDeclaration,
  selfName?: string,
): string | undefined {
  const locals = localNames(ts, fn);
  let reason: string | undefined;
  const isLocalTarget = (e: TS.Expression): boolean => ts.isIdentifier(e) && locals.has(e.text);
  walk(ts, fn, (n) => {
    if (reason) return;
    if (ts.isBinaryExpression(n)) {
      const op = n.operatorToken.kind;
      if (
        op >= ts.SyntaxKind.FirstAssignment &&
        op <= ts.SyntaxKind.LastAssignment &&
        !isLocalTarget(n.left)
      ) {
        reason = `it assigns to ${n.left.getText()}`;
      }
    } else if (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) {
      const op = n.operator;
      if (
        (op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken) &&
        !isLocalTarget(n.operand)
      ) {
        reason = `it updates ${n.operand.getText()}`;
      }
    } else if (ts.isDeleteExpression(n)) reason = 'it deletes a property';
    else if (ts.isAwaitExpression(n)) reason = 'it awaits';
    else if (ts.isYieldExpression(n)) reason = 'it yields';
    else if (n.kind === ts.SyntaxKind.ThisKeyword) reason = 'it uses `this`';
    else if (ts.isNewExpression(n)) {
      if (!ts.isIdentifier(n.expression) || !PURE_CONSTRUCTORS.has(n.expression.text)) {
        reason = `it constructs ${n.expression.getText()}`;
      }
    } else if (ts.isCallExpression(n) || ts.isTaggedTemplateExpression(n)) {
      const callee = ts.isCallExpression(n) ? n.expression : n.tag;
      if (!isPureCallee(ts, callee, selfName)) reason = `it calls ${callee.getText()}`;
    }
  });
  return reason;
}

function isPureCallee(ts: TypeScript, callee: TS.Expression, selfName?: string): boolean {
  if (ts.isIdentifier(callee)) return PURE_FUNCTIONS.has(callee.text) || callee.text === selfName;
  if (!ts.isPropertyAccessExpression(callee)) return false;
  const method = callee.name.text;
  if (ts.isIdentifier(callee.expression)) {
    const receiver = callee.expression.text;
    if (receiver === 'Math') return !MATH_IMPURE.has(method);
    const statics = PURE_STATICS[receiver];
    if (statics) return statics.has(method);
  }
  return PURE_METHODS.has(method);
}

/** `/source/flags` of a regex literal. */
export function regexParts(text: string): { source: string; flags: string } {
  const slash = text.lastIndexOf('/');
  return { source: text.slice(1, slash), flags: text.slice(slash + 1) };
}

/** The module-level `const` regex literal an identifier stands for, if any. */
export function resolveConstInitializer(
  ts: TypeScript,
  sf: TS.SourceFile,
  id: TS.Identifier,
): TS.Expression | undefined {
  const decls = declarations(ts, sf, id.text);
  if (decls.length !== 1) return undefined;
  const decl = decls[0]!.parent;
  if (!ts.isVariableDeclaration(decl) || !decl.initializer) return undefined;
  const list = decl.parent;
  if (!ts.isVariableDeclarationList(list) || !(list.flags & ts.NodeFlags.Const)) return undefined;
  return decl.initializer;
}

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

/** True only when syntax proves `e` evaluates to a string. */
export function isKnownString(ts: TypeScript, sf: TS.SourceFile, e: TS.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isKnownString(ts, sf, e.expression);
  if (
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTemplateExpression(e)
  ) {
    return true;
  }
  if (ts.isCallExpression(e)) {
    if (ts.isIdentifier(e.expression)) return e.expression.text === 'String';
    return (
      ts.isPropertyAccessExpression(e.expression) && STRING_METHODS.has(e.expression.name.text)
    );
  }
  if (ts.isAsExpression(e)) return e.type.kind === ts.SyntaxKind.StringKeyword;
  if (!ts.isIdentifier(e)) return false;
  const decls = declarations(ts, sf, e.text);
  if (decls.length !== 1) return false;
  const d = decls[0]!.parent;
  if (ts.isParameter(d)) {
    const type = d.type ?? ts.getJSDocType(d);
    return type?.kind === ts.SyntaxKind.StringKeyword && !d.questionToken && !d.dotDotDotToken;
  }
  if (ts.isVariableDeclaration(d)) {
    if (d.type) return d.type.kind === ts.SyntaxKind.StringKeyword;
    const isConst = ts.isVariableDeclarationList(d.parent) && d.parent.flags & ts.NodeFlags.Const;
    return Boolean(isConst && d.initializer && isKnownString(ts, sf, d.initializer));
  }
  return false;
}

/** A name not yet used anywhere in the file. */
export function uniqueName(ts: TypeScript, sf: TS.SourceFile, wanted: string): string {
  const used = new Set<string>();
  walk(ts, sf, (n) => {
    if (ts.isIdentifier(n)) used.add(n.text);
  });
  if (!used.has(wanted)) return wanted;
  for (let i = 2; ; i++) if (!used.has(`${wanted}_${i}`)) return `${wanted}_${i}`;
}

export function upperSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * An edit adding a module-level statement after the imports (or before the first statement):
 * evaluated before anything else in the module, so no temporal-dead-zone surprise even when a
 * hoisted function is called during module initialisation. When the statement reads
 * module-level names (`uses`: `JSON.parse(DEFAULTS)` reads DEFAULTS), it goes right after the
 * last of their declarations instead: above them it would read them in their dead zone.
 */
export function insertAtModuleTop(
  ts: TypeScript,
  sf: TS.SourceFile,
  statement: string,
  uses: readonly string[] = [],
): Edit {
  let lastPrologue: TS.Statement | undefined;
  for (const s of sf.statements) {
    if (
      ts.isImportDeclaration(s) ||
      ts.isImportEqualsDeclaration(s) ||
      (ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression))
    ) {
      lastPrologue = s;
    } else {
      break;
    }
  }
  const declaring = sf.statements.filter(
    (s) =>
      ts.isVariableStatement(s) &&
      s.declarationList.declarations.some(
        (d) => ts.isIdentifier(d.name) && uses.includes(d.name.text),
      ),
  );
  const after = declaring.at(-1) ?? lastPrologue;
  if (after) return { start: after.end, end: after.end, text: `\n${statement}` };
  if (lastPrologue)
    return { start: lastPrologue.end, end: lastPrologue.end, text: `\n${statement}` };
  const first = sf.statements[0];
  const at = first ? first.getStart(sf) : sf.end;
  return { start: at, end: at, text: first ? `${statement}\n\n` : `${statement}\n` };
}

export function isExported(
  ts: TypeScript,
  sf: TS.SourceFile,
  statement: TS.Statement,
  name: string,
): boolean {
  const mods = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
  if (mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return true;
  let exported = false;
  walk(ts, sf, (n) => {
    if (ts.isExportSpecifier(n) && (n.propertyName ?? n.name).getText(sf) === name) exported = true;
    if (ts.isExportAssignment(n) && ts.isIdentifier(n.expression) && n.expression.text === name) {
      exported = true;
    }
  });
  return exported;
}
