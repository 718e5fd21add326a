/** Strings and regular expressions: cheaper equivalents and work hoisted out of hot code. */
import type * as TS from 'typescript';
import type { TypeScript } from '../../typescript.js';
import {
  findDeclaration,
  isConstDeclaration,
  isFunctionLiteral,
  isPrimitiveLiteral,
  isStatefulRegex,
  methodCall,
  regexParts,
  unwrap,
} from '../ast.js';
import type { Rule } from '../rule.js';

/** A regex (literal or a `const` bound to one) that keeps no `lastIndex` state. */
function statelessRegex(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (ts.isRegularExpressionLiteral(e)) return !isStatefulRegex(e.text);
  if (!ts.isIdentifier(e)) return false;
  const decl = findDeclaration(ts, e, e.text);
  if (!isConstDeclaration(ts, decl)) return false;
  const init = (decl as TS.VariableDeclaration).initializer;
  return (
    init !== undefined &&
    ts.isRegularExpressionLiteral(unwrap(ts, init)) &&
    !isStatefulRegex((unwrap(ts, init) as TS.RegularExpressionLiteral).text)
  );
}

/** Is the value only tested for truthiness (`if (…)`, `!…`, `… ? :`, `Boolean(…)`)? */
function inBooleanContext(ts: TypeScript, node: TS.Node): boolean {
  let n = node;
  while (ts.isParenthesizedExpression(n.parent)) n = n.parent;
  const p = n.parent;
  if ((ts.isIfStatement(p) || ts.isWhileStatement(p) || ts.isDoStatement(p)) && p.expression === n)
    return true;
  if (ts.isForStatement(p) && p.condition === n) return true;
  if (ts.isConditionalExpression(p) && p.condition === n) return true;
  if (ts.isPrefixUnaryExpression(p) && p.operator === ts.SyntaxKind.ExclamationToken) return true;
  if (ts.isCallExpression(p) && ts.isIdentifier(p.expression) && p.expression.text === 'Boolean')
    return p.arguments.length === 1;
  if (
    ts.isBinaryExpression(p) &&
    (p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
      p.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  )
    // Either operand can be the value the whole expression yields (`s.match(re) || []` is the
    // match), so only a yes/no context around it makes this one.
    return inBooleanContext(ts, p);
  return false;
}

export const preferRegexpTest: Rule = {
  id: 'prefer-regexp-test',
  weight: 3,
  risk: 'low',
  rationale: '`str.match(re)` in a boolean context builds a match array only to test it.',
  expectedEffect: '`re.test(str)` answers the same question without allocating the match.',
  kinds: ['CallExpression'],
  visit(node, { ts, report }) {
    const m = methodCall(ts, node, ['match']);
    if (!m || m.call.arguments.length !== 1) return;
    if (!statelessRegex(ts, m.call.arguments[0]!)) return;
    if (inBooleanContext(ts, m.call)) report(m.call);
  },
};

/** The literal text a regex body matches, or undefined if it has any metacharacter. */
function literalText(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1];
      // Escaped punctuation is literal; `\d`, `\b`, `\n`… are classes or escapes.
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return undefined;
      out += next;
      i++;
    } else if ('^$.|?*+()[]{}'.includes(c)) {
      return undefined;
    } else {
      out += c;
    }
  }
  return out === '' ? undefined : out;
}

/** `startsWith` / `endsWith` / `includes` for a regex that is only a literal, else undefined. */
export function literalRegexMethod(text: string): string | undefined {
  const { body, flags } = regexParts(text);
  if (flags !== '') return undefined;
  const anchoredStart = body.startsWith('^');
  const anchoredEnd = body.endsWith('$') && !body.endsWith('\\$');
  if (anchoredStart && anchoredEnd) return undefined;
  const inner = body.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  if (literalText(inner) === undefined) return undefined;
  return anchoredStart ? 'startsWith' : anchoredEnd ? 'endsWith' : 'includes';
}

export const preferStringStartsEndsWith: Rule = {
  id: 'prefer-string-starts-ends-with',
  weight: 3,
  risk: 'low',
  rationale:
    'A regex that is only an anchored literal runs the regex engine for a plain string comparison.',
  expectedEffect:
    '`startsWith`/`endsWith`/`includes` compare directly; several times faster per call.',
  kinds: ['CallExpression'],
  visit(node, { ts, report }) {
    const m = methodCall(ts, node, ['test']);
    if (!m || m.call.arguments.length !== 1) return;
    const re = unwrap(ts, m.receiver);
    if (!ts.isRegularExpressionLiteral(re)) return;
    const method = literalRegexMethod(re.text);
    if (method)
      report(m.call, {
        rationale: `${re.text} only matches a literal: \`s.${method}(…)\` does the same without the regex engine.`,
      });
  },
};

/** Can `expr` be shown to be a string from the syntax alone? */
function isStringValued(ts: TypeScript, expr: TS.Expression): boolean {
  const e = unwrap(ts, expr);
  if (ts.isStringLiteral(e) || ts.isTemplateExpression(e) || ts.isNoSubstitutionTemplateLiteral(e))
    return true;
  if (!ts.isIdentifier(e)) return false;
  const decl = findDeclaration(ts, e, e.text);
  if (!decl || !(ts.isVariableDeclaration(decl) || ts.isParameter(decl))) return false;
  if (decl.type) return decl.type.kind === ts.SyntaxKind.StringKeyword;
  return (
    isConstDeclaration(ts, decl) &&
    decl.initializer !== undefined &&
    (ts.isStringLiteral(unwrap(ts, decl.initializer)) ||
      ts.isTemplateExpression(unwrap(ts, decl.initializer)))
  );
}

export const noIndexofEquality: Rule = {
  id: 'no-indexof-equality',
  weight: 2,
  risk: 'low',
  rationale: '`s.indexOf(p) === 0` searches the whole string when only its start matters.',
  expectedEffect: '`s.startsWith(p)` stops after `p.length` characters.',
  kinds: ['BinaryExpression'],
  visit(node, { ts, report }) {
    const b = node as TS.BinaryExpression;
    const k = b.operatorToken.kind;
    if (
      k !== ts.SyntaxKind.EqualsEqualsEqualsToken &&
      k !== ts.SyntaxKind.EqualsEqualsToken &&
      k !== ts.SyntaxKind.ExclamationEqualsEqualsToken &&
      k !== ts.SyntaxKind.ExclamationEqualsToken
    )
      return;
    for (const [call, other] of [
      [b.left, b.right],
      [b.right, b.left],
    ] as const) {
      const m = methodCall(ts, unwrap(ts, call), ['indexOf']);
      const zero = unwrap(ts, other);
      if (!m || m.call.arguments.length !== 1 || !ts.isNumericLiteral(zero) || zero.text !== '0')
        continue;
      if (isStringValued(ts, m.receiver)) report(b);
      return;
    }
  },
};

export const preferStaticRegex: Rule = {
  id: 'prefer-static-regex',
  weight: 3,
  risk: 'low',
  rationale: 'A regex created inside a function is a new RegExp object on every call.',
  expectedEffect: 'A module-level constant is created once; fewer allocations on hot paths.',
  kinds: ['RegularExpressionLiteral', 'NewExpression'],
  visit(node, { ts, state, report }) {
    if (state.fn === undefined) return;
    if (ts.isRegularExpressionLiteral(node)) {
      if (isStatefulRegex(node.text)) return;
      // `/^lit/.test(s)` has a better rewrite of its own.
      const m = methodCall(ts, node.parent, ['test']);
      if (m && unwrap(ts, m.receiver) === node && literalRegexMethod(node.text)) return;
      report(node, { requiresHot: true });
      return;
    }
    const n = node as TS.NewExpression;
    if (!ts.isIdentifier(n.expression) || n.expression.text !== 'RegExp') return;
    const [source, flags] = n.arguments ?? [];
    if (!source || !ts.isStringLiteralLike(source)) return;
    if (flags && (!ts.isStringLiteralLike(flags) || /[gy]/.test(flags.text))) return;
    if (findDeclaration(ts, n, 'RegExp')) return;
    report(n, { requiresHot: true });
  },
};

export const preferStaticCollator: Rule = {
  id: 'prefer-static-collator',
  weight: 6,
  risk: 'low',
  rationale:
    '`localeCompare` in a sort comparator resolves the locale and builds collation state on every comparison.',
  expectedEffect:
    'A module-level `new Intl.Collator(…).compare` does that once; sorts get several times faster.',
  kinds: ['CallExpression'],
  visit(node, { ts, state, report }) {
    const m = methodCall(ts, node, ['localeCompare']);
    if (!m || m.call.arguments.length < 1 || m.call.arguments.length > 3) return;
    // Locale and options must be the same on every call to share one collator.
    if (!m.call.arguments.slice(1).every((a) => isPrimitiveLiteral(ts, a))) return;
    const fn = state.fn;
    if (!fn || !isFunctionLiteral(ts, fn)) return;
    const sort = methodCall(ts, fn.parent, ['sort', 'toSorted']);
    if (!sort || sort.call.arguments[0] !== fn) return;
    report(m.call);
  },
};
