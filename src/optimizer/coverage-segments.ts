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
 * prints everything at the end (a mitata JSON, a table) leaves one snapshot with every name:
 * no worse than the whole-command answer.
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
if (dir && !tool && process.env.NODE_V8_COVERAGE && typeof v8.takeCoverage === 'function') {
  const write = process.stdout.write.bind(process.stdout);
  const log = path.join(dir, 'segments-' + process.pid + '.jsonl');
  let taken = 0;
  let last = 0;
  process.stdout.write = function (chunk, ...rest) {
    const result = write(chunk, ...rest);
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (taken < ${MAX_SNAPSHOTS} && text.includes('\\n')) {
      // Coverage files are named by pid and millisecond: never two in one millisecond.
      while (Date.now() === last) {}
      last = Date.now();
      v8.takeCoverage();
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

interface Segment {
  at: number;
  text: string;
}

/** `coverage-<pid>-<ms>-<n>.json`, as node names the files. */
const COVERAGE_FILE = /^coverage-(\d+)-(\d+)-(\d+)\.json$/;

/**
 * The benchmarks whose snapshot ran the change. `ranChange(file)` answers for one coverage
 * file. Undefined when no snapshot names a benchmark (no hook output, or a harness this file
 * cannot split), so the caller judges every benchmark.
 */
export async function benchmarksRunningChange(
  segmentsDir: string,
  coverageFiles: readonly string[],
  ranChange: (file: string) => boolean,
): Promise<string[] | undefined> {
  let logs: string[];
  try {
    logs = (await readdir(segmentsDir)).filter((n) => /^segments-\d+\.jsonl$/.test(n));
  } catch {
    return undefined;
  }
  const exercised = new Set<string>();
  let named = false;
  for (const log of logs) {
    const pid = /(\d+)/.exec(log)![1]!;
    const segments = (await readFile(join(segmentsDir, log), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Segment);
    // This process's snapshots in the order taken; the last one (at exit) has no line after it.
    const files = coverageFiles
      .map((name) => ({ name, m: COVERAGE_FILE.exec(name) }))
      .filter((f) => f.m?.[1] === pid)
      .sort((a, b) => Number(a.m![2]) - Number(b.m![2]) || Number(a.m![3]) - Number(b.m![3]));
    let before = 0;
    let text = '';
    segments.forEach((segment, k) => {
      text += segment.text;
      const names = parseBenchOutput(text).benchmarks.map((b) => b.name);
      const added = names.slice(before);
      before = names.length;
      if (added.length === 0) return;
      named = true;
      const file = files[k];
      if (file && ranChange(file.name)) for (const name of added) exercised.add(name);
    });
  }
  return named ? [...exercised] : undefined;
}
