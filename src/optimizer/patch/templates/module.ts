/**
 * Templates that work at module level: a constant list becomes a Set, a constant JSON text is
 * parsed once at load, and unreferenced module-private code is removed.
 */
import type * as TS from 'typescript';
import {
  classLoadEffect,
  declarations,
  findDeclaration,
  identifiersNamed,
  isInertInitializer,
  isMethodCall,
  isStaticCall,
  jsonParseHoist,
  lineOf,
  references,
  setHasProblem,
  type MethodCall,
} from '../../ast/index.js';
import {
  constKeyword,
  type Edit,
  insertAtModuleTop,
  isExported,
  locate,
  replace,
  uniqueName,
  upperSnake,
} from '../ast.js';
import { builtinProblem } from '../level.js';
import type { Template } from './template.js';

// --- Set membership --------------------------------------------------------------------

export const preferSetHas: Template = (ctx) => {
  const { ts, sf } = ctx;
  // The scanner may point at a use (`X.includes(y)`) or at the declaration itself.
  let decl: TS.VariableDeclaration | undefined;
  const call = locate(ctx, (n): n is MethodCall => isMethodCall(ts, n, ['includes']));
  const recv = call?.expression.expression;
  if (recv && ts.isIdentifier(recv)) {
    const d = findDeclaration(ts, recv, recv.text);
    if (d && ts.isVariableDeclaration(d)) decl = d;
  }
  decl ??= locate(ctx, (n): n is TS.VariableDeclaration => ts.isVariableDeclaration(n));
  if (!decl || !ts.isIdentifier(decl.name)) return 'no array declaration found at the position';
  const name = decl.name.text;
  const problem = setHasProblem(ts, decl, identifiersNamed(ts, sf, name));
  if (problem) return problem;
  const missing = builtinProblem(ctx.level, 'Set');
  if (missing) return missing;
  const init = decl.initializer!;
  const edits: Edit[] = [replace(init, sf, `new Set(${init.getText(sf)})`)];
  for (const ref of references(ts, sf, name))
    edits.push(replace((ref.parent as TS.PropertyAccessExpression).name, sf, 'has'));
  return {
    edits,
    explanation: `\`${name}\` is a constant list only used for membership tests: a Set answers \`has\` in constant time instead of scanning the array on every \`includes\`.`,
  };
};

// --- JSON.parse of a constant ----------------------------------------------------------

export const hoistJsonParse: Template = (ctx) => {
  const { ts, sf } = ctx;
  const call = locate(ctx, (n): n is MethodCall => isStaticCall(ts, n, 'JSON', 'parse'));
  if (!call) return 'no JSON.parse call at the position';
  const hoist = jsonParseHoist(ts, call);
  if (typeof hoist === 'string') return hoist;
  const base = hoist.binding ? upperSnake(hoist.binding.text) : 'PARSED_JSON';
  const name = uniqueName(ts, sf, base);
  return {
    edits: [
      insertAtModuleTop(
        ts,
        sf,
        `${constKeyword(ctx)} ${name} = JSON.parse(${hoist.text.getText(sf)});`,
        hoist.constant ? [hoist.constant] : [],
      ),
      replace(call, sf, name),
    ],
    explanation: `The same constant JSON text was parsed on every call; it is parsed once at module load into \`${name}\`, which is only ever read.`,
  };
};

// --- Dead code --------------------------------------------------------------------------

export const removeDeadCode: Template = (ctx) => {
  const { ts, sf, text } = ctx;
  const statement = locate(
    ctx,
    (n): n is TS.FunctionDeclaration | TS.ClassDeclaration | TS.VariableStatement =>
      n.parent === sf &&
      (ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isVariableStatement(n)),
  );
  if (!statement) return 'no module-level function, class or variable at the position';
  let name: string;
  if (ts.isFunctionDeclaration(statement)) {
    if (!statement.name) return 'the function has no name';
    name = statement.name.text;
  } else if (ts.isClassDeclaration(statement)) {
    if (!statement.name) return 'the class has no name';
    name = statement.name.text;
    const effect = classLoadEffect(ts, statement);
    if (effect) return `${name} runs code when the module loads: ${effect}`;
  } else {
    const [decl, ...more] = statement.declarationList.declarations;
    if (!decl || more.length > 0 || !ts.isIdentifier(decl.name))
      return 'the statement declares several or destructured names';
    name = decl.name.text;
    if (decl.initializer && !isInertInitializer(ts, decl.initializer))
      return `the initialiser of ${name} may have side effects`;
  }
  if (isExported(ts, sf, statement, name)) return `${name} is exported`;
  // References inside the declaration itself (recursion) do not keep it alive.
  const outside = references(ts, sf, name).filter(
    (r) => r.getStart(sf) < statement.getStart(sf) || r.getEnd() > statement.getEnd(),
  );
  if (outside.length > 0) return `${name} is referenced (line ${lineOf(sf, outside[0]!)})`;
  if (declarations(ts, sf, name).length > 1 && ts.isFunctionDeclaration(statement))
    return `${name} is overloaded or declared twice`;
  // Delete whole lines: attached comments above, the statement, and one blank line around it.
  let start = statement.getStart(sf);
  const comments = ts.getLeadingCommentRanges(text, statement.getFullStart()) ?? [];
  for (let i = comments.length - 1; i >= 0; i--) {
    const gap = text.slice(comments[i]!.end, start);
    if ((gap.match(/\n/g) ?? []).length > 1) break;
    start = comments[i]!.pos;
  }
  start = text.lastIndexOf('\n', start - 1) + 1;
  let end = statement.getEnd();
  const nl = text.indexOf('\n', end);
  end = nl === -1 ? text.length : nl + 1;
  const blankBefore = start >= 2 && text[start - 1] === '\n' && text[start - 2] === '\n';
  const blankAfter = text[end] === '\n';
  if (blankAfter && (blankBefore || start === 0)) end += 1;
  else if (blankBefore && end === text.length) start -= 1;
  return {
    edits: [{ start, end, text: '' }],
    explanation: `\`${name}\` is module-private and nothing references it; removing it leaves less code to parse and load (build and typecheck confirm it was unused).`,
  };
};
