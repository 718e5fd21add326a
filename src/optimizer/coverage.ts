import { mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Logger } from '../observability/index.js';
import { changedLines, lineSpans } from './coverage-diff.js';
import {
  benchmarksRunningChange,
  partsRunningChange,
  segmentHookEnv,
} from './coverage-segments.js';
import { runStep, type StepResult } from './steps.js';

/**
 * Does the benchmark execute the code a candidate changed? (perf-validation.md, "Decision
 * recipe" step 5: a benchmark that never runs the change cannot prove it faster, and
 * benchmarking it anyway costs `2 × samples` runs for nothing.)
 *
 * The benchmark runs once with `NODE_V8_COVERAGE=<dir>`: every node process it starts (npm,
 * the bench script, its children) writes V8's precise block coverage there on exit. This file
 * maps the diff's added lines to offsets in those scripts and reads the counts:
 *
 * - a script loaded straight from a changed file: offsets are the file's own (checked: the
 *   script's length must equal the file's, else the engine ran a transformed copy);
 * - a script with a source map that names a changed file (tsc `--sourceMap` output in dist/,
 *   tsx, anything node's source-map cache saw): offsets of the map's segments for that line.
 *
 * A line ran when, at one of its offsets, the innermost range covering it has count > 0.
 * When any changed line lies inside a function, only those lines count: a module-level line
 * (a hoisted constant, say) runs on import whether or not the benchmark ever calls the
 * changed function. When no coverage maps to a changed file at all (compiled output without
 * source maps, a harness that transforms in memory, a bench not run by node) the answer is
 * `unknown`, never "not executed".
 */

export interface CoverageFinding {
  /** `unknown`: some changed file had no coverage mapping to it and none of the others ran. */
  executed: boolean | 'unknown';
  /** The candidate's changed lines, as spans: `src/x.js:12-14`. */
  changed: string[];
  /** The changed lines the benchmark ran (by the rule above). */
  ran: string[];
  /** The most times one of them ran (V8's block count), when any did. */
  hits?: number;
  /** Changed files no coverage mapped to, and why that matters, when there are any. */
  note?: string;
  /**
   * The benchmarks whose own measurement ran the changed lines, when the coverage could be
   * split by benchmark (one snapshot per printed result); absent when it could not, and then
   * every benchmark of the command is judged.
   */
  benchmarks?: string[];
  /**
   * With a chained benchmark command run part by part marked (bench-parts.ts): the parts
   * (0-based) whose processes ran the changed lines; absent when that could not be told.
   */
  parts?: number[];
  /** The benchmark run with coverage on, and reading and mapping what it wrote. */
  runMs: number;
  analysisMs: number;
}

export { changedLines, lineSpans } from './coverage-diff.js';

// --- V8 coverage as node writes it ---------------------------------------------------------

const CoverageRange = z.object({
  startOffset: z.number(),
  endOffset: z.number(),
  count: z.number(),
});
const FunctionCoverage = z.object({
  functionName: z.string(),
  ranges: z.array(CoverageRange).min(1),
});
const ScriptCoverage = z.object({ url: z.string(), functions: z.array(FunctionCoverage) });
export type ScriptCoverage = z.infer<typeof ScriptCoverage>;

const SourceMapEntry = z.object({
  lineLengths: z.array(z.number()),
  data: z.object({
    sources: z.array(z.string().nullable()),
    sourceRoot: z.string().nullish(),
    mappings: z.string(),
  }),
  url: z.string().nullish(),
});
type SourceMapEntry = z.infer<typeof SourceMapEntry>;

/** One coverage-*.json: the scripts of one process and node's source-map cache. */
export interface ProcessCoverage {
  /** The file's name: `coverage-<pid>-<ms>-<n>.json`. */
  file: string;
  result: ScriptCoverage[];
  sourceMaps: Map<string, SourceMapEntry>;
}

/**
 * Reads the coverage files in `dir`. Only scripts with a file URL or path are kept (node's
 * internals are `node:`; npm's own hundreds are dropped later, being outside the repository),
 * and only those are validated: a file that is not coverage JSON is skipped, not an error.
 */
export async function readCoverageDir(dir: string): Promise<ProcessCoverage[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: ProcessCoverage[] = [];
  for (const name of names) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    if (typeof raw !== 'object' || raw === null) continue;
    const { result, 'source-map-cache': cache } = raw as Record<string, unknown>;
    if (!Array.isArray(result)) continue;
    const scripts = result.flatMap((entry: unknown) => {
      const url = (entry as { url?: unknown } | null)?.url;
      // Scripts compiled with `vm` (vite-node, some test runners) carry a plain path.
      if (typeof url !== 'string' || !(url.startsWith('file:') || isAbsolute(url))) return [];
      const parsed = ScriptCoverage.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    });
    const sourceMaps = new Map<string, SourceMapEntry>();
    if (typeof cache === 'object' && cache !== null) {
      for (const [url, entry] of Object.entries(cache)) {
        const parsed = SourceMapEntry.safeParse(entry);
        if (parsed.success) sourceMaps.set(url, parsed.data);
      }
    }
    out.push({ file: name, result: scripts, sourceMaps });
  }
  return out;
}

// --- mapping changed lines to executed offsets ------------------------------------------------

/** What one offset of a script tells: the count there, and whether it is inside a function. */
interface Hit {
  count: number;
  inFunction: boolean;
}

/**
 * Counts at offsets of one script. The innermost (shortest) range covering an offset holds its
 * count: V8 nests block ranges inside their function's range and reports a function's later
 * blocks after its own range, so on equal lengths the later range wins. The script's own
 * top-level function (the one starting at 0 with the largest extent) does not make an offset
 * "inside a function".
 */
function hitAt(script: ScriptCoverage, offset: number): Hit | undefined {
  let best: { length: number; count: number } | undefined;
  let inFunction = false;
  const top = topLevel(script);
  for (const fn of script.functions) {
    const outer = fn.ranges[0]!;
    if (offset < outer.startOffset || offset >= outer.endOffset) continue;
    if (fn !== top) inFunction = true;
    for (const range of fn.ranges) {
      if (offset < range.startOffset || offset >= range.endOffset) continue;
      const length = range.endOffset - range.startOffset;
      if (!best || length <= best.length) best = { length, count: range.count };
    }
  }
  return best ? { count: best.count, inFunction } : undefined;
}

const topCache = new WeakMap<ScriptCoverage, ScriptCoverage['functions'][number] | undefined>();

function topLevel(script: ScriptCoverage): ScriptCoverage['functions'][number] | undefined {
  if (topCache.has(script)) return topCache.get(script);
  let top: ScriptCoverage['functions'][number] | undefined;
  for (const fn of script.functions) {
    const r = fn.ranges[0]!;
    if (r.startOffset === 0 && (!top || r.endOffset > top.ranges[0]!.endOffset)) top = fn;
  }
  topCache.set(script, top);
  return top;
}

/** The script's length as V8 saw it: the extent of its top-level function. */
function scriptLength(script: ScriptCoverage): number | undefined {
  return topLevel(script)?.ranges[0]!.endOffset;
}

/** Start offset of each line (0-based index) from the lines' lengths, newlines one character each. */
function lineStarts(lengths: readonly number[]): number[] {
  const starts: number[] = [];
  let offset = 0;
  for (const length of lengths) {
    starts.push(offset);
    offset += length + 1;
  }
  return starts;
}

/** Line lengths as node's source-map cache counts them (`lineLengths`), to share `lineStarts`. */
function lineLengthsOf(text: string): number[] {
  return text.split(/\n|\u2028|\u2029/).map((l) => l.length);
}

/** Offsets of the non-blank characters of 1-based `line` in `text`. */
function offsetsOfLine(text: string, starts: readonly number[], line: number): number[] {
  const start = starts[line - 1];
  if (start === undefined) return [];
  const end = starts[line] === undefined ? text.length : (starts[line] as number) - 1;
  const offsets: number[] = [];
  for (let i = start; i < end; i++) if (!/\s/.test(text[i] as string)) offsets.push(i);
  return offsets;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** A decoded mapping: generated line and column (0-based) → source index, source line. */
interface Segment {
  line: number;
  column: number;
  source: number;
  sourceLine: number;
}

/** Source map v3 `mappings` (base64 VLQ, fields relative to the previous segment). */
export function decodeMappings(mappings: string): Segment[] {
  const segments: Segment[] = [];
  // Only the fields this file needs are summed; the source column and name deltas are
  // skipped, which leaves the others untouched (each field has its own running sum).
  let source = 0;
  let sourceLine = 0;
  let line = 0;
  for (const group of mappings.split(';')) {
    let column = 0;
    for (const text of group.split(',')) {
      if (text === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const c of text) {
        const digit = BASE64_VALUE.get(c);
        if (digit === undefined) break;
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0] ?? 0;
      if (fields.length >= 4) {
        source += fields[1] as number;
        sourceLine += fields[2] as number;
        segments.push({ line, column, source, sourceLine });
      }
    }
    line++;
  }
  return segments;
}

/** A changed file as the repository has it: its text after the patch and its changed lines. */
export interface ChangedFile {
  /** Repo-relative, as in the diff. */
  file: string;
  /** Real path of the file, to compare with the real paths of scripts. */
  realPath: string;
  text: string;
  lines: number[];
}

/** A script of the coverage with its URL resolved: its real path and source map, if any. */
export interface ResolvedScript {
  coverage: ScriptCoverage;
  realPath: string | undefined;
  /** The source map's sources as real paths (undefined where not a file), and its segments. */
  sourceMap?: { sources: (string | undefined)[]; segments: Segment[]; lineStarts: number[] };
}

/**
 * The pure part: which changed lines ran, given the scripts with resolved paths. See the
 * file's comment for the rules; `runMs` and `analysisMs` are the caller's.
 */
export function assessCoverage(
  files: readonly ChangedFile[],
  scripts: readonly ResolvedScript[],
): Omit<CoverageFinding, 'runMs' | 'analysisMs'> {
  // file → line → what the scripts that map to it say about the line.
  const byLine = new Map<string, Map<number, Hit[]>>();
  const mapped = new Set<string>();
  for (const changed of files) {
    const lines = new Map<number, Hit[]>(changed.lines.map((l) => [l, []]));
    byLine.set(changed.file, lines);
    const wanted = new Set(changed.lines);
    for (const script of scripts) {
      const map = script.sourceMap;
      const index = map ? map.sources.indexOf(changed.realPath) : -1;
      if (map && index !== -1) {
        mapped.add(changed.file);
        for (const s of map.segments) {
          if (s.source !== index || !wanted.has(s.sourceLine + 1)) continue;
          const start = map.lineStarts[s.line];
          if (start === undefined) continue;
          const hit = hitAt(script.coverage, start + s.column);
          if (hit) lines.get(s.sourceLine + 1)!.push(hit);
        }
      } else if (script.realPath === changed.realPath) {
        // The engine ran a transformed copy if the lengths differ: its offsets are not ours.
        if (scriptLength(script.coverage) !== changed.text.length) continue;
        mapped.add(changed.file);
        const starts = lineStarts(lineLengthsOf(changed.text));
        for (const line of changed.lines) {
          for (const offset of offsetsOfLine(changed.text, starts, line)) {
            const hit = hitAt(script.coverage, offset);
            if (hit) lines.get(line)!.push(hit);
          }
        }
      }
    }
  }

  const inFunctions = [...byLine.values()].some((lines) =>
    [...lines.values()].some((hits) => hits.some((h) => h.inFunction)),
  );
  const changed: string[] = [];
  const ran: string[] = [];
  let hits = 0;
  for (const changedFile of files) {
    const lines = byLine.get(changedFile.file)!;
    changed.push(...lineSpans(changedFile.file, changedFile.lines));
    const ranLines = changedFile.lines.filter((l) =>
      lines.get(l)!.some((h) => {
        const counts = h.count > 0 && (h.inFunction || !inFunctions);
        if (counts) hits = Math.max(hits, h.count);
        return counts;
      }),
    );
    ran.push(...lineSpans(changedFile.file, ranLines));
  }
  const unmapped = files.filter((f) => !mapped.has(f.file)).map((f) => f.file);
  const note =
    unmapped.length > 0
      ? `no coverage maps to ${unmapped.join(', ')} (compiled output without source maps, code transformed in memory, or a file the benchmark never loads)`
      : undefined;
  const executed = ran.length > 0 ? true : unmapped.length > 0 ? 'unknown' : false;
  return { executed, changed, ran, ...(hits > 0 ? { hits } : {}), ...(note ? { note } : {}) };
}

/** `realpath`, or undefined for a path that does not exist. */
async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

function filePath(url: string): string | undefined {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : isAbsolute(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A benchmark is judged only when its own stretch ran a changed line at least this often: code
 * run once (a setup call, a table built on first use) is not what the benchmark measures.
 */
export const MIN_HITS_PER_BENCHMARK = 2;

export interface CheckCoverageOptions {
  /** The candidate's worktree; the diff's paths are relative to it. */
  root: string;
  diff: string;
  files: readonly string[];
  /** Where the benchmark's NODE_V8_COVERAGE output is. */
  coverageDir: string;
  /** Where the per-line snapshot hook logged (coverage-segments.ts), when it ran. */
  segmentsDir?: string;
}

/**
 * The coverage a benchmark run wrote to `coverageDir`, its scripts resolved to real paths under
 * `root` (others left out) with their source maps: all of them, and per coverage file (with the
 * snapshot hook each file is one stretch of the benchmark).
 */
async function resolvedCoverage(
  root: string,
  coverageDir: string,
): Promise<{ scripts: ResolvedScript[]; perFile: Map<string, ResolvedScript[]>; files: string[] }> {
  const realRoot = (await real(root)) ?? root;
  const inRoot = (path: string | undefined): boolean => {
    if (!path) return false;
    const rel = relative(realRoot, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  const realOf = new Map<string, Promise<string | undefined>>();
  const resolve = (url: string): Promise<string | undefined> => {
    let found = realOf.get(url);
    if (!found) {
      const path = filePath(url);
      found = path ? real(path) : Promise.resolve(undefined);
      realOf.set(url, found);
    }
    return found;
  };

  const scripts: ResolvedScript[] = [];
  const perFile = new Map<string, ResolvedScript[]>();
  const written = await readCoverageDir(coverageDir);
  // A snapshot after the first (coverage-segments.ts) leaves out the module's own function,
  // which started before it: the script's length and its count-0 body come from another.
  const tops = new Map<string, number>();
  for (const { result } of written) {
    for (const c of result) {
      const length = scriptLength(c);
      if (length !== undefined) tops.set(c.url, Math.max(length, tops.get(c.url) ?? 0));
    }
  }
  const complete = (c: ScriptCoverage): ScriptCoverage => {
    const length = tops.get(c.url);
    if (scriptLength(c) !== undefined || length === undefined) return c;
    const top = { functionName: '', ranges: [{ startOffset: 0, endOffset: length, count: 0 }] };
    return { ...c, functions: [top, ...c.functions] };
  };
  for (const { file, result: raw, sourceMaps } of written) {
    const result = raw.map(complete);
    // Per file as well: with the snapshot hook, each file is one stretch of the benchmark.
    const own: ResolvedScript[] = [];
    perFile.set(file, own);
    for (const coverage of result) {
      const realPath = await resolve(coverage.url);
      if (!inRoot(realPath)) continue;
      const entry = sourceMaps.get(coverage.url);
      if (!entry) {
        own.push({ coverage, realPath });
        continue;
      }
      // Node already resolves `sources` to absolute URLs; a relative one is taken against
      // the map's own URL, or the script's for an inline map.
      const base = entry.url && !entry.url.startsWith('data:') ? entry.url : coverage.url;
      const sources = await Promise.all(
        entry.data.sources.map(async (source) => {
          if (source === null) return undefined;
          try {
            return await resolve(new URL((entry.data.sourceRoot ?? '') + source, base).href);
          } catch {
            return undefined;
          }
        }),
      );
      own.push({
        coverage,
        realPath,
        sourceMap: {
          sources,
          segments: decodeMappings(entry.data.mappings),
          lineStarts: lineStarts(entry.lineLengths),
        },
      });
    }
  }
  for (const own of perFile.values()) scripts.push(...own);
  return { scripts, perFile, files: written.map((w) => w.file) };
}

/**
 * Reads the coverage the benchmark wrote and maps the diff's added lines onto it. Paths are
 * compared as real paths: the worktree may be reached through symlinks, and node reports the
 * real path of what it loads. Returns `runMs: 0`: the caller timed the run.
 */
export async function checkCoverage(options: CheckCoverageOptions): Promise<CoverageFinding> {
  const started = performance.now();
  const files: ChangedFile[] = [];
  for (const [file, lines] of changedLines(options.diff, options.files)) {
    if (lines.length === 0) continue;
    const path = join(options.root, file);
    const realPath = await real(path);
    if (!realPath) continue;
    files.push({ file, realPath, text: await readFile(path, 'utf8'), lines });
  }
  const {
    scripts,
    perFile,
    files: coverageFiles,
  } = await resolvedCoverage(options.root, options.coverageDir);
  const finding = assessCoverage(files, scripts);
  const hitsIn = (file: string): number => {
    // Code a benchmark ran once (its setup) cannot make its measured loop faster.
    const stretch = assessCoverage(files, perFile.get(file) ?? []);
    return stretch.executed === true ? (stretch.hits ?? 0) : 0;
  };
  const split = finding.executed === true ? options.segmentsDir : undefined;
  const benchmarks = split
    ? await benchmarksRunningChange(split, coverageFiles, hitsIn, MIN_HITS_PER_BENCHMARK)
    : undefined;
  const parts = split ? await partsRunningChange(split, coverageFiles, hitsIn) : undefined;
  return {
    ...finding,
    ...(benchmarks ? { benchmarks } : {}),
    ...(parts ? { parts } : {}),
    runMs: 0,
    analysisMs: Math.round(performance.now() - started),
  };
}

/**
 * How often a benchmark run (its coverage in `coverageDir`) ran each set of lines (file →
 * 1-based lines): V8's block count by the rules of assessCoverage (when some of the lines are
 * in a function, only function lines count). `undefined` where the coverage cannot tell (no
 * script maps to a file: compiled without source maps, transformed in memory, never loaded),
 * 0 where the lines were mapped and never ran.
 */
export async function linesHits(
  root: string,
  coverageDir: string,
  sets: readonly ReadonlyMap<string, readonly number[]>[],
): Promise<(number | undefined)[]> {
  const { scripts } = await resolvedCoverage(root, coverageDir);
  const sources = new Map<string, { realPath: string; text: string } | undefined>();
  const out: (number | undefined)[] = [];
  for (const set of sets) {
    const files: ChangedFile[] = [];
    for (const [file, lines] of set) {
      if (!sources.has(file)) {
        const path = join(root, file);
        const realPath = await real(path);
        sources.set(file, realPath ? { realPath, text: await readFile(path, 'utf8') } : undefined);
      }
      const source = sources.get(file);
      if (source && lines.length > 0) files.push({ file, ...source, lines: [...lines] });
    }
    const found = files.length > 0 ? assessCoverage(files, scripts) : undefined;
    out.push(
      !found || found.executed === 'unknown' ? undefined : found.executed ? (found.hits ?? 0) : 0,
    );
  }
  return out;
}

export interface BenchCoverageOptions extends Omit<CheckCoverageOptions, 'coverageDir'> {
  command: string;
  env: Record<string, string>;
  log: Logger;
  /** Created for the run and removed after; must not exist yet. */
  coverageDir: string;
  timeoutMs?: number;
}

/**
 * Runs the benchmark once in the candidate's worktree with `NODE_V8_COVERAGE` set and maps
 * the diff onto what it wrote. `finding` is absent when the benchmark failed (`run` says how).
 */
export async function benchCoverage(
  options: BenchCoverageOptions,
): Promise<{ run: StepResult; finding?: CoverageFinding }> {
  const dir = resolvePath(options.coverageDir);
  const segmentsDir = `${dir}.segments`;
  await mkdir(dir, { recursive: true });
  try {
    const hook = await segmentHookEnv(segmentsDir, options.env);
    const run = await runStep({
      name: 'bench (coverage)',
      command: options.command,
      cwd: options.root,
      env: { ...options.env, ...hook, NODE_V8_COVERAGE: dir },
      log: options.log,
      timeoutMs: options.timeoutMs,
    });
    if (!run.ok) return { run };
    const finding = await checkCoverage({ ...options, coverageDir: dir, segmentsDir });
    return { run, finding: { ...finding, runMs: run.durationMs } };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(segmentsDir, { recursive: true, force: true });
  }
}
