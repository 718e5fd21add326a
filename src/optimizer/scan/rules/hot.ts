/**
 * Hot-path habits from libraries' own performance commits: closures allocated per call that
 * capture nothing, objects that change shape as they are built, and three patterns reported for
 * review only (string building in loops, `arguments` in hot functions, try/catch in loops).
 */
import type * as TS from 'typescript';
import {
  closureHoist,
  enclosingFunction,
  findDeclaration,
  isFunctionLiteral,
  isReference,
  loopDepthOf,
  prototypeMethodHoist,
  prototypeMethodOf,
  shapeMerge,
} from '../../ast/index.js';
import type { Rule } from '../rule.js';

export const hoistStaticClosure: Rule = {
  id: 'hoist-static-closure',
  weight: 2,
  risk: 'low',
  rationale:
    'A callback that captures nothing of its function is allocated again on every call of that function.',
  expectedEffect:
    'One module-level function is created once; hot functions allocate less and the callback site stays monomorphic.',
  kinds: ['ArrowFunction', 'FunctionExpression'],
  visit(node, { ts, state, report }) {
    if (state.fn === undefined || !isFunctionLiteral(ts, node)) return;
    if (typeof closureHoist(ts, node) === 'string') return;
    report(node, { requiresHot: true });
  },
};

export const preferObjectLiteralShape: Rule = {
  id: 'prefer-object-literal-shape',
  weight: 3,
  risk: 'low',
  rationale:
    'An object created empty and then given its properties one by one goes through a hidden-class transition per property.',
  expectedEffect:
    'One object literal with every property allocates the final shape at once; property access on it stays monomorphic.',
  kinds: ['VariableStatement'],
  visit(node, { ts, state, report }) {
    if (state.fn === undefined) return;
    if (typeof shapeMerge(ts, node) === 'string') return;
    report(node, { requiresHot: true });
  },
};

/** `s += …` where `s` is a local the loop did not declare, initialised with a string. */
function stringAccumulator(
  ts: Parameters<NonNullable<Rule['visit']>>[1]['ts'],
  b: TS.BinaryExpression,
) {
  if (b.operatorToken.kind !== ts.SyntaxKind.PlusEqualsToken || !ts.isIdentifier(b.left))
    return false;
  const d = findDeclaration(ts, b.left, b.left.text);
  if (!d || !ts.isVariableDeclaration(d) || !d.initializer) return false;
  const init = d.initializer;
  return ts.isStringLiteralLike(init) || ts.isTemplateExpression(init);
}

export const noStringConcatInLoop: Rule = {
  id: 'no-string-concat-in-loop',
  weight: 2,
  risk: 'medium',
  flagOnly: true,
  rationale:
    '`s += …` in a loop builds a rope of many small strings that is flattened when first read character by character.',
  expectedEffect:
    'Collecting the parts and joining once (or reading the result once) avoids repeated flattening on long outputs (measure: V8 ropes often make `+=` fastest).',
  kinds: ['BinaryExpression'],
  visit(node, { ts, state, report }) {
    if (state.loopsInFunction === 0) return;
    if (stringAccumulator(ts, node as TS.BinaryExpression)) report(node, { requiresHot: true });
  },
};

export const noArgumentsInHotPath: Rule = {
  id: 'no-arguments-in-hot-path',
  weight: 3,
  risk: 'medium',
  flagOnly: true,
  rationale:
    '`arguments` beyond `.length` (copied with `slice.call`, indexed, passed on) materialises the arguments object on every call.',
  expectedEffect:
    'Named or rest parameters read the values directly; the call allocates no arguments object (needs review: `fn.length` and sloppy-mode aliasing).',
  // Identifiers are not dispatched to rules: the walk's collected ones are checked at the end.
  finish({ ts, identifiers, report }) {
    for (const id of identifiers.get('arguments') ?? []) {
      if (!isReference(ts, id) || !enclosingFunction(ts, id)) continue;
      if (findDeclaration(ts, id, 'arguments')) continue; // a variable named arguments
      const p = id.parent;
      if (ts.isPropertyAccessExpression(p) && p.expression === id && p.name.text === 'length')
        continue;
      report(id, { requiresHot: true, loopDepth: loopDepthOf(ts, id) });
    }
  },
};

export const noTryCatchInHotLoop: Rule = {
  id: 'no-try-catch-in-hot-loop',
  weight: 1,
  risk: 'medium',
  flagOnly: true,
  rationale:
    'A try/catch inside a loop sets up a handler per iteration, and a loop that throws and catches per element pays for an exception (stack capture) each time.',
  expectedEffect:
    'One try around the whole loop, or a test instead of a throw, keeps the loop body lean (needs review: which iterations still run after an error).',
  kinds: ['TryStatement'],
  visit(node, { ts, state, report }) {
    if (state.loopsInFunction > 0 && ts.isTryStatement(node) && node.catchClause)
      report(node, { requiresHot: true });
  },
};

export const hoistPrototypeMethod: Rule = {
  id: 'hoist-prototype-method',
  weight: 2,
  risk: 'low',
  rationale:
    '`Object.prototype.toString.call(x)` in a function looks up `prototype` and the method on every call.',
  expectedEffect:
    'One module-level binding (`var objectToString = Object.prototype.toString`) is read instead; fewer property loads per call on hot paths.',
  kinds: ['PropertyAccessExpression'],
  visit(node, { ts, sf, state, report }) {
    if (state.fn === undefined) return;
    const found = prototypeMethodOf(ts, node);
    if (!found) return;
    if (typeof prototypeMethodHoist(ts, sf, found) === 'string') return;
    report(node, { requiresHot: true });
  },
};
