/** Rules about module-level bindings: constant lists, constant JSON, unused declarations. */
import type * as TS from 'typescript';
import type { TypeScript } from '../../typescript.js';
import {
  findDeclaration,
  hasExportModifier,
  isConstDeclaration,
  isFunctionLiteral,
  isPrimitiveLiteral,
  isReference,
  isStaticCall,
  isWriteTarget,
  PURE_METHODS,
  unwrap,
} from '../ast.js';
import type { Rule, RuleContext } from '../rule.js';
import { loopDepthOf, MUTATING_ARRAY_METHODS } from './shared.js';

/** `const` declarations with a plain identifier name, directly in the module's statements. */
function* moduleConsts(ts: TypeScript, sf: TS.SourceFile) {
  for (const s of sf.statements) {
    if (!ts.isVariableStatement(s) || (s.declarationList.flags & ts.NodeFlags.Const) === 0)
      continue;
    if (hasExportModifier(ts, s)) continue;
    for (const d of s.declarationList.declarations)
      if (ts.isIdentifier(d.name) && d.initializer) yield { statement: s, decl: d, name: d.name };
  }
}

function references(ctx: RuleContext, name: TS.Identifier): TS.Identifier[] {
  return (ctx.identifiers.get(name.text) ?? []).filter(
    (id) => id !== name && isReference(ctx.ts, id),
  );
}

/** `NAME.includes(x)`: the identifier is the receiver of an `includes` call. */
function isIncludesReceiver(ts: TypeScript, id: TS.Identifier): boolean {
  const access = id.parent;
  return (
    ts.isPropertyAccessExpression(access) &&
    access.expression === id &&
    access.name.text === 'includes' &&
    !access.questionDotToken &&
    ts.isCallExpression(access.parent) &&
    access.parent.expression === access &&
    access.parent.arguments.length === 1
  );
}

export const preferSetHas: Rule = {
  id: 'prefer-set-has',
  weight: 6,
  risk: 'low',
  rationale:
    'A constant array is only ever searched with `.includes`: each lookup scans the list, O(n).',
  expectedEffect: 'A module-level `Set` answers `.has` in O(1); big wins for long lists in loops.',
  finish(ctx) {
    const { ts, sf } = ctx;
    for (const { decl, name } of moduleConsts(ts, sf)) {
      const init = unwrap(ts, decl.initializer!);
      if (!ts.isArrayLiteralExpression(init) || init.elements.length < 2) continue;
      if (!init.elements.every((e) => isPrimitiveLiteral(ts, e))) continue;
      const refs = references(ctx, name);
      // Never exported, passed, mutated or aliased: every use is `NAME.includes(x)`.
      if (refs.length === 0 || !refs.every((r) => isIncludesReceiver(ts, r))) continue;
      const depth = Math.max(...refs.map((r) => loopDepthOf(ts, r)));
      ctx.report(decl, {
        loopDepth: depth,
        rationale: `\`${name.text}\` (${init.elements.length} literals) is only used with \`.includes\` (${refs.length}×): a Set makes each lookup O(1).`,
      });
    }
  },
};

/** Is the file a module, where an unreferenced top-level binding is truly unreachable? */
function isModule(ctx: RuleContext): boolean {
  const { ts, sf } = ctx;
  if (
    sf.statements.some(
      (s) =>
        ts.isImportDeclaration(s) ||
        ts.isExportDeclaration(s) ||
        ts.isExportAssignment(s) ||
        hasExportModifier(ts, s),
    )
  )
    return true;
  return (
    (ctx.identifiers.get('module')?.length ?? 0) > 0 ||
    (ctx.identifiers.get('exports')?.length ?? 0) > 0
  );
}

/** Evaluating it has no effect, so deleting the declaration deletes nothing else. */
function isInertInitializer(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (isFunctionLiteral(ts, e) || isPrimitiveLiteral(ts, e) || ts.isRegularExpressionLiteral(e))
    return true;
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => isInertInitializer(ts, x));
  if (ts.isObjectLiteralExpression(e))
    return e.properties.every(
      (p) =>
        (ts.isPropertyAssignment(p) &&
          !ts.isComputedPropertyName(p.name) &&
          isInertInitializer(ts, p.initializer)) ||
        ts.isMethodDeclaration(p),
    );
  return false;
}

/** References outside the declaration itself (a function calling only itself is still dead). */
function usedOutside(ctx: RuleContext, name: TS.Identifier, decl: TS.Node): boolean {
  return references(ctx, name).some((r) => r.pos < decl.pos || r.end > decl.end);
}

export const removeDeadCode: Rule = {
  id: 'remove-dead-code',
  weight: 1,
  risk: 'low',
  rationale: 'A module-level declaration that is neither exported nor referenced anywhere.',
  expectedEffect:
    'Less code to parse and load; the template removes it and the build and typecheck prove it unused.',
  finish(ctx) {
    const { ts, sf } = ctx;
    if (!isModule(ctx)) return;
    for (const s of sf.statements) {
      if (hasExportModifier(ts, s)) continue;
      if (
        ts.canHaveModifiers(s) &&
        ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
      )
        continue;
      if (ts.isFunctionDeclaration(s) && s.name && s.body) {
        if (!usedOutside(ctx, s.name, s))
          ctx.report(s, {
            rationale: `\`${s.name.text}\` is declared but never exported or used.`,
          });
      } else if (ts.isClassDeclaration(s) && s.name && !ts.getDecorators(s)?.length) {
        if (!usedOutside(ctx, s.name, s))
          ctx.report(s, {
            rationale: `\`${s.name.text}\` is declared but never exported or used.`,
          });
      } else if (ts.isVariableStatement(s) && s.declarationList.declarations.length === 1) {
        const d = s.declarationList.declarations[0]!;
        if (!ts.isIdentifier(d.name) || !d.initializer) continue;
        if (!isInertInitializer(ts, d.initializer)) continue;
        if (!usedOutside(ctx, d.name, s))
          ctx.report(s, {
            rationale: `\`${d.name.text}\` is declared but never exported or used.`,
          });
      }
    }
  },
};

/** A string known at module load: a literal, or a module-level `const` bound to one. */
function isConstantString(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return true;
  if (!ts.isIdentifier(e)) return false;
  const decl = findDeclaration(ts, e, e.text);
  if (!isConstDeclaration(ts, decl)) return false;
  const d = decl as TS.VariableDeclaration;
  if (!ts.isVariableStatement(d.parent.parent) || !ts.isSourceFile(d.parent.parent.parent))
    return false;
  return (
    d.initializer !== undefined &&
    (ts.isStringLiteral(unwrap(ts, d.initializer)) ||
      ts.isNoSubstitutionTemplateLiteral(unwrap(ts, d.initializer)))
  );
}

/**
 * Only read through property access: never written, never handed on whole (returned, passed,
 * stored), never the receiver of a mutating method.
 */
function isReadOnlyAccess(ts: TypeScript, expr: TS.Node): boolean {
  let top: TS.Node = expr;
  let accessed = false;
  for (;;) {
    let p = top.parent;
    while (ts.isParenthesizedExpression(p) || ts.isNonNullExpression(p)) [top, p] = [p, p.parent];
    if (
      (ts.isPropertyAccessExpression(p) || ts.isElementAccessExpression(p)) &&
      p.expression === top
    ) {
      top = p;
      accessed = true;
      continue;
    }
    break;
  }
  if (!accessed || isWriteTarget(ts, top)) return false;
  const p = top.parent;
  if (ts.isCallExpression(p) && p.expression === top) {
    const name = ts.isPropertyAccessExpression(top) ? top.name.text : '';
    return PURE_METHODS.has(name) && !MUTATING_ARRAY_METHODS.has(name);
  }
  return true;
}

export const hoistJsonParse: Rule = {
  id: 'hoist-json-parse',
  weight: 6,
  risk: 'medium',
  rationale:
    '`JSON.parse` of a constant string runs on every call although the result never changes.',
  expectedEffect: 'Parsed once at module load; each call saves a full parse of the string.',
  kinds: ['CallExpression'],
  visit(node, { ts, state, report }) {
    if (state.fn === undefined && state.loopDepth === 0) return;
    if (!isStaticCall(ts, node, 'JSON', 'parse')) return;
    const call = node as TS.CallExpression;
    if (call.arguments.length !== 1 || !isConstantString(ts, call.arguments[0]!)) return;
    if (findDeclaration(ts, call, 'JSON')) return;
    let bound: TS.Node = call;
    while (ts.isParenthesizedExpression(bound.parent) || ts.isAsExpression(bound.parent))
      bound = bound.parent;
    const p = bound.parent;
    if (ts.isVariableDeclaration(p) && p.initializer === bound) {
      // Bound to a const whose every use only reads from it.
      if (!isConstDeclaration(ts, p) || !ts.isIdentifier(p.name)) return;
      const name = p.name.text;
      const scope = state.fn ?? call.getSourceFile();
      const uses: TS.Identifier[] = [];
      const visit = (n: TS.Node): void => {
        if (ts.isIdentifier(n) && n.text === name && n !== p.name && isReference(ts, n))
          uses.push(n);
        ts.forEachChild(n, visit);
      };
      visit(scope);
      if (uses.length === 0 || !uses.every((u) => isReadOnlyAccess(ts, u))) return;
    } else if (!isReadOnlyAccess(ts, call)) {
      return;
    }
    report(call);
  },
};
