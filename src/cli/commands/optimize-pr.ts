import type { ResolvedConfig } from '../../config/index.js';
import { PatchbayError, type Proposal } from '../../contracts/index.js';
import { githubNameOf } from '../../engine/index.js';
import {
  createCommitIdentities,
  createGithubClient,
  openProposalPullRequest,
} from '../../github/index.js';
import type { Logger } from '../../observability/index.js';
import { git } from '../../workspaces/index.js';
import { out } from '../output.js';

/**
 * `patchbay optimize --pr`: one pull request per proposal of a local optimization, on the
 * repository's GitHub (its `origin` under PATCHBAY_GITHUB_URL), with the evidence in the body.
 */
export async function openProposalPullRequests(
  config: ResolvedConfig,
  log: Logger,
  args: { repoPath: string; optimizationId: string; proposals: Proposal[] },
): Promise<void> {
  const gitOptions = { env: config.childEnvBase, timeoutMs: config.cloneTimeoutMs };
  const origin = (
    await git(['remote', 'get-url', 'origin'], args.repoPath, gitOptions).catch(() => '')
  ).trim();
  const full = githubNameOf(origin, config.githubUrl);
  if (!full) {
    throw new PatchbayError(
      'DELIVERY_NOT_POSSIBLE',
      `--pr needs a repository whose origin is on GitHub (${config.githubUrl}/<owner>/<name>); origin is ${origin || 'not set'}`,
    );
  }
  const github = createGithubClient({ config, log });
  if (!github.configured) throw new PatchbayError('GITHUB_NOT_CONFIGURED');
  const head = (
    await git(
      ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'],
      args.repoPath,
      gitOptions,
    ).catch(() => 'origin/main')
  )
    .trim()
    .replace(/^origin\//, '');
  const author = (await createCommitIdentities(github, log).authorship(full))?.author;
  for (const proposal of args.proposals) {
    const pr = await openProposalPullRequest({
      ...(author && { author }),
      proposal: {
        ...proposal,
        optimizationId: args.optimizationId,
        runId: args.optimizationId,
        repoId: null,
        createdAt: new Date().toISOString(),
      },
      repo: { path: args.repoPath, defaultBranch: head, github: full },
      github,
      git: gitOptions,
      runUrl: null,
      machine: `${process.platform} ${process.arch}`,
    });
    out.note(`${pr.draft ? 'draft ' : ''}pull request ${pr.url} (${pr.branch})`);
  }
}
