/** Strings and regular expressions: cheaper equivalents and work hoisted out of hot code. */
import type * as TS from 'typescript';
import {
  isBooleanContext,
  isFunctionLiteral,
  isGlobal,
  isKnownString,
  isNumberLiteral,
  isPrimitiveLiteral,
  isSideEffectFree,
  literalRegex,
  methodCall,
  regexLiteralOf,
  regexParts,
  sharedRegexProblem,
  statefulFlags,
  unwrap,
} from '../../ast/index.js';
import type { Rule } from '../rule.js';

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
    const re = regexLiteralOf(ts, m.call.arguments[0]!);
    if (!re || statefulFlags(regexParts(re.text).flags)) return;
    // `re.test(str)` evaluates the operands in the other order.
    if (!isSideEffectFree(ts, m.receiver) || !isSideEffectFree(ts, m.call.arguments[0]!)) return;
    if (isBooleanContext(ts, m.call)) report(m.call);
  },
};

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
    const literal = literalRegex(re.text);
    if (!literal) return;
    const equivalent = literal.method === '===' ? `s === '…'` : `s.${literal.method}(…)`;
    report(m.call, {
      rationale: `${re.text} only matches a literal: \`${equivalent}\` does the same without the regex engine.`,
    });
  },
};

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
      if (!m || m.call.arguments.length !== 1 || !isNumberLiteral(ts, other, '0')) continue;
      if (isKnownString(ts, m.receiver)) report(b);
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
      if (sharedRegexProblem(ts, node, regexParts(node.text).flags)) return;
      // `/^lit/.test(s)` has a better rewrite of its own.
      const m = methodCall(ts, node.parent, ['test']);
      if (m && unwrap(ts, m.receiver) === node && literalRegex(node.text)) return;
      // Measured on Node 20: V8 keeps a literal's compiled pattern, so a hoist saves only the
      // object (~20 ns per evaluation), which libraries' benchmarks never showed. Kept, ranked
      // below the shapes that cost more.
      report(node, {
        requiresHot: true,
        weight: 1,
        rationale:
          'A regex literal inside a function is a new RegExp object on every evaluation (its compiled pattern is cached: a small saving).',
      });
      return;
    }
    const n = node as TS.NewExpression;
    if (!ts.isIdentifier(n.expression) || n.expression.text !== 'RegExp') return;
    const [source, flags, ...more] = n.arguments ?? [];
    if (!source || more.length > 0 || !ts.isStringLiteralLike(source)) return;
    if (flags && !ts.isStringLiteralLike(flags)) return;
    if (flags && sharedRegexProblem(ts, n, flags.text)) return;
    if (!isGlobal(ts, n, 'RegExp')) return;
    // `new RegExp('…')` is parsed and set up again on each call: about 3–4× a literal.
    report(n, {
      requiresHot: true,
      weight: 5,
      rationale:
        '`new RegExp(…)` with constant arguments inside a function is parsed and set up again on every call.',
    });
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
