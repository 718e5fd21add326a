/**
 * The structural check (perf-validation.md, step 5): before any benchmark, a patch must change
 * the target's syntax tree — not only its formatting or comments — and must not add a
 * declaration or import that nothing uses (a classic way to "optimise" by adding dead code).
 */
import type * as TS from 'typescript';
import type { PatchRejection } from '../../contracts/index.js';
import { loadTypeScript, type TypeScript } from '../typescript.js';
import { references, walk } from './ast.js';

function parse(ts: TypeScript, text: string, fileName: string): TS.SourceFile {
  return ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    scriptKind(ts, fileName),
  );
}

export function scriptKind(ts: TypeScript, fileName: string): TS.ScriptKind {
  if (/\.tsx$/.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.jsx$/.test(fileName)) return ts.ScriptKind.JSX;
  if (/\.[cm]?js$/.test(fileName)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/** The tree as text: node kinds plus identifier and literal values, no trivia, no positions. */
export function normalizedAst(ts: TypeScript, sf: TS.SourceFile): string {
  const out: string[] = [];
  const visit = (n: TS.Node, depth: number): void => {
    const value =
      ts.isIdentifier(n) || ts.isPrivateIdentifier(n)
        ? n.text
        : ts.isLiteralExpression(n) || ts.isTemplateLiteralToken(n)
          ? n.text
          : '';
    out.push(`${depth}:${ts.SyntaxKind[n.kind]}${value ? `=${JSON.stringify(value)}` : ''}`);
    ts.forEachChild(n, (c) => visit(c, depth + 1));
  };
  visit(sf, 0);
  return out.join('\n');
}

/** The first syntax error of `text`, or undefined when it parses cleanly. */
export async function syntaxError(file: string, text: string): Promise<string | undefined> {
  const ts = await loadTypeScript();
  const out = ts.transpileModule(text, { fileName: file, reportDiagnostics: true });
  const d = out.diagnostics?.find((x) => x.category === ts.DiagnosticCategory.Error);
  if (!d) return undefined;
  const line =
    d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
  return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
}

/** Names a file declares at its top level (declarations and imported bindings). */
function topLevelNames(ts: TypeScript, sf: TS.SourceFile): Set<string> {
  const names = new Set<string>();
  const addBinding = (name: TS.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) addBinding(el.name);
  };
  for (const s of sf.statements) {
    if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations) addBinding(d.name);
    else if (
      (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) &&
      s.name
    ) {
      names.add(s.name.text);
    } else if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      const b = c.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(b.name.text);
      if (b && ts.isNamedImports(b)) for (const el of b.elements) names.add(el.name.text);
    }
  }
  return names;
}

function isExportedName(ts: TypeScript, sf: TS.SourceFile, name: string): boolean {
  let exported = false;
  for (const s of sf.statements) {
    const mods = ts.canHaveModifiers(s) ? ts.getModifiers(s) : undefined;
    if (!mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) exported ||= s.name?.text === name;
    if (ts.isVariableStatement(s)) {
      walk(ts, s.declarationList, (n) => {
        if (ts.isIdentifier(n) && n.text === name && ts.isVariableDeclaration(n.parent))
          exported = true;
      });
    }
  }
  return exported;
}

/**
 * PATCH_NO_AST_CHANGE when `after` parses to the same tree as `before`; PATCH_UNUSED_ADDITION
 * when `after` has a new top-level declaration or import nothing references (exports count as
 * used); null when the patch passes.
 *
 * @example await structuralCheck('a.ts', 'f( 1 )', 'f(1)') // { code: 'PATCH_NO_AST_CHANGE', … }
 */
export async function structuralCheck(
  file: string,
  before: string,
  after: string,
): Promise<PatchRejection | null> {
  const ts = await loadTypeScript();
  const a = parse(ts, before, file);
  const b = parse(ts, after, file);
  if (normalizedAst(ts, a) === normalizedAst(ts, b)) {
    return {
      code: 'PATCH_NO_AST_CHANGE',
      message: `${file}: the patch changes only formatting or comments, not the syntax tree`,
    };
  }
  const old = topLevelNames(ts, a);
  for (const name of topLevelNames(ts, b)) {
    if (old.has(name) || isExportedName(ts, b, name)) continue;
    if (references(ts, b, name).length === 0) {
      return {
        code: 'PATCH_UNUSED_ADDITION',
        message: `${file}: the patch adds \`${name}\`, which nothing references`,
      };
    }
  }
  return null;
}
