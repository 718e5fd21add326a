/**
 * `patchbay optimize --apply`: a proposal becomes one commit on a new branch of the user's
 * repository. The user's checkout is never touched: the branch is made in a temporary worktree
 * (so their current branch, index and files stay as they were), and a second apply of the same
 * proposal finds its branch and says so instead of failing.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PatchbayError, type Proposal } from '../contracts/index.js';
import { commitAll, git } from '../workspaces/index.js';

/** A proposal found in the data dir, with the source its optimization read (a path or URL). */
export interface FoundProposal {
  proposal: Proposal;
  source?: string;
}

/** The proposal with this id in any earlier run under `<dataDir>/optimizer`, newest run first. */
export async function findProposal(dataDir: string, id: string): Promise<FoundProposal> {
  const base = join(dataDir, 'optimizer');
  const runs = existsSync(base) ? (await readdir(base)).sort().reverse() : [];
  for (const run of runs) {
    const file = join(base, run, 'artifacts', 'proposals.json');
    if (!existsSync(file)) continue;
    const proposals = JSON.parse(await readFile(file, 'utf8')) as Proposal[];
    const proposal = proposals.find((p) => p.id === id);
    if (!proposal) continue;
    const state = await readFile(join(base, run, 'optimize.json'), 'utf8')
      .then((text) => JSON.parse(text) as { source?: string })
      .catch(() => ({ source: undefined }));
    return { proposal, ...(state.source ? { source: state.source } : {}) };
  }
  throw new PatchbayError('PROPOSAL_NOT_FOUND', `no proposal ${id} under ${base}`, {
    proposalId: id,
  });
}

export interface AppliedProposal {
  /** `applied`: a new commit on `branch`; `already-applied`: the branch exists, or HEAD has it. */
  status: 'applied' | 'already-applied';
  /** The repository's top directory. */
  repo: string;
  branch: string;
  /** The branch's commit (or HEAD's, when HEAD already holds the change). */
  commit: string;
  /** The branch the user's checkout is on, unchanged. */
  current: string;
  /** With `already-applied`: where the change already is. */
  where?: 'branch' | 'head';
}

/** The branch a proposal is applied on. */
export const proposalBranch = (proposal: Proposal): string =>
  `patchbay/${proposal.id.replace(/^prop_/, 'optimize-')}`;

/**
 * Commits a proposal on a new branch `patchbay/optimize-<id>` of `repo`, made from its HEAD in
 * a temporary worktree under `scratchDir`: the checkout stays on its branch with its files.
 *
 * @throws PatchbayError REPO_NOT_GIT (not a git repository), OPTIMIZE_APPLY_DIRTY (uncommitted
 * changes, listed in details.files), OPTIMIZE_APPLY_CONFLICT (the diff does not apply to HEAD).
 */
export async function applyProposal(
  proposal: Proposal,
  repo: string,
  scratchDir: string,
  env: Record<string, string>,
): Promise<AppliedProposal> {
  const opts = { env };
  if (!existsSync(repo)) {
    throw new PatchbayError('WORKDIR_NOT_FOUND', `${repo} does not exist`, { repo });
  }
  const top = await git(['rev-parse', '--show-toplevel'], repo, opts).then(
    (out) => out.trim(),
    () => {
      throw new PatchbayError(
        'REPO_NOT_GIT',
        `${repo} is not a git repository: apply a proposal to the repository it was made for (--repo <path>)`,
        { repo },
      );
    },
  );
  // A directory inside some other checkout (a fixture in Patchbay's own, say) is not the
  // repository the user meant: only the top of a repository is a target.
  if ((await realpath(top)) !== (await realpath(repo))) {
    throw new PatchbayError(
      'REPO_NOT_GIT',
      `${repo} is not the top of a git repository (it is inside ${top}): name the repository with --repo <path>`,
      { repo, top },
    );
  }
  const branch = proposalBranch(proposal);
  const current =
    (await git(['rev-parse', '--abbrev-ref', 'HEAD'], top, opts).catch(() => 'HEAD')).trim() ||
    'HEAD';
  const existing = await git(
    ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`],
    top,
    opts,
  )
    .then((out) => out.trim())
    .catch(() => '');
  if (existing) {
    return {
      status: 'already-applied',
      repo: top,
      branch,
      commit: existing,
      current,
      where: 'branch',
    };
  }
  const dirty = (await git(['status', '--porcelain', '--untracked-files=no'], top, opts))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3));
  if (dirty.length > 0) {
    throw new PatchbayError(
      'OPTIMIZE_APPLY_DIRTY',
      `${top} has uncommitted changes in ${dirty.join(', ')}: commit or stash them, then apply again`,
      { repo: top, files: dirty },
    );
  }
  await mkdir(scratchDir, { recursive: true });
  const patchFile = join(scratchDir, `${proposal.id}.diff`);
  await writeFile(patchFile, proposal.diff);
  const head = await git(['rev-parse', '--verify', 'HEAD^{commit}'], top, opts).then(
    (out) => out.trim(),
    () => {
      throw new PatchbayError('REPO_REF_NOT_FOUND', `${top} has no commit to apply onto`, {
        repo: top,
        ref: 'HEAD',
      });
    },
  );
  // The change is already in HEAD (merged by hand, or an earlier apply merged): nothing to do.
  const inHead = await git(['apply', '--check', '--reverse', patchFile], top, opts).then(
    () => true,
    () => false,
  );
  if (inHead)
    return { status: 'already-applied', repo: top, branch, commit: head, current, where: 'head' };

  const worktree = join(scratchDir, `apply-${proposal.id}`);
  await rm(worktree, { recursive: true, force: true });
  await mkdir(dirname(worktree), { recursive: true });
  await git(['worktree', 'add', '-q', '-b', branch, worktree, head], top, opts);
  try {
    await git(['apply', patchFile], worktree, opts).catch((err: Error) => {
      throw new PatchbayError(
        'OPTIMIZE_APPLY_CONFLICT',
        `${proposal.id} does not apply to ${top} at ${head.slice(0, 12)}: ${err.message}`,
        { repo: top, commit: head, files: proposal.files },
      );
    });
    const commit = await commitAll(
      worktree,
      `perf: ${proposal.summary}\n\n${proposal.explanation}`,
      opts,
      proposal.files,
    );
    return { status: 'applied', repo: top, branch, commit: commit ?? head, current };
  } catch (err) {
    // No half-made branch left behind: a retry starts clean.
    await git(['worktree', 'remove', '--force', worktree], top, opts).catch(() => undefined);
    await git(['branch', '-D', branch], top, opts).catch(() => undefined);
    throw err;
  } finally {
    await git(['worktree', 'remove', '--force', worktree], top, opts).catch(() => undefined);
    await git(['worktree', 'prune'], top, opts).catch(() => undefined);
  }
}

/** A repository path from a proposal's source, when it is a local directory (not a URL). */
export function localSource(source: string | undefined): string | undefined {
  if (!source || /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@/.test(source)) return undefined;
  return resolve(source);
}
