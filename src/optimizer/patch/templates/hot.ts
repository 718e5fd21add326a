/**
 * Hot-path rewrites: a callback that captures nothing becomes one module-level function, and an
 * object built property by property becomes one literal with its final shape.
 */
import type * as TS from 'typescript';
import {
  closureHoist,
  enclosingFunction,
  isFunctionLiteral,
  prototypeMethodHoist,
  prototypeMethodOf,
  shapeMerge,
  type PrototypeMethod,
} from '../../ast/index.js';
import { constKeyword, insertAtModuleTop, locate, replace, uniqueName } from '../ast.js';
import type { Template, Ts } from './template.js';

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The name of the nearest named function around (or at) `fn`: declared, or bound by `const`. */
function nameOf(ts: Ts, fn: TS.Node | undefined): string | undefined {
  for (let f = fn; f; f = enclosingFunction(ts, f)) {
    if (!ts.isFunctionLike(f)) continue;
    if ('name' in f && f.name && ts.isIdentifier(f.name)) return f.name.text;
    const p = f.parent;
    if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  }
  return undefined;
}

export const hoistStaticClosure: Template = (ctx) => {
  const { ts, sf } = ctx;
  const fn = locate(ctx, (n): n is TS.ArrowFunction | TS.FunctionExpression =>
    isFunctionLiteral(ts, n),
  );
  if (!fn) return 'no function literal at the position';
  const hoist = closureHoist(ts, fn);
  if (typeof hoist === 'string') return hoist;
  const hostName = nameOf(ts, hoist.host) ?? 'static';
  const name = uniqueName(ts, sf, `${hostName}${capitalize(hoist.method)}Callback`);
  return {
    edits: [
      insertAtModuleTop(ts, sf, `${constKeyword(ctx)} ${name} = ${fn.getText(sf)};`),
      replace(fn, sf, name),
    ],
    explanation: `The callback handed to \`${hoist.method}\` captured nothing of \`${hostName}\` but was allocated on every call; one module-level function (\`${name}\`) does the same, and \`${hoist.method}\` never keeps or compares it.`,
  };
};

export const preferObjectLiteralShape: Template = (ctx) => {
  const { ts, sf, text } = ctx;
  const statement = locate(ctx, (n): n is TS.VariableStatement => ts.isVariableStatement(n));
  if (!statement) return 'no variable statement at the position';
  const merge = shapeMerge(ts, statement);
  if (typeof merge === 'string') return merge;
  const lineStart = text.lastIndexOf('\n', statement.getStart(sf) - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const unit = indent.includes('\t') ? '\t' : '  ';
  const props = [
    ...merge.literal.properties.map((p) => p.getText(sf)),
    ...merge.assignments.map((a) => `${a.key}: ${a.value.getText(sf)}`),
  ];
  const body = `{\n${props.map((p) => `${indent}${unit}${p}`).join(',\n')}\n${indent}}`;
  const last = merge.assignments[merge.assignments.length - 1]!.statement;
  return {
    edits: [
      replace(merge.literal, sf, body),
      { start: statement.getEnd(), end: last.getEnd(), text: '' },
    ],
    explanation: `\`${merge.name}\` was created and then given ${merge.assignments.length} propert${merge.assignments.length === 1 ? 'y' : 'ies'} one by one (a shape transition each); one literal creates it with its final shape. The values are evaluated in the same order and none of them reads \`${merge.name}\`.`,
  };
};

export const hoistPrototypeMethod: Template = (ctx) => {
  const { ts, sf } = ctx;
  const found = locate(ctx, (n): n is TS.PropertyAccessExpression => !!prototypeMethodOf(ts, n));
  const method: PrototypeMethod | undefined = found && prototypeMethodOf(ts, found);
  if (!method) return 'no `Ctor.prototype.method` at the position';
  const uses = prototypeMethodHoist(ts, sf, method);
  if (typeof uses === 'string') return uses;
  const name = uniqueName(ts, sf, `${method.ctor.toLowerCase()}${capitalize(method.method)}`);
  const path = `${method.ctor}.prototype.${method.method}`;
  return {
    edits: [
      insertAtModuleTop(ts, sf, `${constKeyword(ctx)} ${name} = ${path};`),
      ...uses.map((u) => replace(u.access, sf, name)),
    ],
    explanation: `\`${path}\` was looked up (two property loads) at each of its ${uses.length} call${uses.length === 1 ? '' : 's'}; it is read once at module load into \`${name}\` and called with the same \`this\` through \`.call\`/\`.apply\`.`,
  };
};
