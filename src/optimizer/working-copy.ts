/**
 * The optimizer's private working copy of what it optimizes: a clone of a git URL or a local
 * repository, or a committed copy of a plain directory. git's failures become stable codes.
 */
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PatchbayError } from '../contracts/index.js';
import { commitAll, git } from '../workspaces/index.js';

/** A source to clone (`scheme://…` or `git@…`) rather than a local path. */
export const isGitUrl = (source: string): boolean =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@/.test(source);

/**
 * A private working copy of `source` at `root`, committed (candidates are worktrees of its
 * HEAD): a git URL is cloned; a local repository is cloned from its HEAD (uncommitted changes
 * are left out: say so); a plain directory is copied and committed. Returns the commit.
 */
export async function prepareWorkingCopy(
  source: string,
  ref: string | null,
  root: string,
  env: Record<string, string>,
): Promise<string> {
  const opts = { env, timeoutMs: 10 * 60_000 };
  if (isGitUrl(source)) {
    await git(
      ['clone', '-q', '--depth', '1', ...(ref ? ['--branch', ref] : []), source, root],
      process.cwd(),
      opts,
    ).catch((err: Error) => {
      throw cloneFailed(source, ref, err);
    });
  } else {
    const path = resolve(source);
    if (!existsSync(path)) {
      throw new PatchbayError('WORKDIR_NOT_FOUND', `${source} does not exist`, { source });
    }
    if (existsSync(join(path, '.git')) || (ref && existsSync(join(path, 'HEAD')))) {
      await git(['clone', '-q', '--no-hardlinks', path, root], process.cwd(), opts).catch(
        (err: Error) => {
          throw cloneFailed(source, null, err);
        },
      );
      if (ref) {
        await git(['checkout', '-q', '--detach', ref], root, opts).catch(() => {
          throw new PatchbayError('REPO_REF_NOT_FOUND', `${ref} is not a commit of ${source}`, {
            ref,
          });
        });
      }
    } else {
      await cp(path, root, {
        recursive: true,
        filter: (src) => !src.split('/').includes('node_modules'),
      });
      await git(['init', '-q', '-b', 'main'], root, opts);
      await commitAll(root, 'patchbay optimize: snapshot', opts);
    }
  }
  return (await git(['rev-parse', 'HEAD'], root, opts)).trim();
}

/**
 * git's clone failure as a stable code: a ref the remote lacks is REPO_REF_NOT_FOUND, anything
 * else (unreachable, not found, not a repository, timed out) REPO_CLONE_FAILED, with git's words.
 */
function cloneFailed(source: string, ref: string | null, err: Error): PatchbayError {
  const said = err.message.replace(/^git clone failed: /, '');
  if (ref && /Remote branch .* not found|couldn't find remote ref/i.test(said)) {
    return new PatchbayError('REPO_REF_NOT_FOUND', `${ref} is not a branch or tag of ${source}`, {
      source,
      ref,
    });
  }
  return new PatchbayError('REPO_CLONE_FAILED', `git could not clone ${source}: ${said}`, {
    source,
  });
}
