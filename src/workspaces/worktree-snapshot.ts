import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { git, type GitOptions } from './git.js';

/** Runs `use` with git options whose index is a throwaway file (the worktree's is untouched). */
async function withScratchIndex<T>(
  options: GitOptions,
  use: (opts: GitOptions) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'patchbay-index-'));
  try {
    return await use({ ...options, env: { ...options.env, GIT_INDEX_FILE: join(dir, 'index') } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The tree of every file git would add in `worktree` (everything not ignored, committed or
 * not), written to the repository's objects without touching the worktree's index or HEAD.
 */
export function snapshotWorktree(worktree: string, options: GitOptions = {}): Promise<string> {
  return withScratchIndex(options, async (opts) => {
    await git(['add', '-A', '.'], worktree, opts);
    return (await git(['write-tree'], worktree, opts)).trim();
  });
}

/**
 * Puts `worktree` back as it was in `tree` (a `snapshotWorktree`), for files git does not
 * ignore: changed and deleted ones are written back, new ones removed. Ignored files (a
 * `node_modules`, a `dist` in `.gitignore`) stay. Returns the paths it put back or removed.
 */
export async function restoreWorktree(
  worktree: string,
  tree: string,
  options: GitOptions = {},
): Promise<string[]> {
  const now = await snapshotWorktree(worktree, options);
  if (now === tree) return [];
  const listed = await git(
    ['diff-tree', '-r', '-z', '--no-renames', '--name-status', tree, now],
    worktree,
    options,
  );
  const fields = listed.split('\0').filter((f) => f !== '');
  const restore: string[] = [];
  const remove: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    (fields[i] === 'A' ? remove : restore).push(fields[i + 1]!);
  }
  const root = resolve(worktree);
  for (const path of remove) {
    const file = resolve(root, path);
    if (file.startsWith(root + sep)) await rm(file, { force: true });
  }
  if (restore.length > 0) {
    await withScratchIndex(options, async (opts) => {
      await git(['read-tree', tree], worktree, opts);
      await git(['checkout-index', '-f', '--', ...restore], worktree, opts);
    });
  }
  return [...restore, ...remove];
}
