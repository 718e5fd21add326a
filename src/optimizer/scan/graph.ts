/**
 * Which files the package's entry points reach through relative imports: the scanner's notion
 * of "hot". Entry points are package.json `main`/`module`/`exports`/`bin` (mapped from build
 * output back to source when needed) plus explicit ones such as benchmark files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'];

/** Resolves a relative specifier from `from` to a file of `known`, or undefined. */
export function resolveRelative(
  from: string,
  specifier: string,
  known: ReadonlySet<string>,
): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  // `'../'` normalizes to `./`: the folder itself, as `'..'` is.
  const base =
    posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\/$/, '') || '.';
  const stem = base.replace(/\.(?:[mc]?js|jsx)$/, '');
  const tries = [
    base,
    ...EXTENSIONS.map((e) => stem + e),
    // `require('.')` from the root is `index.js`, not `./index.js` (never a known path).
    ...EXTENSIONS.map((e) => (base === '.' ? `index${e}` : `${base}/index${e}`)),
  ];
  return tries.find((t) => known.has(t));
}

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (value && typeof value === 'object')
    for (const v of Object.values(value as Record<string, unknown>)) collectStrings(v, out);
}

/**
 * Entry files named by the package.json in `dir` (repo-relative, '' for the root; a monorepo's
 * workspace packages are each a package), mapped onto source files (`dist/x.js` → `src/x.ts`).
 */
export function packageEntryPoints(root: string, known: ReadonlySet<string>, dir = ''): string[] {
  const path = posix.join(root.split('\\').join('/'), dir, 'package.json');
  const raw: string[] = [];
  if (existsSync(path)) {
    try {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      for (const key of ['main', 'module', 'browser', 'exports', 'bin'])
        collectStrings(pkg[key], raw);
      // Without `main` or `exports`, `require('<package>')` loads index.js, whatever `bin` says.
      if (pkg.main === undefined && pkg.exports === undefined) raw.push('index');
    } catch {
      // An unreadable package.json names no entry points; the conventional ones still apply.
    }
  }
  const out = new Set<string>();
  // Specifiers resolve against a file in `dir`.
  const importer = dir ? `${dir}/x` : 'x';
  const resolveAll = (entries: string[]) => {
    for (const entry of entries) {
      const rel = posix.normalize(entry.replace(/^\.\//, ''));
      const mapped = [rel, rel.replace(/^(?:dist|build|out|lib|esm|cjs)\//, 'src/')];
      for (const m of mapped) {
        const hit = resolveRelative(importer, `./${m}`, known);
        if (hit) out.add(hit);
      }
    }
  };
  resolveAll(raw);
  // Without a usable package.json entry, the conventional index files stand in.
  if (out.size === 0) resolveAll(['src/index', 'index', 'lib/index']);
  return [...out];
}

/** Files reachable from `entries` over `imports` (file → resolved imported files). */
export function reachableFrom(
  entries: readonly string[],
  imports: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of imports.get(file) ?? []) if (!seen.has(next)) stack.push(next);
  }
  return seen;
}
