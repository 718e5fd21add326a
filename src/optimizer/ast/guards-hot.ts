/**
 * Guards for the hot-path rules that libraries' own performance commits apply by hand: a
 * callback that captures nothing hoisted out of the function that allocates it per call, an
 * object built property by property turned into one literal (one shape from the start), and a
 * stateful regex that is safe to share. Each answers "how" or the refusal a user sees.
 */
import type * as TS from 'typescript';
import type { TypeScript } from '../typescript.js';
import { findDeclaration, isModuleLevel, isReference, references } from './scope.js';
import {
  enclosingFunction,
  isAsyncOrGenerator,
  isFunctionLiteral,
  isMethodCall,
  outerExpression,
  unwrap,
  walk,
} from './syntax.js';

// --- Closures allocated per call ---------------------------------------------------------

/**
 * Methods that call a callback and never keep it, return it or compare it: handing them the
 * same function object on every call instead of a fresh one is invisible.
 */
const CALLBACK_CONSUMERS = new Set([
  'map',
  'filter',
  'some',
  'every',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'forEach',
  'reduce',
  'reduceRight',
  'flatMap',
  'sort',
  'replace',
  'replaceAll',
]);

export interface ClosureHoist {
  fn: TS.ArrowFunction | TS.FunctionExpression;
  /** The function that allocated it on every call. */
  host: TS.SignatureDeclaration;
  /** The method it is handed to. */
  method: string;
}

/**
 * Whether the function literal `node` can move to module level: it is handed straight to an
 * array or string method that only calls it, and it captures nothing of the functions around
 * it (no local, parameter, `this`, `arguments`, `super` or type parameter of theirs), so one
 * module-level function behaves exactly as the fresh one did.
 */
export function closureHoist(ts: TypeScript, node: TS.Node): ClosureHoist | string {
  const fn = node;
  if (!isFunctionLiteral(ts, fn)) return 'no function literal at the position';
  const host = enclosingFunction(ts, fn);
  if (!host) return 'the function is already created once, at module level';
  const outer = outerExpression(ts, fn);
  const call = outer.parent;
  if (
    !isMethodCall(ts, call, [...CALLBACK_CONSUMERS]) ||
    !call.arguments.includes(outer as TS.Expression)
  )
    return 'the function is not handed straight to a method that only calls it (it could be kept or compared)';
  if (isAsyncOrGenerator(ts, fn)) return 'the function is async or a generator';
  const file = fn.getSourceFile();
  const typescript = /\.[cm]?tsx?$/.test(file.fileName);
  if (typescript && fn.parameters.some((p) => !p.type))
    return 'a parameter has no type annotation: at module level it would lose the type the call gave it';
  const arrow = ts.isArrowFunction(fn);
  let problem: string | undefined;
  walk(ts, fn, (n) => {
    if (problem) return;
    if (n.kind === ts.SyntaxKind.ThisKeyword || n.kind === ts.SyntaxKind.SuperKeyword) {
      if (arrow && lexicalIn(ts, n, fn)) problem = `it uses the enclosing \`${n.getText()}\``;
    } else if (ts.isMetaProperty(n)) {
      if (arrow && lexicalIn(ts, n, fn)) problem = 'it uses `new.target`';
    } else if (ts.isIdentifier(n) && isReference(ts, n)) {
      if (
        n.text === 'arguments' &&
        arrow &&
        lexicalIn(ts, n, fn) &&
        !findDeclaration(ts, n, n.text)
      ) {
        problem = 'it reads the enclosing `arguments`';
        return;
      }
      const d = findDeclaration(ts, n, n.text);
      if (!d || (d.pos >= fn.pos && d.end <= fn.end)) return;
      if (!isModuleLevel(ts, d) && enclosingFunction(ts, d) !== undefined)
        problem = `it captures \`${n.text}\` from the function around it`;
    } else if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName)) {
      const name = n.typeName.text;
      for (let f = enclosingFunction(ts, fn); f; f = enclosingFunction(ts, f))
        if (f.typeParameters?.some((t) => t.name.text === name))
          problem = `its type \`${name}\` is a type parameter of the function around it`;
    }
  });
  if (problem) return problem;
  return { fn, host, method: call.expression.name.text };
}

/** Every function between `node` and `fn` (exclusive of `fn`) is an arrow. */
function lexicalIn(ts: TypeScript, node: TS.Node, fn: TS.Node): boolean {
  for (let n = node.parent; n && n !== fn; n = n.parent)
    if (ts.isFunctionLike(n) && !ts.isArrowFunction(n)) return false;
  return true;
}

// --- Objects built property by property -------------------------------------------------

export interface ShapeMerge {
  statement: TS.VariableStatement;
  name: string;
  literal: TS.ObjectLiteralExpression;
  /** The `o.key = value;` statements that follow the declaration, in order. */
  assignments: { statement: TS.ExpressionStatement; key: string; value: TS.Expression }[];
}

/** `name.key = value` as a statement, with `key` a plain identifier. */
function propertyAssignment(ts: TypeScript, s: TS.Statement, name: string) {
  if (!ts.isExpressionStatement(s)) return undefined;
  const e = s.expression;
  if (!ts.isBinaryExpression(e) || e.operatorToken.kind !== ts.SyntaxKind.EqualsToken)
    return undefined;
  const left = e.left;
  if (!ts.isPropertyAccessExpression(left) || left.questionDotToken) return undefined;
  if (!ts.isIdentifier(left.expression) || left.expression.text !== name) return undefined;
  if (!ts.isIdentifier(left.name)) return undefined;
  return { statement: s, key: left.name.text, value: e.right };
}

/**
 * Whether a local object created empty (or as a literal of plain properties) and then given
 * properties by the statements right after it can be created as one literal instead: V8 then
 * allocates it with its final shape rather than growing it through a transition per property.
 *
 * Refused when the difference could be seen: a value reads the object, or a closure could
 * (capturing it anywhere in the function); a key is `__proto__` (an accessor, not a property)
 * or repeats; a value throws while a `var` object could still be read afterwards (a `try`
 * around it); comments sit between the statements.
 */
export function shapeMerge(ts: TypeScript, statement: TS.Node): ShapeMerge | string {
  if (!ts.isVariableStatement(statement)) return 'no variable statement at the position';
  const [decl, ...more] = statement.declarationList.declarations;
  if (!decl || more.length > 0 || !ts.isIdentifier(decl.name) || !decl.initializer)
    return 'the statement does not declare exactly one object';
  const name = decl.name.text;
  const literal = unwrap(ts, decl.initializer);
  if (!ts.isObjectLiteralExpression(literal)) return `${name} is not created as an object literal`;
  const keys = new Set<string>();
  for (const p of literal.properties) {
    if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)))
      return 'the literal has computed keys, spreads, methods or accessors';
    keys.add(p.name.text);
  }
  const host = enclosingFunction(ts, statement);
  if (!host) return `${name} is module-level: the shape matters on hot paths only`;
  const block = statement.parent;
  if (!ts.isBlock(block)) return 'the declaration is not in a block';
  const index = block.statements.indexOf(statement);
  const assignments: ShapeMerge['assignments'] = [];
  for (const s of block.statements.slice(index + 1)) {
    const a = propertyAssignment(ts, s, name);
    if (!a) break;
    if (a.key === '__proto__') return '`__proto__` is an accessor: assigning it sets the prototype';
    if (keys.has(a.key)) return `\`${a.key}\` is assigned twice`;
    if (references(ts, a.value, name).length > 0)
      return `the value of \`${a.key}\` reads \`${name}\` while it is being built`;
    keys.add(a.key);
    assignments.push(a);
  }
  if (assignments.length === 0) return `no \`${name}.key = value\` right after the declaration`;
  const text = statement.getSourceFile().text;
  const last = assignments[assignments.length - 1]!.statement;
  const between = text.slice(statement.getEnd(), last.getStart());
  if (/\/\/|\/\*/.test(between.replace(/(['"`])(?:\\.|(?!\1).)*\1/g, '')))
    return 'comments between the statements would be lost';
  // A closure anywhere in the function could read the object while a value is computed.
  const captured = references(ts, host, name).some((r) => {
    const f = enclosingFunction(ts, r);
    return f !== undefined && f !== host;
  });
  if (captured) return `\`${name}\` is captured by a closure, which could see it half built`;
  const isVar = !(statement.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const));
  if (isVar) {
    for (let p: TS.Node | undefined = statement.parent; p && p !== host; p = p.parent)
      if (ts.isTryStatement(p))
        return `\`${name}\` is a var inside a try: if a value throws, the catch could read it half built`;
  }
  return { statement, name, literal, assignments };
}

// --- Regexes with state ------------------------------------------------------------------

/**
 * String methods that never leave a regex's `lastIndex` anything but 0: with the `g` flag,
 * `match`, `replace` and `replaceAll` start by setting it to 0 and end with a failed match
 * (which resets it), `search` restores it, `split` and `matchAll` work on a copy (which
 * `matchAll` makes from `lastIndex` 0, since nothing else moved it).
 */
const LAST_INDEX_NEUTRAL = new Set([
  'match',
  'matchAll',
  'replace',
  'replaceAll',
  'split',
  'search',
]);

/**
 * Why a regex with the `g` flag created at `node` cannot be shared, or undefined when its only
 * use is as the pattern of a string method that leaves `lastIndex` at 0 (so a shared instance
 * starts every call in the state a fresh one does). `y` always refuses: `replace` and `match`
 * read `lastIndex` of a sticky regex.
 */
export function sharedRegexProblem(
  ts: TypeScript,
  node: TS.Expression,
  flags: string,
): string | undefined {
  if (flags.includes('y'))
    return 'the regex has the y flag: a shared instance would share lastIndex';
  if (!flags.includes('g')) return undefined;
  const outer = outerExpression(ts, node);
  const call = outer.parent;
  if (isMethodCall(ts, call, [...LAST_INDEX_NEUTRAL]) && call.arguments[0] === outer)
    return undefined;
  return 'the regex has the g flag and is not only the pattern of replace/match/split/search: a shared instance would share lastIndex';
}
