/**
 * The structural check (perf-validation.md, step 5): before any benchmark, a patch must change
 * the target's syntax tree — not only its formatting or comments — and must not add a
 * declaration or import that nothing uses (a classic way to "optimise" by adding dead code).
 */
import type * as TS from 'typescript';
import type { PatchRejection } from '../../contracts/index.js';
import { declaredNames, hasExportModifier, parseSource, references } from '../ast/index.js';
import { loadTypeScript, type TypeScript } from '../typescript.js';

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
  return new Set(sf.statements.flatMap((s) => declaredNames(ts, s).map(([id]) => id.text)));
}

function isExportedName(ts: TypeScript, sf: TS.SourceFile, name: string): boolean {
  return sf.statements.some(
    (s) => hasExportModifier(ts, s) && declaredNames(ts, s).some(([id]) => id.text === name),
  );
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
  const a = parseSource(ts, file, before);
  const b = parseSource(ts, file, after);
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
