/**
 * Names without a type checker: which identifiers are references, where a name is declared as
 * seen from a node (lexical scopes plus `var` and function hoisting), and whether a name is
 * still the global. When syntax cannot tell, the answers lean to "declared" and "referenced",
 * which makes every guard built on them refuse rather than guess.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import { bindingNames, isConstDeclaration, unwrap, walk } from './syntax.js';

/** Identifiers that name a declaration (so they are not references to it). */
export function isDeclarationName(ts: TypeScript, id: TS.Identifier): boolean {
  const p = id.parent;
  return (
    (ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isClassExpression(p) ||
      ts.isBindingElement(p) ||
      ts.isImportSpecifier(p) ||
      ts.isImportClause(p) ||
      ts.isNamespaceImport(p) ||
      ts.isImportEqualsDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isEnumDeclaration(p) ||
      ts.isModuleDeclaration(p) ||
      ts.isTypeParameterDeclaration(p)) &&
    p.name === id
  );
}

/**
 * Identifiers that name a property, member, label or another module's export rather than a
 * variable: `a.NAME`, `{ NAME: v }`, `{ NAME: local } = o`, `import { NAME as x }`,
 * `export { x as NAME }`.
 */
function isPropertyName(ts: TypeScript, id: TS.Identifier): boolean {
  const p = id.parent;
  return (
    ((ts.isPropertyAccessExpression(p) ||
      ts.isPropertyAssignment(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isPropertySignature(p) ||
      ts.isMethodSignature(p) ||
      ts.isGetAccessor(p) ||
      ts.isSetAccessor(p) ||
      ts.isEnumMember(p) ||
      ts.isMetaProperty(p)) &&
      p.name === id) ||
    (ts.isQualifiedName(p) && p.right === id) ||
    ((ts.isBindingElement(p) || ts.isImportSpecifier(p)) && p.propertyName === id) ||
    (ts.isExportSpecifier(p) && p.propertyName !== undefined && p.name === id) ||
    (ts.isJsxAttribute(p) && p.name === id) ||
    ts.isLabeledStatement(p) ||
    ts.isBreakOrContinueStatement(p)
  );
}

/** Does this identifier read or write a variable (rather than declare or name a property)? */
export function isReference(ts: TypeScript, id: TS.Identifier): boolean {
  return !isDeclarationName(ts, id) && !isPropertyName(ts, id);
}

/** Every identifier spelled `name` under `root`: references, declarations, property names. */
export function identifiersNamed(ts: TypeScript, root: TS.Node, name: string): TS.Identifier[] {
  const out: TS.Identifier[] = [];
  walk(ts, root, (n) => {
    if (ts.isIdentifier(n) && n.text === name) out.push(n);
  });
  return out;
}

/** Every identifier named `name` under `root` that reads or writes a variable. */
export function references(ts: TypeScript, root: TS.Node, name: string): TS.Identifier[] {
  return identifiersNamed(ts, root, name).filter((id) => isReference(ts, id));
}

/** The names of every declaration of `name` under `root`, in any scope (types included). */
export function declarations(ts: TypeScript, root: TS.Node, name: string): TS.Identifier[] {
  return identifiersNamed(ts, root, name).filter((id) => isDeclarationName(ts, id));
}

export type Declaration =
  | TS.VariableDeclaration
  | TS.ParameterDeclaration
  | TS.FunctionDeclaration
  | TS.FunctionExpression
  | TS.ClassDeclaration
  | TS.ClassExpression
  | TS.ImportClause
  | TS.ImportSpecifier
  | TS.NamespaceImport
  | TS.ImportEqualsDeclaration
  | TS.EnumDeclaration
  | TS.ModuleDeclaration;

/** The value names a statement declares in the scope it stands in (not in nested blocks). */
export function declaredNames(ts: TypeScript, s: TS.Statement): [TS.Identifier, Declaration][] {
  if (ts.isVariableStatement(s))
    return s.declarationList.declarations.flatMap((d) =>
      bindingNames(ts, d.name).map((id): [TS.Identifier, Declaration] => [id, d]),
    );
  if (
    (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) &&
    s.name
  )
    return [[s.name, s]];
  if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name)) return [[s.name, s]];
  if (ts.isImportEqualsDeclaration(s)) return [[s.name, s]];
  if (ts.isImportDeclaration(s) && s.importClause) {
    const c = s.importClause;
    const out: [TS.Identifier, Declaration][] = [];
    if (c.name) out.push([c.name, c]);
    const b = c.namedBindings;
    if (b && ts.isNamespaceImport(b)) out.push([b.name, b]);
    if (b && ts.isNamedImports(b)) for (const el of b.elements) out.push([el.name, el]);
    return out;
  }
  return [];
}

const blockCache = new WeakMap<TS.Node, Map<string, Declaration>>();

/** What the statements directly in a block, clause or file declare, by name (built once). */
function declaredIn(
  ts: TypeScript,
  scope: TS.Node,
  statements: () => readonly TS.Statement[],
): Map<string, Declaration> {
  let names = blockCache.get(scope);
  if (names) return names;
  names = new Map();
  for (const s of statements())
    for (const [id, d] of declaredNames(ts, s)) if (!names.has(id.text)) names.set(id.text, d);
  blockCache.set(scope, names);
  return names;
}

const hoistedCache = new WeakMap<TS.Node, Map<string, Declaration>>();

/**
 * `var` declarations and function declarations in the nested blocks of a function body or a
 * file: visible in the whole scope, not only in their block. (Block-level functions are
 * block-scoped in strict code, but sloppy scripts hoist them: counting them errs towards
 * "declared".) Computed once per scope.
 */
function hoisted(ts: TypeScript, scope: TS.Node): Map<string, Declaration> {
  let names = hoistedCache.get(scope);
  if (names) return names;
  const found = new Map<string, Declaration>();
  const visit = (n: TS.Node): void => {
    if (ts.isFunctionDeclaration(n)) {
      if (n.name && !found.has(n.name.text)) found.set(n.name.text, n);
      return;
    }
    if (ts.isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isVariableDeclarationList(n) && (n.flags & ts.NodeFlags.BlockScoped) === 0)
      for (const d of n.declarations)
        for (const id of bindingNames(ts, d.name)) if (!found.has(id.text)) found.set(id.text, d);
    ts.forEachChild(n, visit);
  };
  if (ts.isSourceFile(scope)) for (const s of scope.statements) visit(s);
  else ts.forEachChild(scope, visit);
  names = found;
  hoistedCache.set(scope, names);
  return names;
}

/**
 * The declaration a name refers to at `from`, walking the enclosing scopes syntactically
 * (blocks, loop heads, `catch`, parameters, named function and class expressions, hoisted
 * `var`s and functions). Undefined means "not declared in this file", i.e. a global.
 */
export function findDeclaration(
  ts: TypeScript,
  from: TS.Node,
  name: string,
): Declaration | undefined {
  for (let n: TS.Node | undefined = from.parent; n; n = n.parent) {
    let found: Declaration | undefined;
    if (ts.isSourceFile(n)) {
      const sf = n;
      found = declaredIn(ts, sf, () => sf.statements).get(name) ?? hoisted(ts, sf).get(name);
    } else if (ts.isBlock(n) || ts.isModuleBlock(n)) {
      const block = n;
      found = declaredIn(ts, block, () => block.statements).get(name);
    } else if (ts.isCaseBlock(n)) {
      // `let` in one clause is visible in every clause of the switch.
      const cases = n;
      found = declaredIn(ts, cases, () => cases.clauses.flatMap((c) => c.statements)).get(name);
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
    } else if (ts.isClassExpression(n) && n.name?.text === name) {
      found = n;
    } else if (ts.isFunctionLike(n)) {
      found = (n.parameters as readonly TS.ParameterDeclaration[]).find((p) =>
        bindingNames(ts, p.name).some((id) => id.text === name),
      );
      if (!found && ts.isFunctionExpression(n) && n.name?.text === name) found = n;
      if (!found && 'body' in n && n.body) found = hoisted(ts, n.body as TS.Node).get(name);
    }
    if (found) return found;
  }
  return undefined;
}

/** Is `name` at `node` the global of that name (nothing in the file declares it in scope)? */
export function isGlobal(ts: TypeScript, node: TS.Node, name: string): boolean {
  return findDeclaration(ts, node, name) === undefined;
}

/** The variable or parameter an identifier resolves to, when it resolves to one by its own name. */
export function resolveVariable(
  ts: TypeScript,
  id: TS.Identifier,
): TS.VariableDeclaration | TS.ParameterDeclaration | undefined {
  const d = findDeclaration(ts, id, id.text);
  if (!d || !(ts.isVariableDeclaration(d) || ts.isParameter(d))) return undefined;
  // `const { a } = o`: the declaration's initializer is `o`, not the value of `a`.
  return ts.isIdentifier(d.name) ? d : undefined;
}

/** The initializer of the `const` an expression names (through parentheses), if it is one. */
export function constInitializer(ts: TypeScript, expr: TS.Expression): TS.Expression | undefined {
  const e = unwrap(ts, expr);
  if (!ts.isIdentifier(e)) return undefined;
  const d = resolveVariable(ts, e);
  return isConstDeclaration(ts, d) ? d.initializer : undefined;
}

/** Is a declaration a module-level statement's (not inside any function or block)? */
export function isModuleLevel(ts: TypeScript, d: TS.Node): boolean {
  const statement = ts.isVariableDeclaration(d) ? d.parent.parent : d;
  return ts.isSourceFile(statement.parent);
}
