/**
 * Regular expressions and strings: test instead of match, string methods instead of literal
 * regexes and indexOf comparisons, and regexes compiled once at module level.
 */
import type * as TS from 'typescript';
import {
  enclosingFunction,
  isBooleanContext,
  isGlobal,
  isKnownString,
  isMethodCall,
  isSideEffectFree,
  literalRegex,
  quoteString,
  regexLiteralOf,
  regexParts,
  sharedRegexProblem,
  statefulFlags,
  unwrap,
  type MethodCall,
} from '../../ast/index.js';
import {
  constKeyword,
  type Edit,
  insertAtModuleTop,
  locate,
  replace,
  uniqueName,
  upperSnake,
} from '../ast.js';
import { builtinProblem } from '../level.js';
import { type Rewrite, type Template, asReceiver, parenthesizeFor } from './template.js';

export const preferRegexpTest: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is MethodCall => isMethodCall(ts, n, ['match', 'exec']));
  if (!call || call.arguments.length !== 1) return 'no `str.match(re)` at the position';
  const method = call.expression.name.text;
  const left = call.expression.expression;
  const [re, str] = method === 'match' ? [call.arguments[0]!, left] : [left, call.arguments[0]!];
  const literal = regexLiteralOf(ts, re);
  if (!literal) return 'the pattern is not a regex literal (or a const bound to one)';
  const stateful = statefulFlags(regexParts(literal.text).flags);
  if (stateful) return `the regex has the ${stateful} flag: test() would depend on lastIndex`;
  if (!isSideEffectFree(ts, str) || !isSideEffectFree(ts, re))
    return 'reordering the operands could reorder side effects';
  const test = `${re.getText(sf)}.test(${str.getText(sf)})`;
  const p = call.parent;
  if (
    ts.isBinaryExpression(p) &&
    ts.isToken(p.right) &&
    p.right.kind === ts.SyntaxKind.NullKeyword &&
    ['!==', '!=', '===', '=='].includes(p.operatorToken.getText(sf))
  ) {
    const negate = p.operatorToken.getText(sf).startsWith('=');
    return regexTestRewrite(replace(p, sf, negate ? `!${test}` : test), method);
  }
  if (!isBooleanContext(ts, call))
    return `the ${method} result is used as a value, not as a yes/no`;
  return regexTestRewrite(replace(call, sf, test), method);
};
const regexTestRewrite = (edit: Edit, method: string): Rewrite => ({
  edits: [edit],
  explanation: `Only whether the pattern matches was used: \`RegExp#test\` answers that without building the ${method} result array.`,
});

export const preferStringStartsEndsWith: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(
    ctx,
    (n): n is MethodCall =>
      isMethodCall(ts, n, ['test']) &&
      ts.isRegularExpressionLiteral(unwrap(ts, n.expression.expression)),
  );
  if (!call || call.arguments.length !== 1) return 'no `/lit/.test(s)` at the position';
  const regex = unwrap(ts, call.expression.expression) as TS.RegularExpressionLiteral;
  const { flags } = regexParts(regex.text);
  if (flags) return `the regex has flags (${flags})`;
  const literal = literalRegex(regex.text);
  if (!literal) return 'the pattern is not a plain literal (metacharacters)';
  if (literal.method !== '===') {
    const missing = builtinProblem(ctx.level, `String#${literal.method}`);
    if (missing) return missing;
  }
  const subject = call.arguments[0]!;
  if (!isKnownString(ts, subject)) return `\`${subject.getText(sf)}\` is not provably a string`;
  const lit = quoteString(literal.literal);
  const s = subject.getText(sf);
  const text =
    literal.method === '==='
      ? parenthesizeFor(ts, call, `${s} === ${lit}`)
      : `${asReceiver(ts, subject, s)}.${literal.method}(${lit})`;
  return {
    edits: [replace(call, sf, text)],
    explanation:
      'A regex with a plain literal pattern ran the regex engine for a substring check; the string method does it directly.',
  };
};

export const noIndexofEquality: Template = (ctx) => {
  const { ts, sf } = ctx;
  const cmp = locate(
    ctx,
    (n): n is TS.BinaryExpression =>
      ts.isBinaryExpression(n) && isMethodCall(ts, n.left, ['indexOf']),
  );
  if (!cmp) return 'no `s.indexOf(p) === 0` at the position';
  const call = cmp.left as MethodCall;
  if (call.arguments.length !== 1) return 'indexOf has a start position';
  const receiver = call.expression.expression;
  if (!isKnownString(ts, receiver))
    return `\`${receiver.getText(sf)}\` is not provably a string (arrays have indexOf too)`;
  const needle = call.arguments[0]!;
  if (ts.isRegularExpressionLiteral(needle)) return 'the needle is a regex';
  const op = cmp.operatorToken.getText(sf);
  const rhs = cmp.right.getText(sf);
  const s = receiver.getText(sf);
  const p = needle.getText(sf);
  const forms: Record<string, string> = {
    '===0': `${s}.startsWith(${p})`,
    '==0': `${s}.startsWith(${p})`,
    '!==0': `!${s}.startsWith(${p})`,
    '!=0': `!${s}.startsWith(${p})`,
    '!==-1': `${s}.includes(${p})`,
    '!=-1': `${s}.includes(${p})`,
    '>-1': `${s}.includes(${p})`,
    '>=0': `${s}.includes(${p})`,
    '===-1': `!${s}.includes(${p})`,
    '==-1': `!${s}.includes(${p})`,
    '<0': `!${s}.includes(${p})`,
  };
  const text = forms[op + rhs];
  if (!text) return `the comparison \`${op} ${rhs}\` has no string-method equivalent`;
  const missing = builtinProblem(
    ctx.level,
    text.includes('startsWith') ? 'String#startsWith' : 'String#includes',
  );
  if (missing) return missing;
  return {
    edits: [replace(cmp, sf, text)],
    explanation:
      '`indexOf` searched the whole string to compare a position; `startsWith`/`includes` say what is meant and stop early.',
  };
};

export const preferStaticRegex: Template = (ctx) => {
  const { ts, sf } = ctx;
  const regex = locate(
    ctx,
    (n): n is TS.RegularExpressionLiteral | TS.NewExpression =>
      ts.isRegularExpressionLiteral(n) ||
      (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'RegExp'),
  );
  if (!regex) return 'no regex at the position';
  let flags: string;
  if (ts.isRegularExpressionLiteral(regex)) flags = regexParts(regex.text).flags;
  else {
    const [source, flagArg, ...more] = regex.arguments ?? [];
    if (!source || more.length > 0 || !ts.isStringLiteralLike(source)) {
      return 'the RegExp source is not a string literal (it may be interpolated)';
    }
    if (flagArg && !ts.isStringLiteralLike(flagArg)) return 'the RegExp flags are not a literal';
    if (!isGlobal(ts, regex, 'RegExp')) return '`RegExp` is shadowed here';
    flags = flagArg ? flagArg.text : '';
  }
  const stateful = sharedRegexProblem(ts, regex, flags);
  if (stateful) return stateful;
  const fn = enclosingFunction(ts, regex);
  if (!fn) return 'the regex is already at module level';
  const p = regex.parent;
  const fromVar =
    ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) ? upperSnake(p.name.text) : undefined;
  const fnName = fn.name && ts.isIdentifier(fn.name) ? upperSnake(fn.name.text) : 'STATIC';
  const base = fromVar ? (fromVar.endsWith('RE') ? fromVar : `${fromVar}_RE`) : `${fnName}_RE`;
  const name = uniqueName(ts, sf, base, ctx.taken);
  return {
    edits: [
      insertAtModuleTop(ts, sf, `${constKeyword(ctx)} ${name} = ${regex.getText(sf)};`),
      replace(regex, sf, name),
    ],
    explanation: `The regex was compiled again on every call; ${flags.includes('g') ? 'its g flag only serves a string method that leaves lastIndex at 0' : 'it has no g/y flag'}, so one module-level instance (\`${name}\`) behaves the same.`,
  };
};
