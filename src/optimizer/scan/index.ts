/**
 * Stage 3 of the optimizer: AST rules over a repository's own source, producing ranked
 * opportunities. Hot paths first: code inside loops and files reached from the package's entry
 * points or its benchmarks score higher.
 *
 * @example
 *   const ops = await scanRepo('/path/to/repo', { entryPoints: ['bench/run.js'] });
 *   for (const o of ops) console.log(o.score, o.rule, `${o.file}:${o.line}`);
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Opportunity } from '../../contracts/index.js';
import { loadTypeScript, type TypeScript } from '../typescript.js';
import { discoverSourceFiles } from './discover.js';
import { packageEntryPoints, reachableFrom, resolveRelative } from './graph.js';
import type { Rule } from './rule.js';
import { RULES } from './rules/index.js';
import { scanFile, type RawFinding } from './scan-file.js';

export { RULES } from './rules/index.js';
export type { Rule } from './rule.js';

export interface ScanRepoOptions {
  /** Extra entry files (repo-relative), e.g. the benchmark scripts. */
  entryPoints?: string[];
  /** Only scan these repo-relative files or folders. */
  include?: string[];
  /** A monorepo's workspace package directories: each package's entry points are hot too. */
  packages?: string[];
}

export interface ScanStats {
  files: number;
  lines: number;
}

/** Loop nesting beyond three adds no information to the ranking. */
const MAX_COUNTED_DEPTH = 3;

export function scoreOf(
  rule: Rule,
  loopDepth: number,
  reachable: boolean,
  weight = rule.weight,
): number {
  return weight * (1 + Math.min(loopDepth, MAX_COUNTED_DEPTH)) * (reachable ? 2 : 1);
}

function toOpportunity(file: string, f: RawFinding, reachable: boolean): Opportunity | undefined {
  if (f.requiresHot && f.loopDepth === 0 && !reachable) return undefined;
  return {
    rule: f.rule.id,
    file,
    line: f.line,
    column: f.column,
    endLine: f.endLine,
    endColumn: f.endColumn,
    rationale: f.rationale,
    risk: f.rule.risk,
    expectedEffect: f.rule.expectedEffect,
    template: f.rule.flagOnly ? null : f.rule.id,
    score: scoreOf(f.rule, f.loopDepth, reachable, f.weight),
    hot: f.loopDepth > 0 || reachable,
  };
}

function byScore(a: Opportunity, b: Opportunity): number {
  return (
    b.score - a.score ||
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column
  );
}

/**
 * Scans one file's text on its own: no import graph, so only loops make code hot.
 * `file` is used for the result and to pick the dialect (`.ts`, `.tsx`, `.js`, `.jsx`).
 */
export async function scanSource(file: string, text: string): Promise<Opportunity[]> {
  const ts = await loadTypeScript();
  const { findings } = scanFile(ts, file, text, RULES);
  return findings
    .map((f) => toOpportunity(file, f, false))
    .filter((o): o is Opportunity => o !== undefined)
    .sort(byScore);
}

function importsOf(ts: TypeScript, file: string, text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * Scans a repository's own source (see discover.ts for what is left out) and ranks the
 * opportunities, highest score first. `stats`, when given, receives the files and lines read.
 */
export async function scanRepo(
  root: string,
  options: ScanRepoOptions = {},
  stats?: ScanStats,
): Promise<Opportunity[]> {
  const ts = await loadTypeScript();
  const files = await discoverSourceFiles(root, options.include);
  const known = new Set(files);
  const imports = new Map<string, string[]>();
  const findings = new Map<string, RawFinding[]>();
  let lines = 0;
  for (const file of files) {
    const text = await readFile(join(root, file), 'utf8');
    const scanned = scanFile(ts, file, text, RULES);
    lines += scanned.lines;
    findings.set(file, scanned.findings);
    imports.set(
      file,
      scanned.specifiers
        .map((s) => resolveRelative(file, s, known))
        .filter((f): f is string => f !== undefined),
    );
  }

  const entries = ['', ...(options.packages ?? [])].flatMap((dir) =>
    packageEntryPoints(root, known, dir),
  );
  for (const raw of options.entryPoints ?? []) {
    const entry = posix.normalize(raw.split('\\').join('/').replace(/^\.\//, ''));
    entries.push(entry);
    if (known.has(entry) || !existsSync(join(root, entry))) continue;
    // A benchmark file is not scanned, but what it imports is hot.
    const text = await readFile(join(root, entry), 'utf8');
    const extended = new Set([...known, entry]);
    imports.set(
      entry,
      importsOf(ts, entry, text)
        .map((s) => resolveRelative(entry, s, extended))
        .filter((f): f is string => f !== undefined && known.has(f)),
    );
  }
  const reachable = reachableFrom(entries, imports);

  const out: Opportunity[] = [];
  for (const [file, list] of findings) {
    const hot = reachable.has(file);
    for (const f of list) {
      const o = toOpportunity(file, f, hot);
      if (o) out.push(o);
    }
  }
  if (stats) {
    stats.files = files.length;
    stats.lines = lines;
  }
  return out.sort(byScore);
}
