/**
 * One file through every rule in one AST walk: the walk keeps the loop depth and the enclosing
 * function, dispatches each node to the rules that asked for its kind, collects identifiers for
 * the end-of-file rules and the relative module specifiers for the import graph.
 */
import type * as TS from 'typescript';
import { isIterationCallback, isLoop, parseSource } from '../ast/index.js';
import type { TypeScript } from '../typescript.js';
import type { ReportOptions, Rule, RuleContext, WalkState } from './rule.js';

export interface RawFinding {
  rule: Rule;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  loopDepth: number;
  requiresHot: boolean;
  rationale: string;
  /** This finding's weight when it differs from the rule's. */
  weight?: number;
}

export interface FileScan {
  findings: RawFinding[];
  /** Module specifiers of imports, re-exports, `require()` and `import()` (as written). */
  specifiers: string[];
  lines: number;
}

/** Rules indexed by the numeric syntax kinds they visit (built once per loaded compiler). */
const dispatchCache = new WeakMap<readonly Rule[], Map<number, Rule[]>>();

function dispatchTable(ts: TypeScript, rules: readonly Rule[]): Map<number, Rule[]> {
  let table = dispatchCache.get(rules);
  if (table) return table;
  table = new Map();
  for (const rule of rules) {
    for (const name of rule.kinds ?? []) {
      const kind = ts.SyntaxKind[name];
      const list = table.get(kind) ?? [];
      list.push(rule);
      table.set(kind, list);
    }
  }
  dispatchCache.set(rules, table);
  return table;
}

export function scanFile(
  ts: TypeScript,
  file: string,
  text: string,
  rules: readonly Rule[],
): FileScan {
  const sf = parseSource(ts, file, text);
  const table = dispatchTable(ts, rules);
  const findings: RawFinding[] = [];
  const specifiers: string[] = [];
  const identifiers = new Map<string, TS.Identifier[]>();
  const state: WalkState = { loopDepth: 0, loopsInFunction: 0, fn: undefined };
  let current: Rule = rules[0]!;

  const ctx: RuleContext = {
    ts,
    sf,
    state,
    identifiers,
    report(node: TS.Node, options: ReportOptions = {}) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      const end = sf.getLineAndCharacterOfPosition(node.getEnd());
      const last = findings[findings.length - 1];
      // Two arms of one rule may reach the same node (`new Set([...xs.map(f)])`): report once.
      if (
        last?.rule === current &&
        last.line === start.line + 1 &&
        last.column === start.character + 1 &&
        last.endColumn === end.character + 1
      )
        return;
      findings.push({
        rule: current,
        line: start.line + 1,
        column: start.character + 1,
        endLine: end.line + 1,
        endColumn: end.character + 1,
        loopDepth: options.loopDepth ?? state.loopDepth,
        requiresHot: options.requiresHot ?? false,
        rationale: options.rationale ?? current.rationale,
        ...(options.weight !== undefined ? { weight: options.weight } : {}),
      });
    },
  };

  const visit = (node: TS.Node): void => {
    const kind = node.kind;
    if (kind === ts.SyntaxKind.Identifier) {
      const id = node as TS.Identifier;
      const list = identifiers.get(id.text);
      if (list) list.push(id);
      else identifiers.set(id.text, [id]);
      return;
    }
    const interested = table.get(kind);
    if (interested)
      for (const rule of interested) {
        current = rule;
        rule.visit!(node, ctx);
      }
    collectSpecifier(ts, node, specifiers);

    const loop = isLoop(ts, node);
    const fnLike = ts.isFunctionLike(node);
    const callback = fnLike && isIterationCallback(ts, node);
    const savedDepth = state.loopDepth;
    const savedLoops = state.loopsInFunction;
    const savedFn = state.fn;
    if (fnLike) {
      state.fn = node as TS.SignatureDeclaration;
      state.loopsInFunction = 0;
    }
    if (loop && !(ts.isForOfStatement(node) && node.awaitModifier)) state.loopsInFunction++;
    if (loop || callback) state.loopDepth++;
    ts.forEachChild(node, visit);
    state.loopDepth = savedDepth;
    state.loopsInFunction = savedLoops;
    state.fn = savedFn;
  };
  visit(sf);

  state.loopDepth = 0;
  state.loopsInFunction = 0;
  state.fn = undefined;
  for (const rule of rules) {
    if (!rule.finish) continue;
    current = rule;
    rule.finish(ctx);
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { findings, specifiers, lines: sf.getLineStarts().length };
}

function collectSpecifier(ts: TypeScript, node: TS.Node, out: string[]): void {
  if (
    (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
    node.moduleSpecifier &&
    ts.isStringLiteral(node.moduleSpecifier)
  ) {
    out.push(node.moduleSpecifier.text);
  } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
    const arg = node.arguments[0]!;
    const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
    const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
    if ((isRequire || isImport) && ts.isStringLiteralLike(arg)) out.push(arg.text);
  }
}
