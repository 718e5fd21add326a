/** Memoization: a pure module-level function of primitives gets a bounded cache. */
import type * as TS from 'typescript';
import {
  hasExportModifier,
  identifiersNamed,
  isConstDeclaration,
  isFunctionLiteral,
  memoizeBlocker,
  memoizeTargetProblem,
  primitiveParameter,
  unwrap,
} from '../../ast/index.js';
import { constKeyword, type TemplateContext, locate, uniqueName } from '../ast.js';
import type { Template } from './template.js';

/** The function a memoize opportunity points at: a declaration or `const f = (…) => …`. */
function memoTarget(ctx: TemplateContext):
  | {
      fn: TS.FunctionDeclaration | TS.ArrowFunction | TS.FunctionExpression;
      statement: TS.Statement;
      name: TS.Identifier;
    }
  | string {
  const { ts, sf } = ctx;
  const statement = locate(
    ctx,
    (n): n is TS.FunctionDeclaration | TS.VariableStatement =>
      ts.isFunctionDeclaration(n) || (ts.isVariableStatement(n) && n.parent === sf),
  );
  if (!statement) return 'no function declaration at the position';
  if (statement.parent !== sf) return 'the function is not declared at module level';
  if (ts.isFunctionDeclaration(statement)) {
    if (!statement.name || !statement.body) return 'the function has no name or no body';
    return { fn: statement, statement, name: statement.name };
  }
  const [decl, ...more] = statement.declarationList.declarations;
  if (!decl || more.length > 0 || !ts.isIdentifier(decl.name) || !decl.initializer) {
    return 'the statement does not declare exactly one function';
  }
  const name = decl.name;
  if (!isConstDeclaration(ts, decl)) return `${name.text} is not const`;
  const init = unwrap(ts, decl.initializer);
  if (!isFunctionLiteral(ts, init)) return `${name.text} is not a function`;
  return { fn: init, statement, name };
}

export const memoizePureFunction: Template = (ctx) => {
  const { ts, sf } = ctx;
  const target = memoTarget(ctx);
  if (typeof target === 'string') return target;
  const { fn, statement } = target;
  const name = target.name.text;
  const problem = memoizeTargetProblem(
    ts,
    statement,
    fn,
    target.name,
    identifiersNamed(ts, sf, name),
  );
  if (problem) return problem;
  const keyParts: string[] = [];
  const untyped: string[] = [];
  for (const p of fn.parameters) {
    const param = primitiveParameter(ts, p);
    if (typeof param === 'string') return param;
    const { name: id, type } = param;
    // JSON-quoted strings are self-delimiting and numbers never contain ',': keys are unambiguous.
    if (type === 'string') keyParts.push(`JSON.stringify(${id})`);
    else if (type !== undefined) keyParts.push(`String(${id})`);
    else {
      // Untyped (JavaScript): objects bypass the cache at run time, other types stay distinct.
      untyped.push(id);
      keyParts.push(
        `typeof ${id} + ':' + (typeof ${id} === 'string' ? JSON.stringify(${id}) : String(${id}))`,
      );
    }
  }
  if (!fn.body) return `${name} has no body`;
  const blocker = memoizeBlocker(ts, fn, name);
  if (blocker) return blocker;
  const returnType = fn.type?.getText(sf);

  const uncached = uniqueName(ts, sf, `${name}Uncached`);
  const cache = uniqueName(ts, sf, `${name}Cache`);
  const params = fn.parameters.map((p) => p.getText(sf)).join(', ');
  const args = fn.parameters.map((p) => p.name.getText(sf)).join(', ');
  const exported = hasExportModifier(ts, statement) ? 'export ' : '';
  const decl = constKeyword(ctx);
  // Without Map (ES5), an object keyed by strings: every key gets the typed form, so `1` and
  // `'1'` stay apart as they do in a Map.
  const hasMap = ctx.level.builtins >= 2015;
  const untypedKey = (id: string) =>
    `typeof ${id} + ':' + (typeof ${id} === 'string' ? JSON.stringify(${id}) : String(${id}))`;
  const parts = hasMap ? keyParts : fn.parameters.map((p) => untypedKey(p.name.getText(sf)));
  const bypassed = hasMap ? untyped : fn.parameters.map((p) => p.name.getText(sf));
  // One typed primitive is a Map key as it is; otherwise one unambiguous string.
  const key =
    hasMap && keyParts.length === 1 && untyped.length === 0 ? args : parts.join(" + ',' + ");
  const bypass = bypassed.map(
    (id) =>
      `(typeof ${id} === 'object' || typeof ${id} === 'function' || typeof ${id} === 'symbol')`,
  );
  const size = uniqueName(ts, sf, `${cache}Size`);
  const store = hasMap
    ? {
        create: [`${decl} ${cache} = new Map();`],
        lookup: `  if (${cache}.has(key)) return ${cache}.get(key);`,
        save: [
          `  if (${cache}.size >= 1000) ${cache}.delete(${cache}.keys().next().value);`,
          `  ${cache}.set(key, value);`,
        ],
      }
    : {
        create: [`var ${cache} = Object.create(null);`, `var ${size} = 0;`],
        lookup: `  if (key in ${cache}) return ${cache}[key];`,
        save: [
          `  if (${size} >= 1000) {`,
          `    ${cache} = Object.create(null);`,
          `    ${size} = 0;`,
          `  }`,
          `  ${cache}[key] = value;`,
          `  ${size}++;`,
        ],
      };
  const wrapper = [
    '',
    '',
    `/** Bounded cache for \`${name}\`: pure, and called with primitive arguments. */`,
    ...store.create,
    `${exported}function ${name}(${params})${returnType ? `: ${returnType}` : ''} {`,
    ...(bypass.length > 0
      ? [
          `  if (${bypass.length === 1 ? bypass[0]!.slice(1, -1) : bypass.join(' || ')}) return ${uncached}(${args});`,
        ]
      : []),
    `  ${decl} key = ${key};`,
    store.lookup,
    `  ${decl} value = ${uncached}(${args});`,
    ...store.save,
    `  return value;`,
    `}`,
  ].join('\n');
  const start = statement.getStart(sf);
  const renamed = ts.isFunctionDeclaration(statement)
    ? `function ${uncached}`
    : `${ts.isVariableStatement(statement) && statement.declarationList.flags & ts.NodeFlags.Const ? 'const' : 'var'} ${uncached}`;
  return {
    edits: [
      { start, end: target.name.getEnd(), text: renamed },
      { start: statement.getEnd(), end: statement.getEnd(), text: wrapper },
    ],
    explanation: `\`${name}\` is pure and takes only primitive arguments: repeated calls with the same arguments are answered from a bounded cache (1000 entries, ${hasMap ? 'oldest evicted first' : 'emptied when full'}).`,
  };
};
