import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { DetectedCommand, Evidence } from '../../contracts/index.js';
import { classifyScript, renderScript } from './commands.js';
import type { PackageManagerName } from './overrides.js';
import { readPackageJson, type PackageJson } from './package-json.js';

/**
 * Benchmarks that are not a root package.json script, the way libraries commonly keep them:
 *
 * - a benchmark folder (`bench/`, `benchmark/`, `benchmarks/`) with its own package.json: its
 *   dependencies (the competing libraries, the harness) are installed with the repository's
 *   (`(cd bench && npm install)` after the root install), and its benchmark script is the
 *   benchmark; without one, its `index.js` or its files are run with `node`;
 * - files in such a folder run with `node` (`index.js` alone when there is one, else each
 *   top-level file that is not a fixture, helper, fuzzer or browser build);
 * - a `bench.js` / `benchmark.js` at the root;
 * - a family of `bench:*` scripts and no `bench` script: all of them, one after the other.
 */

/** Folders a benchmark lives in, most common first. */
export const BENCH_DIRS = ['bench', 'benchmark', 'benchmarks'] as const;

/** Root files that are a benchmark by name. */
const ROOT_FILES = ['bench', 'benchmark', 'benchmarks', 'perf'].flatMap((n) =>
  ['js', 'mjs', 'cjs'].map((ext) => `${n}.${ext}`),
);

/** Files in a benchmark folder that are not a benchmark to run on their own (a profile script loops and prints nothing). */
const NOT_A_BENCHMARK =
  /(fixture|util|helper|common|setup|config|fuzz|profile|browser|rollup|webpack|vite|worker|thread|cmp|compare|\.bench\.|\.test\.|\.spec\.)/i;

/** At most this many files are chained into one command. */
const MAX_FILES = 10;

const FOLDER_SCRIPT_CONFIDENCE = 0.55;
const FOLDER_FILE_CONFIDENCE = 0.45;
const ROOT_FILE_CONFIDENCE = 0.45;
const FAMILY_CONFIDENCE = 0.6;

export interface BenchSetup {
  /** The benchmark command, when the root has none. */
  bench?: DetectedCommand;
  /** Benchmark folders with their own package.json (repo-relative): installed with the root. */
  packages: string[];
  /** `(cd bench && npm install)` per package, to run after the root's install. */
  install: { command: string; evidence: Evidence[] } | undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Top-level JS files of `dir` that look like benchmarks, sorted; `index.*` alone if present. */
export function benchFiles(root: string, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  const js = names
    .filter((n) => /\.(?:[cm]?js)$/.test(n) && isFile(join(root, dir, n)))
    .sort((a, b) => a.localeCompare(b));
  const index = js.find((n) => /^index\.[cm]?js$/.test(n));
  if (index) return [posix.join(dir, index)];
  return js
    .filter((n) => !NOT_A_BENCHMARK.test(n))
    .slice(0, MAX_FILES)
    .map((n) => posix.join(dir, n));
}

/** A command's shell word for a path made of safe characters (every path here is). */
const nodeCommand = (files: readonly string[]): string =>
  files.map((file) => `node ${file}`).join(' && ');

/** The first-line evidence of a file. */
const fileEvidence = (file: string): Evidence => ({ file, line: 1 });

/** How the manager installs a benchmark folder's own dependencies (no lockfile is assumed). */
function renderFolderInstall(manager: PackageManagerName, dir: string): string {
  const install = manager === 'npm' ? 'npm install --no-audit --no-fund' : `${manager} install`;
  return `(cd ${dir} && ${install})`;
}

/** The bench script of a benchmark folder's package.json, best name first. */
function folderScript(pkg: PackageJson): string | undefined {
  return Object.entries(pkg.scripts)
    .map(([name, body]) => ({ name, match: classifyScript(name, body) }))
    .filter((s) => s.match?.kind === 'bench')
    .sort((a, b) => a.match!.rank - b.match!.rank || a.name.localeCompare(b.name))[0]?.name;
}

/**
 * The `bench:*` family of a package.json without a `bench`-named script: every script of the
 * most common prefix, in file order (`npm run bench:a && npm run bench:b`).
 */
export function benchFamily(
  manager: PackageManagerName,
  pkg: PackageJson,
): DetectedCommand | undefined {
  const names = Object.keys(pkg.scripts);
  if (names.some((n) => (classifyScript(n, pkg.scripts[n])?.rank ?? 9) <= 1 && isBench(n, pkg))) {
    return undefined;
  }
  const byPrefix = new Map<string, string[]>();
  for (const name of names) {
    const prefix = /^(bench|benchmarks?|perf)[:-]/.exec(name)?.[1];
    if (!prefix) continue;
    // Variants that compare with another branch or library, or watch, are not the suite.
    if (/(cmp|compare|ci|watch|browser|report)$/i.test(name)) continue;
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), name]);
  }
  const [family] = [...byPrefix.values()].sort((a, b) => b.length - a.length);
  if (!family || family.length < 2) return undefined;
  const members = family.slice(0, MAX_FILES);
  return {
    command: members.map((n) => renderScript(manager, n)).join(' && '),
    confidence: FAMILY_CONFIDENCE,
    source: 'package.json',
    evidence: members.flatMap((n) => pkg.evidence('scripts', n)),
  };
}

function isBench(name: string, pkg: PackageJson): boolean {
  return classifyScript(name, pkg.scripts[name])?.kind === 'bench';
}

/**
 * Benchmark folders and files of the repository at `root` (see the module comment). `hasBench`
 * says whether the root already has a benchmark command (a script or CI): then only the
 * folders' installs are added.
 */
export async function detectBenchSetup(
  root: string,
  manager: PackageManagerName,
  hasBench: boolean,
): Promise<BenchSetup> {
  const packages: string[] = [];
  const installs: { command: string; evidence: Evidence[] }[] = [];
  let bench: DetectedCommand | undefined;
  for (const dir of BENCH_DIRS) {
    if (!existsSync(join(root, dir))) continue;
    const pkg = await readPackageJson(root, `${dir}/package.json`).catch(() => undefined);
    if (pkg) {
      if (pkg.dependencies.size > 0) {
        packages.push(dir);
        installs.push({
          command: renderFolderInstall(manager, dir),
          evidence: [{ file: pkg.file, line: 1 }],
        });
      }
      const script = folderScript(pkg);
      if (!bench && script) {
        bench = {
          command: `cd ${dir} && ${renderScript(manager, script)}`,
          confidence: FOLDER_SCRIPT_CONFIDENCE,
          source: 'package.json',
          evidence: pkg.evidence('scripts', script),
        };
        continue;
      }
    }
    if (bench) continue;
    const files = benchFiles(root, dir);
    if (files.length > 0) {
      bench = {
        command: nodeCommand(files),
        confidence: FOLDER_FILE_CONFIDENCE,
        source: 'convention',
        evidence: files.map(fileEvidence),
      };
    }
  }
  if (!bench) {
    const file = ROOT_FILES.find((f) => isFile(join(root, f)));
    if (file) {
      bench = {
        command: nodeCommand([file]),
        confidence: ROOT_FILE_CONFIDENCE,
        source: 'convention',
        evidence: [fileEvidence(file)],
      };
    }
  }
  const install =
    installs.length > 0
      ? {
          command: installs.map((i) => i.command).join(' && '),
          evidence: installs.flatMap((i) => i.evidence),
        }
      : undefined;
  return { ...(bench && !hasBench ? { bench } : {}), packages, install };
}
