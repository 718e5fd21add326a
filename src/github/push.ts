import { git, PATCHBAY_COMMITTER, type GitOptions } from '../workspaces/index.js';

/** A push Patchbay must not make, or cannot make whatever it tries: not worth another try. */
export class PushRefused extends Error {
  override readonly name = 'PushRefused';
}

export interface PushOptions {
  /** The local repository holding the run's commits. */
  repoPath: string;
  /** The commit to deliver and the local branch it is on. */
  commit: string;
  localBranch: string;
  /** Where on GitHub: `patchbay/…`, never the default branch. */
  remoteBranch: string;
  defaultBranch: string;
  url: string;
  token: string;
  git: GitOptions;
  /** Who a merge commit is by (default Patchbay). */
  author?: { name: string; email: string };
}

export interface PushResult {
  /** The commit now at the tip of the remote branch. */
  commit: string;
  /** The local branch it came from: a new merge branch when the remote one had moved. */
  localBranch: string;
  merged: boolean;
}

/**
 * Pushes `commit` to `remoteBranch`, never forced. The token goes to git through the
 * environment (never the command line, never the repository's config). A push refused
 * because the remote branch moved (someone pushed to the pull request's branch) is answered
 * by merging what is there into a new local branch and pushing that: nobody's commits are
 * rewritten, and the run's own branch stays as it was.
 */
export async function pushRunBranch(options: PushOptions): Promise<PushResult> {
  const { remoteBranch } = options;
  if (!remoteBranch.startsWith('patchbay/') || remoteBranch === options.defaultBranch) {
    throw new PushRefused(`refusing to push to ${remoteBranch}: only patchbay/ branches are ours`);
  }
  const gitOptions = withToken(options.git, options.token);
  const push = (commit: string) =>
    git(
      ['push', '--porcelain', '--', options.url, `${commit}:refs/heads/${remoteBranch}`],
      options.repoPath,
      gitOptions,
    );
  try {
    await push(options.commit);
    return { commit: options.commit, localBranch: options.localBranch, merged: false };
  } catch (err) {
    if (!isNonFastForward((err as Error).message)) throw err;
  }
  // The remote branch has commits the run's branch has not: merge them in, on a new branch.
  await git(
    ['fetch', '-q', '--', options.url, `+refs/heads/${remoteBranch}:refs/patchbay/remote-tip`],
    options.repoPath,
    gitOptions,
  );
  const theirs = (
    await git(['rev-parse', 'refs/patchbay/remote-tip'], options.repoPath, options.git)
  ).trim();
  const tree = await git(
    ['merge-tree', '--write-tree', options.commit, theirs],
    options.repoPath,
    options.git,
  ).catch(() => {
    throw new PushRefused(
      `${remoteBranch} on GitHub has commits that conflict with the run's: resolve them there`,
    );
  });
  const merge = (
    await git(
      [
        '-c',
        `user.name=${(options.author ?? PATCHBAY_COMMITTER).name}`,
        '-c',
        `user.email=${(options.author ?? PATCHBAY_COMMITTER).email}`,
        'commit-tree',
        tree.split('\n')[0]!.trim(),
        '-p',
        options.commit,
        '-p',
        theirs,
        '-m',
        `Merge ${remoteBranch} from GitHub`,
      ],
      options.repoPath,
      options.git,
    )
  ).trim();
  const mergeBranch = `${options.localBranch}-merge-${merge.slice(0, 8)}`;
  await git(['branch', '-f', mergeBranch, merge], options.repoPath, options.git);
  await push(merge);
  return { commit: merge, localBranch: mergeBranch, merged: true };
}

/** Whether a remote branch exists, and at which commit. */
export async function remoteBranchTip(
  options: Pick<PushOptions, 'repoPath' | 'url' | 'token' | 'git'>,
  branch: string,
): Promise<string | undefined> {
  const out = await git(
    ['ls-remote', '--', options.url, `refs/heads/${branch}`],
    options.repoPath,
    withToken(options.git, options.token),
  );
  return out.split(/\s/)[0] || undefined;
}

function withToken(options: GitOptions, token: string): GitOptions {
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    ...options,
    env: {
      ...options.env,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
  };
}

const isNonFastForward = (message: string): boolean =>
  /non-fast-forward|fetch first|\[rejected\]|Updates were rejected/.test(message);
