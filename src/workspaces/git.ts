import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitOptions {
  /** Environment for git (PATH at least); prompts and hooks are always disabled. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Runs git with an argv, never a shell. Hooks of the repository are not run (a repository
 * we clone or are pointed at must not execute code in the server) and git never prompts.
 */
export function git(args: string[], cwd: string, options: GitOptions = {}): Promise<string> {
  // The subcommand, after any leading `-c key=value` pairs, names the failure.
  let sub = 0;
  while (args[sub] === '-c') sub += 2;
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'core.hooksPath=/dev/null', '-c', 'core.quotepath=off', ...args],
      {
        cwd,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...options.env, GIT_TERMINAL_PROMPT: '0' },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(`git ${args[sub]} failed: ${stderr.trim() || err.message}`, { cause: err }),
          );
        else resolve(stdout);
      },
    );
  });
}

/** Creates a worktree on a new branch at `ref`; returns the base commit it starts from. */
export async function createWorktree(
  repo: string,
  path: string,
  branch: string,
  ref: string,
  options?: GitOptions,
): Promise<{ baseCommit: string }> {
  const baseCommit = (
    await git(['rev-parse', '--verify', `${ref}^{commit}`], repo, options)
  ).trim();
  await git(['worktree', 'add', '-b', branch, path, baseCommit], repo, options);
  return { baseCommit };
}

export async function removeWorktree(
  repo: string,
  path: string,
  branch?: string,
  options?: GitOptions,
): Promise<void> {
  await git(['worktree', 'remove', '--force', path], repo, options);
  if (branch) await git(['branch', '-D', branch], repo, options);
}

export interface ChangedFile {
  path: string;
  added: number;
  removed: number;
  binary: boolean;
}

/**
 * Everything that differs from `base` in a worktree (commits, staged and unstaged edits,
 * and new files), computed through a throwaway index so the worktree's own index is untouched.
 */
export async function diffAgainstBase(
  worktree: string,
  base: string,
  options: GitOptions = {},
): Promise<{ diff: string; files: ChangedFile[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'patchbay-index-'));
  const env = { ...options.env, GIT_INDEX_FILE: join(dir, 'index') };
  try {
    const opts = { ...options, env };
    await git(['add', '-A', '.'], worktree, opts);
    const diff = await git(['diff', '--cached', '--binary', '--no-color', base], worktree, opts);
    const numstat = await git(['diff', '--cached', '--numstat', '-z', base], worktree, opts);
    return { diff, files: parseNumstat(numstat) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `git diff --numstat -z`: "added\tremoved\tpath\0", with "-" for binary files. */
export function parseNumstat(text: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (const entry of text.split('\0')) {
    if (!entry) continue;
    const [added, removed, ...rest] = entry.split('\t');
    const binary = added === '-';
    files.push({
      path: rest.join('\t'),
      added: binary ? 0 : Number(added),
      removed: binary ? 0 : Number(removed),
      binary,
    });
  }
  return files;
}

/** Who Patchbay commits as when no one else is named. */
export const PATCHBAY_COMMITTER = { name: 'Patchbay', email: 'patchbay@localhost' } as const;

/**
 * Commits every change under `paths` (default: the whole worktree) as `author` (author and
 * committer; default Patchbay), hooks skipped; returns the new commit, or null when nothing
 * changed.
 */
export async function commitAll(
  worktree: string,
  message: string,
  options: GitOptions = {},
  paths: readonly string[] = ['.'],
  author: { name: string; email: string } = PATCHBAY_COMMITTER,
): Promise<string | null> {
  await git(['add', '-A', '--', ...paths], worktree, options);
  const status = await git(['status', '--porcelain'], worktree, options);
  if (!status.trim()) return null;
  await git(
    [
      '-c',
      `user.name=${author.name}`,
      '-c',
      `user.email=${author.email}`,
      'commit',
      '--no-verify',
      '-q',
      '-m',
      message,
    ],
    worktree,
    options,
  );
  return (await git(['rev-parse', 'HEAD'], worktree, options)).trim();
}
