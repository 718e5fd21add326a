import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBenchOutput } from './bench-output.js';

/**
 * Which benchmarks run the change, not only whether the benchmark command does: the coverage
 * run is split into one snapshot per printed line. A preloaded hook (`--require`, through
 * NODE_OPTIONS, so every node process the command starts has it) wraps `process.stdout.write`;
 * after each write that ends a line it calls `v8.takeCoverage()`, which writes the coverage so
 * far to NODE_V8_COVERAGE and resets the counters, and logs the text. A harness that prints
 * each result when that benchmark finishes (benchmark.js's `cycle`, most custom scripts) then
 * leaves, per benchmark, a snapshot of exactly the code that benchmark ran. A harness that
 * prints everything at the end (a mitata JSON, a table, a title line and then a table) leaves
 * the work in the snapshots before the one naming the benchmarks: those count for the names
 * that follow (attributeSegments), no worse than the whole-command answer.
 */

/** Snapshots per process at most: each costs a serialisation of the whole coverage. */
export const MAX_SNAPSHOTS = 300;

const HOOK = `'use strict';
const v8 = require('node:v8');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.PATCHBAY_COVERAGE_SEGMENTS;
// Package managers and other tools from node_modules (npm's banner) print no benchmark, and a
// snapshot of their hundreds of scripts is slow: only a script of the repository is split.
let main = process.argv[1] || '';
try {
  main = fs.realpathSync(main);
} catch {}
const tool = /[\\/]node_modules[\\/]/.test(main);
// Which part of a chained benchmark command started this process (bench-parts.ts), tools too.
const part = process.env.PATCHBAY_BENCH_PART;
if (dir && part !== undefined && process.env.NODE_V8_COVERAGE) {
  try {
    fs.writeFileSync(path.join(dir, 'part-' + process.pid), part);
  } catch {}
}
if (dir && !tool && process.env.NODE_V8_COVERAGE && typeof v8.takeCoverage === 'function') {
  const write = process.stdout.write.bind(process.stdout);
  const log = path.join(dir, 'segments-' + process.pid + '.jsonl');
  let taken = 0;
  let last = 0;
  let written = 0;
  // The file node writes at exit is named by the millisecond too: never the last snapshot's.
  process.on('exit', () => {
    while (Date.now() <= written) {}
  });
  process.stdout.write = function (chunk, ...rest) {
    const result = write(chunk, ...rest);
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (taken < ${MAX_SNAPSHOTS} && text.includes('\\n')) {
      // Coverage files are named by pid and millisecond: never two in one millisecond.
      while (Date.now() === last) {}
      last = Date.now();
      v8.takeCoverage();
      written = Date.now();
      taken++;
      fs.appendFileSync(log, JSON.stringify({ at: last, text }) + '\\n');
    }
    return result;
  };
}
`;

/**
 * Writes the hook into `dir` and returns the environment that loads it in every node process
 * (appended to any NODE_OPTIONS the environment already has).
 */
export async function segmentHookEnv(
  dir: string,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const hook = join(dir, 'hook.cjs');
  await writeFile(hook, HOOK);
  const require = `--require ${JSON.stringify(hook)}`;
  return {
    NODE_OPTIONS: env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${require}` : require,
    PATCHBAY_COVERAGE_SEGMENTS: dir,
  };
}

/** One line the hook logged: when, and the text written. */
export interface Segment {
  at: number;
  text: string;
}

/** One process the hook split: its pid and the lines it logged, in order. */
export interface SplitProcess {
  pid: string;
  segments: Segment[];
}

/** `coverage-<pid>-<ms>-<n>.json`, as node names the files. */
const COVERAGE_FILE = /^coverage-(\d+)-(\d+)-(\d+)\.json$/;

/** The results parsed from `text`, by name, each as its value's JSON. */
function results(text: string): Map<string, string> {
  return new Map(parseBenchOutput(text).benchmarks.map((b) => [b.name, JSON.stringify(b)]));
}

/**
 * The pure part of `benchmarksRunningChange`. `hitsIn(file)` is how often the changed lines
 * ran in one coverage file (0: not at all). A harness prints a result after the work it
 * measured, but not always right after: a title line (tinybench's `console.log(bench.name)`
 * before its table), a header, a progress line can come between. So the snapshots are grouped:
 * a group ends with the snapshot whose text adds results (a name, or a new value for one), and
 * its hits (summed over its snapshots: an upper bound, never an under-count) belong to those
 * names. Whatever cannot be attributed that way makes the split say nothing (undefined: every benchmark is judged),
 * as long as it ran the change at all:
 *
 * - snapshots after the last one naming a benchmark (work after the last result; the one
 *   node writes at exit);
 * - a process whose coverage files do not match its log one to one plus the exit file
 *   (a file overwritten in the same millisecond, a process killed before exit, the hook's cap);
 * - a process with coverage but no log (a tool from node_modules, such as a test runner's
 *   benchmark mode, runs the repository's code unsplit).
 *
 * So an empty answer (no benchmark runs the change more than once) only ever comes from
 * snapshots that each end with a benchmark's own result.
 */
export function attributeSegments(
  processes: readonly SplitProcess[],
  coverageFiles: readonly string[],
  hitsIn: (file: string) => number,
  minHits: number,
): string[] | undefined {
  const exercised = new Set<string>();
  let named = false;
  const byPid = new Map<string, { name: string; ms: number; n: number }[]>();
  for (const name of coverageFiles) {
    const m = COVERAGE_FILE.exec(name);
    if (!m) continue;
    const list = byPid.get(m[1]!) ?? [];
    list.push({ name, ms: Number(m[2]), n: Number(m[3]) });
    byPid.set(m[1]!, list);
  }
  const logged = new Set(processes.map((p) => p.pid));
  for (const [pid, files] of byPid) {
    if (!logged.has(pid) && files.some((f) => hitsIn(f.name) > 0)) return undefined;
  }
  // Names are those of the whole output (a second `join` is `join #2`): each process's text
  // follows what the processes before it printed. Processes that printed at the same time
  // (run in parallel) cannot be put in one order, so their names cannot be trusted.
  const ordered = processes
    .filter((p) => p.segments.length > 0)
    .sort((a, b) => a.segments[0]!.at - b.segments[0]!.at);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.segments[0]!.at < ordered[i - 1]!.segments.at(-1)!.at) return undefined;
  }
  let printed = '';
  for (const { pid, segments } of ordered) {
    const prefix = printed;
    printed += segments.map((s) => s.text).join('');
    // This process's snapshots in the order taken; the last one (at exit) has no line after it.
    const files = (byPid.get(pid) ?? []).sort((a, b) => a.ms - b.ms || a.n - b.n);
    const hits = files.map((f) => hitsIn(f.name));
    // One file per line logged and one at exit, else (a worker thread's own files, one lost in
    // the same millisecond) which file holds which stretch is not known.
    if (files.length !== segments.length + 1 || files.some((f) => f.n !== files[0]!.n)) {
      if (hits.some((h) => h > 0)) return undefined;
      continue;
    }
    let before = results(prefix);
    let text = prefix;
    let group = 0;
    segments.forEach((segment, k) => {
      text += segment.text;
      group += hits[k]!;
      const now = results(text);
      // New results, or new values for a name (fastbench's second round replaces the first).
      const added = [...now].filter(([name, value]) => before.get(name) !== value);
      before = now;
      if (added.length === 0) return;
      named = true;
      if (group >= minHits) for (const [name] of added) exercised.add(name);
      group = 0;
    });
    // Work after the last result (the exit snapshot included) belongs to no benchmark.
    if (group + hits[segments.length]! > 0) return undefined;
  }
  return named ? [...exercised] : undefined;
}

/**
 * The parts of a chained benchmark command (bench-parts.ts) whose processes ran the change at
 * all: `partOf` maps a pid to the part the hook saw it start in. Undefined when a process that
 * ran the change has no part (it was not marked): then no part may be left out.
 */
export function attributeParts(
  partOf: ReadonlyMap<string, number>,
  coverageFiles: readonly string[],
  hitsIn: (file: string) => number,
): number[] | undefined {
  const ran = new Set<number>();
  for (const name of coverageFiles) {
    const m = COVERAGE_FILE.exec(name);
    if (!m || hitsIn(name) === 0) continue;
    const part = partOf.get(m[1]!);
    if (part === undefined) return undefined;
    ran.add(part);
  }
  return [...ran].sort((a, b) => a - b);
}

/** `attributeParts` over the part files the hook wrote; undefined when it wrote none. */
export async function partsRunningChange(
  segmentsDir: string,
  coverageFiles: readonly string[],
  hitsIn: (file: string) => number,
): Promise<number[] | undefined> {
  const partOf = new Map<string, number>();
  for (const name of await readdir(segmentsDir).catch(() => [] as string[])) {
    const m = /^part-(\d+)$/.exec(name);
    if (!m) continue;
    const part = Number((await readFile(join(segmentsDir, name), 'utf8')).trim());
    if (Number.isInteger(part) && part >= 0) partOf.set(m[1]!, part);
  }
  if (partOf.size === 0) return undefined;
  return attributeParts(partOf, coverageFiles, hitsIn);
}

/**
 * The benchmarks whose stretch ran the change at least `minHits` times (attributeSegments).
 * Undefined when no snapshot names a benchmark (no hook output, or a harness this file
 * cannot split) or when the split cannot attribute every run of the change: the caller then
 * judges every benchmark.
 */
export async function benchmarksRunningChange(
  segmentsDir: string,
  coverageFiles: readonly string[],
  hitsIn: (file: string) => number,
  minHits: number,
): Promise<string[] | undefined> {
  let logs: string[];
  try {
    logs = (await readdir(segmentsDir)).filter((n) => /^segments-\d+\.jsonl$/.test(n));
  } catch {
    return undefined;
  }
  const processes: SplitProcess[] = [];
  for (const log of logs) {
    const segments = (await readFile(join(segmentsDir, log), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Segment);
    processes.push({ pid: /(\d+)/.exec(log)![1]!, segments });
  }
  return attributeSegments(processes, coverageFiles, hitsIn, minHits);
}
