import { realpath, rm } from 'node:fs/promises';
import { PatchbayError } from '../contracts/index.js';
import { git, type GitOptions } from './git.js';
import type { CheckedRepoUrl } from './repo-url.js';
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

/**
 * `git -c` flags for talking to a checked remote: redirects are not followed (the check
 * covered this URL, not wherever a server sends git next), and a host name is not resolved
 * again: curl connects to the checked addresses (`http.curloptResolve`, git >= 2.37).
 */
export function remoteTransportArgs(pin: CheckedRepoUrl['pin']): string[] {
  const args = ['-c', 'http.followRedirects=false'];
  if (pin) {
    const addresses = pin.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(',');
    args.push('-c', `http.curloptResolve=${pin.host}:${pin.port}:${addresses}`);
  }
  return args;
}

/** A failed clone or fetch as a PatchbayError that says why (a refused redirect too). */
function remoteFailure(
  code: 'REPO_CLONE_FAILED' | 'REPO_FETCH_FAILED',
  url: string,
  err: unknown,
): PatchbayError {
  const message = (err as Error).message;
  const hint = /returned error: 30\d/.test(message)
    ? ' (redirects are not followed: register the URL it redirects to)'
    : '';
  const verb = code === 'REPO_CLONE_FAILED' ? 'clone' : 'fetch';
  return new PatchbayError(
    code,
    `could not ${verb} ${url}: ${message}${hint}`,
    { url },
    { cause: err },
  );
}

/** Clones a checked URL into `dest` (hooks disabled, no prompts); removes `dest` when it fails. */
export async function cloneRepo(
  target: CheckedRepoUrl,
  dest: string,
  options: GitOptions,
): Promise<void> {
  const url = target.url.toString();
  try {
    await git([...remoteTransportArgs(target.pin), 'clone', '-q', '--', url, dest], '/', options);
  } catch (err) {
    await rm(dest, { recursive: true, force: true });
    throw remoteFailure('REPO_CLONE_FAILED', url, err);
  }
}

/**
 * Fetches a clone's branches from its checked URL into `origin/*`, pruning deleted ones. The
 * URL is named rather than taken from the clone's config, so what was checked is what is
 * contacted.
 *
 * @throws PatchbayError REPO_FETCH_FAILED
 */
export async function fetchRepo(
  repo: string,
  target: CheckedRepoUrl,
  options: GitOptions,
): Promise<void> {
  const url = target.url.toString();
  const refspec = '+refs/heads/*:refs/remotes/origin/*';
  const args = ['fetch', '-q', '--prune', '--', url, refspec];
  await git([...remoteTransportArgs(target.pin), ...args], repo, options).catch((err: unknown) => {
    throw remoteFailure('REPO_FETCH_FAILED', url, err);
  });
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
