/**
 * What only the templates need on top of the shared analysis (../ast): finding the node an
 * opportunity points at, and producing edits (fresh names, module-level insertions).
 */
import type * as TS from 'typescript';
import { hasExportModifier, references, walk } from '../ast/index.js';
import type { TypeScript } from '../typescript.js';
import type { FileLevel } from './level.js';

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
  /** What the file's repository accepts: `var` or `const`, which built-ins exist. */
  level: FileLevel;
  /**
   * Names other templates of the same candidate already chose (one rule's findings in one file
   * merged into one candidate): uniqueName avoids them and adds its own.
   */
  taken?: Set<string>;
}

/** `const` where the repository writes it, `var` in ES5 code. */
export function constKeyword(ctx: Pick<TemplateContext, 'level'>): 'const' | 'var' {
  return ctx.level.allows('blockBindings') ? 'const' : 'var';
}

/** An edit replacing a node's text (its leading trivia stays). */
export function replace(node: TS.Node, sf: TS.SourceFile, text: string): Edit {
  return { start: node.getStart(sf), end: node.getEnd(), text };
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

/** A name not yet used anywhere in the file. */
export function uniqueName(
  ts: TypeScript,
  sf: TS.SourceFile,
  wanted: string,
  taken?: Set<string>,
): string {
  const used = new Set<string>(taken);
  walk(ts, sf, (n) => {
    if (ts.isIdentifier(n)) used.add(n.text);
  });
  let name = wanted;
  for (let i = 2; used.has(name); i++) name = `${wanted}_${i}`;
  taken?.add(name);
  return name;
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
  const first = sf.statements[0];
  const at = first ? first.getStart(sf) : sf.end;
  return { start: at, end: at, text: first ? `${statement}\n\n` : `${statement}\n` };
}

/** Is `name`, declared by `statement`, exported: by a modifier, `export { name }` or `export =`? */
export function isExported(
  ts: TypeScript,
  sf: TS.SourceFile,
  statement: TS.Statement,
  name: string,
): boolean {
  if (hasExportModifier(ts, statement)) return true;
  return references(ts, sf, name).some(
    (r) => ts.isExportSpecifier(r.parent) || ts.isExportAssignment(r.parent),
  );
}
