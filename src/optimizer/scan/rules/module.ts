/** Rules about module-level bindings: constant lists, constant JSON, unused declarations. */
import type * as TS from 'typescript';
import {
  classLoadEffect,
  hasExportModifier,
  hasModifier,
  isInertInitializer,
  isPrimitiveLiteral,
  isReference,
  isStaticCall,
  jsonParseHoist,
  loopDepthOf,
  setHasProblem,
  unwrap,
} from '../../ast/index.js';
import type { Rule, RuleContext } from '../rule.js';

function references(ctx: RuleContext, name: TS.Identifier): TS.Identifier[] {
  return (ctx.identifiers.get(name.text) ?? []).filter((id) => isReference(ctx.ts, id));
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
    for (const s of sf.statements) {
      if (!ts.isVariableStatement(s)) continue;
      for (const decl of s.declarationList.declarations) {
        const init = decl.initializer && unwrap(ts, decl.initializer);
        if (!init || !ts.isArrayLiteralExpression(init) || !ts.isIdentifier(decl.name)) continue;
        // Worth it for a list of constants; the template's guard decides whether it is safe.
        if (init.elements.length < 2 || !init.elements.every((e) => isPrimitiveLiteral(ts, e)))
          continue;
        const name = decl.name;
        if (setHasProblem(ts, decl, ctx.identifiers.get(name.text) ?? [])) continue;
        const refs = references(ctx, name);
        const depth = Math.max(...refs.map((r) => loopDepthOf(ts, r)));
        ctx.report(decl, {
          loopDepth: depth,
          rationale: `\`${name.text}\` (${init.elements.length} literals) is only used with \`.includes\` (${refs.length}×): a Set makes each lookup O(1).`,
        });
      }
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
      if (hasModifier(ts, s, ts.SyntaxKind.DeclareKeyword)) continue;
      if (ts.isFunctionDeclaration(s) && s.name && s.body) {
        if (!usedOutside(ctx, s.name, s))
          ctx.report(s, {
            rationale: `\`${s.name.text}\` is declared but never exported or used.`,
          });
      } else if (ts.isClassDeclaration(s) && s.name && !classLoadEffect(ts, s)) {
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

export const hoistJsonParse: Rule = {
  id: 'hoist-json-parse',
  weight: 6,
  risk: 'medium',
  rationale:
    '`JSON.parse` of a constant string runs on every call although the result never changes.',
  expectedEffect: 'Parsed once at module load; each call saves a full parse of the string.',
  kinds: ['CallExpression'],
  visit(node, { ts, state, report }) {
    if (state.fn === undefined || !isStaticCall(ts, node, 'JSON', 'parse')) return;
    if (typeof jsonParseHoist(ts, node) !== 'string') report(node);
  },
};
