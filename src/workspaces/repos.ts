import { realpath, rm } from 'node:fs/promises';
import { PatchbayError } from '../contracts/index.js';
import { git, type GitOptions } from './git.js';
import { resolveTrustedWorkdir } from './trusted-roots.js';

/** The HEAD branch of a repository (`main` when HEAD is detached). */
export async function headBranch(repo: string, options?: GitOptions): Promise<string> {
  const out = await git(['symbolic-ref', '--short', '-q', 'HEAD'], repo, options).catch(() => '');
  return out.trim() || 'main';
}

/**
 * A local repository registered in place: it must resolve inside a trusted root and be the
 * top of a git work tree. Returns its real path.
 *
 * @throws PatchbayError WORKDIR_NOT_TRUSTED, WORKDIR_NOT_FOUND, REPO_NOT_GIT
 */
export async function inspectLocalRepo(
  path: string,
  roots: string[],
  options?: GitOptions,
): Promise<string> {
  const real = await resolveTrustedWorkdir(path, roots);
  const top = await git(['rev-parse', '--show-toplevel'], real, options).catch(() => '');
  if (!top.trim() || (await realpath(top.trim())) !== real) {
    throw new PatchbayError('REPO_NOT_GIT', `${path} is not the top of a git repository`, { path });
  }
  return real;
}

/** Clones `url` into `dest` (hooks disabled, no prompts); removes `dest` when it fails. */
export async function cloneRepo(url: string, dest: string, options: GitOptions): Promise<void> {
  try {
    await git(['clone', '-q', '--', url, dest], '/', options);
  } catch (err) {
    await rm(dest, { recursive: true, force: true });
    throw new PatchbayError(
      'REPO_CLONE_FAILED',
      `could not clone ${url}: ${(err as Error).message}`,
      { url },
      { cause: err },
    );
  }
}

/** Checks a repository-relative path from a client: no absolute paths, `..` or NUL. */
export function assertRepoPath(path: string): string {
  const clean = path.replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (clean.includes('\0') || clean.startsWith('/') || clean.split('/').includes('..')) {
    throw new PatchbayError('REPO_PATH_INVALID', undefined, { path });
  }
  return clean === '.' ? '' : clean;
}

/**
 * The entries directly inside `dir`, directories first, as git sees them: tracked files plus
 * untracked ones not ignored by .gitignore. Read from git, never by walking the file system,
 * so a symlink cannot lead outside the repository.
 */
export async function listRepoFiles(
  repo: string,
  dir: string,
  options?: GitOptions,
): Promise<{ path: string; name: string; type: 'file' | 'dir' }[]> {
  const base = assertRepoPath(dir);
  const out = await git(
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', base || '.'],
    repo,
    options,
  );
  const prefix = base ? `${base}/` : '';
  const dirs = new Set<string>();
  const files = new Set<string>();
  for (const p of out.split('\0')) {
    if (!p.startsWith(prefix) || p === prefix) continue;
    const rest = p.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash >= 0) dirs.add(rest.slice(0, slash));
    else files.add(rest);
  }
  const entry = (name: string, type: 'file' | 'dir') => ({ path: `${prefix}${name}`, name, type });
  return [
    ...[...dirs].sort().map((d) => entry(d, 'dir')),
    ...[...files].sort().map((f) => entry(f, 'file')),
  ];
}
