import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../../observability/index.js';
import type { PackageJson } from './package-json.js';

export const PNPM_WORKSPACE_FILE = 'pnpm-workspace.yaml';

/** Directories never searched for workspace packages. */
const SKIPPED = new Set(['node_modules', '.git']);

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** package.json `workspaces`: an array, or `{ packages: [...] }` (yarn classic's form). */
function packageJsonPatterns(pkg: PackageJson | undefined): string[] {
  const value = pkg?.fields.workspaces;
  if (Array.isArray(value)) return strings(value);
  if (value !== null && typeof value === 'object') {
    return strings((value as { packages?: unknown }).packages);
  }
  return [];
}

async function pnpmPatterns(root: string, log?: Logger): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(root, PNPM_WORKSPACE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const value: unknown = parseYaml(text);
    return strings((value as { packages?: unknown } | null)?.packages);
  } catch (err) {
    log?.warn({ file: PNPM_WORKSPACE_FILE, err }, 'workspace file is not valid YAML; ignored');
    return [];
  }
}

/** One glob segment (`*`, `pkg-*`) as a regular expression; `**` is handled by the walker. */
function segmentRegExp(segment: string): RegExp {
  const body = segment
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}$`);
}

/** A whole pattern as a regular expression over `/`-separated relative paths (for `!` excludes). */
function patternRegExp(pattern: string): RegExp {
  const body = normalize(pattern)
    .split('/')
    .map((segment) => (segment === '**' ? '.*' : segmentRegExp(segment).source.slice(1, -1)))
    .join('/')
    .replace(/\/\.\*$/, '(/.*)?')
    .replace(/^\.\*\//, '(.*/)?');
  return new RegExp(`^${body}$`);
}

function normalize(pattern: string): string {
  return pattern.trim().replace(/^\.\//, '').replace(/\/+$/, '');
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !SKIPPED.has(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Directories (relative to root) matching `segments` that hold a package.json. */
async function expand(root: string, rel: string, segments: string[], out: Set<string>) {
  const [segment, ...rest] = segments;
  if (segment === undefined) {
    if (rel !== '' && (await exists(join(root, rel, 'package.json')))) out.add(rel);
    return;
  }
  const join2 = (name: string): string => (rel === '' ? name : `${rel}/${name}`);
  if (segment === '**') {
    await expand(root, rel, rest, out);
    for (const name of await subdirectories(join(root, rel))) {
      if (!name.startsWith('.')) await expand(root, join2(name), segments, out);
    }
    return;
  }
  if (!segment.includes('*')) {
    await expand(root, join2(segment), rest, out);
    return;
  }
  const re = segmentRegExp(segment);
  for (const name of await subdirectories(join(root, rel))) {
    if (re.test(name)) await expand(root, join2(name), rest, out);
  }
}

/**
 * Workspace package directories of a monorepo, from package.json `workspaces` and
 * pnpm-workspace.yaml: `*` and `**` globs expanded to existing directories that hold a
 * package.json, `!` patterns excluded. Sorted, `/`-separated, repo-relative.
 */
export async function detectWorkspaces(
  root: string,
  pkg: PackageJson | undefined,
  log?: Logger,
): Promise<string[]> {
  const patterns = [...packageJsonPatterns(pkg), ...(await pnpmPatterns(root, log))];
  const found = new Set<string>();
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    const normalized = normalize(pattern);
    if (normalized === '' || normalized.split('/').includes('..')) continue;
    await expand(root, '', normalized.split('/'), found);
  }
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => patternRegExp(p.slice(1)));
  return [...found].filter((dir) => !excludes.some((re) => re.test(dir))).sort();
}
