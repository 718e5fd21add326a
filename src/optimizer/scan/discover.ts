/**
 * Which files are the repository's own source: JS/TS files, minus dependencies, build output,
 * vendored and generated code, tests and configs. In a git repository `git ls-files` lists the
 * candidates, so `.gitignore` is honoured for free; elsewhere the directory tree is walked.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SOURCE_EXTENSION = /\.(?:ts|tsx|js|mjs|cjs|jsx|mts|cts)$/;
const SKIPPED_DIRS = new Set([
  'node_modules',
  'dist',
  'build',
  'out',
  'coverage',
  '.git',
  'vendor',
  'third_party',
  '__tests__',
  'test',
  'tests',
  '__mocks__',
  'fixtures',
  // Benchmarks measure the code; rewriting them would game the measurement.
  'bench',
  'benchmark',
  'benchmarks',
  '.next',
  '.turbo',
  '.cache',
]);
const SKIPPED_FILE = [
  /\.d\.[mc]?ts$/,
  /\.min\.[mc]?js$/,
  /\.(?:test|spec|bench)\.[^/]+$/,
  /\.config\.[^/]+$/,
  /(?:^|\/)\.[^/]*rc(?:\.[^/]+)?$/, // .eslintrc.js, .prettierrc.cjs, …
  /(?:^|\/)(?:jest|vitest|eslint|prettier|babel|webpack|rollup|vite|tsup)\.[^/]*$/,
  /(?:^|\/)gulpfile\.[^/]+$/,
  /(?:^|\/)Gruntfile\.[^/]+$/,
];

/** Path-only exclusions (repo-relative, `/`-separated). */
export function isExcludedPath(path: string): boolean {
  if (!SOURCE_EXTENSION.test(path)) return true;
  const parts = path.split('/');
  for (let i = 0; i < parts.length - 1; i++) if (SKIPPED_DIRS.has(parts[i]!)) return true;
  return SKIPPED_FILE.some((re) => re.test(path));
}

/** `@generated` / `auto-generated` / `do not edit` in the first lines marks generated code. */
const GENERATED_HEADER = /@generated|auto-?generated|do not edit/i;

async function isGenerated(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return GENERATED_HEADER.test(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

async function gitFiles(root: string): Promise<string[] | undefined> {
  if (!existsSync(join(root, '.git'))) return undefined;
  try {
    const { stdout } = await run(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: root, maxBuffer: 256 * 1024 * 1024 },
    );
    return stdout.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

async function walk(root: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...(await walk(root, path)));
    } else if (entry.isFile()) {
      out.push(path);
    }
  }
  return out;
}

/**
 * The repo-relative source files to scan, sorted. `include` (repo-relative paths or folder
 * prefixes) narrows the result.
 */
export async function discoverSourceFiles(root: string, include?: string[]): Promise<string[]> {
  const listed = (await gitFiles(root)) ?? (await walk(root));
  const prefixes = include?.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, ''));
  const candidates = listed.filter(
    (f) =>
      !isExcludedPath(f) &&
      (!prefixes || prefixes.some((p) => p === '' || f === p || f.startsWith(`${p}/`))),
  );
  const kept: string[] = [];
  for (const file of candidates) {
    // git may list a tracked file that was deleted in the work tree.
    if (!existsSync(join(root, file))) continue;
    if (!(await isGenerated(join(root, file)))) kept.push(file);
  }
  return kept.sort();
}
