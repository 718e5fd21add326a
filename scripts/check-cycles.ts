/**
 * Circular-import check for src/ (no dependencies): `npm run cycles`.
 *
 * A cycle between modules makes evaluation order depend on which file is imported first,
 * which surfaces as `undefined` bindings or TDZ errors at startup. Only runtime edges count:
 * `import type` / `export type` declarations are erased by the compiler. Note that with
 * `verbatimModuleSyntax`, `import { type A } from './a.js'` is NOT erased (it compiles to
 * `import {} from './a.js'`), so it is a runtime edge and counts here.
 *
 * Exits 1 and prints every cycle found, else prints `no circular imports (N files)`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ImportGraph {
  /** Source files, relative to the root, with `/` separators, sorted. */
  readonly files: readonly string[];
  /** Runtime import edges between those files. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
}

export interface CycleReport extends ImportGraph {
  /**
   * One entry per strongly connected component with a cycle: the shortest cycle through
   * its first file, closed (`[a, b, a]`). `members` lists every file of the component.
   */
  readonly cycles: readonly {
    readonly path: readonly string[];
    readonly members: readonly string[];
  }[];
}

type Token =
  | { readonly kind: 'word'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'punct'; readonly value: string }
  // Template literals and regex literals: opaque, but they end an expression.
  | { readonly kind: 'opaque'; readonly value: '' };

const WORD_START = /[A-Za-z_$\u0080-\uffff]/;
const WORD_CHAR = /[\w$\u0080-\uffff]/;
/** After these words a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Tokenize just enough of TypeScript to find import and export declarations reliably:
 * comments are skipped and the contents of strings, template literals and regular
 * expressions never look like code.
 */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // Brace depth per open template substitution (`${`), innermost last.
  const templateDepths: number[] = [];
  let braceDepth = 0;
  let i = 0;
  const n = source.length;

  const regexAllowed = (): boolean => {
    const prev = tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.kind === 'string' || prev.kind === 'opaque') return false;
    if (prev.kind === 'word') return REGEX_AFTER_WORD.has(prev.value);
    return ![')', ']', '}'].includes(prev.value);
  };

  /** Skip a template literal body from just after a backtick or `}`; stops after `` ` `` or `${`. */
  const scanTemplate = (): void => {
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        i += 2;
      } else if (c === '`') {
        i += 1;
        tokens.push({ kind: 'opaque', value: '' });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templateDepths.push(braceDepth);
        braceDepth += 1;
        tokens.push({ kind: 'punct', value: '(' });
        return;
      } else {
        i += 1;
      }
    }
  };

  while (i < n) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let value = '';
      i += 1;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source[i + 1] ?? '';
          i += 2;
        } else {
          value += source[i];
          i += 1;
        }
      }
      i += 1;
      tokens.push({ kind: 'string', value });
    } else if (c === '`') {
      i += 1;
      scanTemplate();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i += 1;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i += 1;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i += 1;
      }
      i += 1;
      while (i < n && WORD_CHAR.test(source[i] as string)) i += 1; // flags
      tokens.push({ kind: 'opaque', value: '' });
    } else if (WORD_START.test(c)) {
      const start = i;
      while (i < n && WORD_CHAR.test(source[i] as string)) i += 1;
      tokens.push({ kind: 'word', value: source.slice(start, i) });
    } else if (/\d/.test(c)) {
      while (i < n && /[\w.]/.test(source[i] as string)) i += 1;
      tokens.push({ kind: 'opaque', value: '' });
    } else {
      i += 1;
      if (c === '{') {
        braceDepth += 1;
      } else if (c === '}') {
        braceDepth -= 1;
        if (templateDepths.at(-1) === braceDepth) {
          // End of a `${…}` substitution: back inside the template literal.
          templateDepths.pop();
          tokens.push({ kind: 'punct', value: ')' });
          scanTemplate();
          continue;
        }
      }
      tokens.push({ kind: 'punct', value: c });
    }
  }
  return tokens;
}

/**
 * The module specifiers a file imports at runtime, in source order: static `import`
 * declarations (side-effect imports included) and `export … from`. Type-only
 * declarations and dynamic `import()` are left out.
 *
 * @example
 *   parseRuntimeImports("import type { A } from './a.js';\nexport { b } from './b.js';")
 *   // → ['./b.js']
 */
export function parseRuntimeImports(source: string): string[] {
  const tokens = tokenize(source);
  const specifiers: string[] = [];
  const isWord = (t: Token | undefined, value?: string): boolean =>
    t?.kind === 'word' && (value === undefined || t.value === value);
  const isPunct = (t: Token | undefined, value: string): boolean =>
    t?.kind === 'punct' && t.value === value;

  for (let k = 0; k < tokens.length; k += 1) {
    const tok = tokens[k];
    if (!isWord(tok, 'import') && !isWord(tok, 'export')) continue;
    // `x.import`, `import.meta`, `import(…)` are not declarations.
    if (isPunct(tokens[k - 1], '.')) continue;
    const first = tokens[k + 1];
    if (isPunct(first, '.') || isPunct(first, '(')) continue;
    if (isWord(tok, 'import') && first?.kind === 'string') {
      specifiers.push(first.value); // import './side-effect.js'
      continue;
    }
    if (
      isWord(tok, 'export') &&
      !isPunct(first, '{') &&
      !isPunct(first, '*') &&
      !isWord(first, 'type')
    ) {
      continue; // export const / function / default / …
    }
    // `import type X`, `import type { X }`, `export type { X }`, `export type * from`; but
    // `import type from './x.js'` is a default import named "type".
    let typeOnly = false;
    if (isWord(first, 'type')) {
      const afterType = tokens[k + 2];
      typeOnly =
        (isWord(afterType) && !isWord(afterType, 'from')) ||
        isPunct(afterType, '{') ||
        isPunct(afterType, '*');
      if (isWord(tok, 'export') && !typeOnly) continue; // export type Alias = …
    }
    // Find `from '<specifier>'` before the declaration ends.
    for (let j = k + 1; j < tokens.length && j < k + 4096; j += 1) {
      const t = tokens[j] as Token;
      if (isPunct(t, ';') || isPunct(t, '=') || isPunct(t, '(')) break;
      if (t.kind === 'string' || t.kind === 'opaque') break;
      if (isWord(t, 'from') && tokens[j + 1]?.kind === 'string') {
        if (!typeOnly) specifiers.push((tokens[j + 1] as { value: string }).value);
        break;
      }
    }
  }
  return specifiers;
}

const SOURCE_FILE = /\.(?:ts|tsx|mts|cts)$/;
const DECLARATION_FILE = /\.d\.(?:ts|mts|cts)$/;

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && SOURCE_FILE.test(entry.name) && !DECLARATION_FILE.test(entry.name)) {
      out.push(full);
    }
  }
}

/** Candidate source files for a relative specifier (`./x.js` is written for `./x.ts`). */
function candidates(target: string): string[] {
  const swaps: [RegExp, string[]][] = [
    [/\.js$/, ['.ts', '.tsx']],
    [/\.jsx$/, ['.tsx']],
    [/\.mjs$/, ['.mts']],
    [/\.cjs$/, ['.cts']],
  ];
  for (const [pattern, replacements] of swaps) {
    if (pattern.test(target)) {
      return [target, ...replacements.map((ext) => target.replace(pattern, ext))];
    }
  }
  return [target, `${target}.ts`, `${target}.tsx`, join(target, 'index.ts')];
}

const toPosix = (p: string): string => p.split(sep).join('/');

/** Build the runtime import graph of every source file under `dir`. */
export function buildImportGraph(dir: string): ImportGraph {
  const root = resolve(dir);
  const absolute: string[] = [];
  walk(root, absolute);
  absolute.sort();
  const known = new Set(absolute);
  const name = (abs: string): string => toPosix(relative(root, abs));

  const edges = new Map<string, string[]>();
  for (const file of absolute) {
    const targets = new Set<string>();
    for (const specifier of parseRuntimeImports(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const target = resolve(dirname(file), specifier);
      const hit = candidates(target).find((c) => known.has(c));
      if (hit !== undefined) targets.add(name(hit));
    }
    edges.set(name(file), [...targets].sort());
  }
  return { files: absolute.map(name), edges };
}

/** Tarjan's strongly connected components (iterative: deep import chains are fine). */
function stronglyConnected(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const start of graph.files) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter);
    counter += 1;
    stack.push(start);
    onStack.add(start);

    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const successors = graph.edges.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const succ = successors[frame.next] as string;
        frame.next += 1;
        if (!index.has(succ)) {
          index.set(succ, counter);
          low.set(succ, counter);
          counter += 1;
          stack.push(succ);
          onStack.add(succ);
          work.push({ node: succ, next: 0 });
        } else if (onStack.has(succ)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(succ) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(
          parent.node,
          Math.min(low.get(parent.node) as number, low.get(frame.node) as number),
        );
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** Shortest path from `start` back to itself, staying inside `members`. */
function shortestCycle(graph: ImportGraph, start: string, members: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  for (let head = 0; head < queue.length; head += 1) {
    const node = queue[head] as string;
    for (const succ of graph.edges.get(node) ?? []) {
      if (!members.has(succ)) continue;
      if (succ === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at) as string) path.push(at);
        path.push(start);
        return [path[0] as string, ...path.slice(1, -1).reverse(), start];
      }
      if (!previous.has(succ)) {
        previous.set(succ, node);
        queue.push(succ);
      }
    }
  }
  return [start, start];
}

/**
 * Find the import cycles among the source files under `dir`.
 *
 * @example
 *   const { cycles } = findImportCycles('src');
 *   if (cycles.length > 0) process.exitCode = 1;
 */
export function findImportCycles(dir: string): CycleReport {
  const graph = buildImportGraph(dir);
  const cycles = stronglyConnected(graph)
    .filter((c) => c.length > 1 || (graph.edges.get(c[0] as string) ?? []).includes(c[0] as string))
    .map((members) => ({
      members,
      path: shortestCycle(graph, members[0] as string, new Set(members)),
    }))
    .sort((a, b) => (a.members[0] as string).localeCompare(b.members[0] as string));
  return { ...graph, cycles };
}

/** Human-readable report; `ok` is false when there is a cycle. */
export function formatCycleReport(
  report: CycleReport,
  label = 'src',
): { ok: boolean; text: string } {
  if (report.cycles.length === 0) {
    return { ok: true, text: `no circular imports (${report.files.length} files)` };
  }
  const lines = [`${report.cycles.length} circular import group(s) in ${label}/:`];
  report.cycles.forEach((cycle, i) => {
    lines.push(`  ${i + 1}. ${cycle.path.join(' → ')}`);
    if (cycle.members.length > cycle.path.length - 1) {
      lines.push(`     (files in this cycle group: ${cycle.members.join(', ')})`);
    }
  });
  lines.push('Break each cycle: move the shared part down, or import it with `import type`.');
  return { ok: false, text: lines.join('\n') };
}

function main(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = resolve(process.argv[2] ?? join(root, 'src'));
  const { ok, text } = formatCycleReport(findImportCycles(dir), process.argv[2] ?? 'src');
  if (ok) {
    console.log(text);
  } else {
    console.error(text);
    process.exitCode = 1;
  }
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  main();
}
