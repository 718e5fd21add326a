import { PatchbayError } from '../../contracts/index.js';
import {
  createCommitIdentities,
  deliverRun,
  GithubApiError,
  PushRefused,
  type CommitAuthorship,
  type GithubClient,
} from '../../github/index.js';
import type { RunRecord } from '../../store/index.js';
import type { EngineResources } from '../systems/resources.js';
import { ReactionGaveUp, type Reaction } from './types.js';

/** `owner/name` of a GitHub clone URL under `githubUrl`, if it is one. */
export function githubNameOf(url: string | null, githubUrl: string): string | undefined {
  if (!url) return undefined;
  const prefix = `${githubUrl}/`;
  if (!url.startsWith(prefix)) return undefined;
  const name = url
    .slice(prefix.length)
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  return /^[^/]+\/[^/]+$/.test(name) ? name : undefined;
}

/**
 * Who a repository run's commit is by: with a GitHub App, on a repository known on GitHub,
 * the App's `<slug>[bot]`, crediting the GitHub user who asked for the run (a webhook
 * trigger's sender) with a `Co-authored-by:` trailer. Every run of such a repository, not
 * only delivered ones: a follow-up that delivers pushes the commits of the runs before it.
 */
export function githubCommitAuthorship(
  res: Pick<EngineResources, 'config' | 'store' | 'log'>,
  github: GithubClient,
): (record: RunRecord) => Promise<CommitAuthorship | undefined> {
  const identities = createCommitIdentities(github, res.log);
  return async (record) => {
    if (!github.isApp || !record.repoId) return undefined;
    const repo = await res.store.repos.get(record.repoId);
    const full = repo?.github ?? githubNameOf(repo?.url ?? null, res.config.githubUrl);
    if (!full) return undefined;
    const requester = (await res.store.deliveries.get(record.id))?.trigger?.sender;
    return identities.authorship(full, requester);
  };
}

/**
 * Delivers a repository run that asked for it (`deliver`): push its branch, open or update
 * its pull request, report back where it was asked (see github/delivery.ts). A failure after
 * the commit (push refused, GitHub 5xx, an expired token) leaves the branch in the local
 * repository, puts the failure on the run (`deliveryError`) and is tried again; each try
 * goes on from what the last one recorded.
 */
export function githubDeliveryReaction(
  res: Pick<EngineResources, 'config' | 'store'>,
  github: GithubClient,
  authorship: (record: RunRecord) => Promise<CommitAuthorship | undefined> = async () => undefined,
): Reaction {
  const { config, store } = res;
  const gitOptions = { env: config.childEnvBase, timeoutMs: config.cloneTimeoutMs };
  return {
    name: 'github-delivery',
    appliesTo: (record) => record.repoId !== null && record.deliver !== 'none',
    maxAttempts: config.githubDeliveryMaxAttempts,
    backoffMs: config.githubDeliveryBackoffMs,
    async perform({ record, attempt, log }) {
      try {
        const repo = record.repoId ? await store.repos.get(record.repoId) : undefined;
        const full = repo?.github ?? githubNameOf(repo?.url ?? null, config.githubUrl);
        if (!repo || !full) {
          throw new ReactionGaveUp('the repository has no GitHub name: nothing to deliver to');
        }
        if (!github.configured) throw new PatchbayError('GITHUB_NOT_CONFIGURED');
        const root = record.workspaceOf ?? record.id;
        const chain =
          root === record.id
            ? []
            : [await store.runs.get(root), ...(await store.runs.listByWorkspace(root))];
        const earlier = chain
          .filter((r): r is NonNullable<typeof r> => r !== undefined && r.id < record.id)
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        const author = (await authorship(record))?.author;
        await deliverRun({
          ...(author && { author }),
          record,
          earlier,
          repo: { path: repo.path, defaultBranch: repo.defaultBranch, github: full },
          attempt,
          github,
          deliveries: store.deliveries,
          git: gitOptions,
          prLabels: config.githubPrLabels,
          runUrl: (id) => (config.publicUrl ? `${config.publicUrl}/v1/runs/${id}` : null),
          reportUrl: (id) =>
            config.publicUrl ? `${config.publicUrl}/v1/webhooks/actions/${id}` : null,
          log,
        });
        if (record.deliveryError) await store.runs.update(record.id, { deliveryError: null });
      } catch (err) {
        const message = (err as Error).message;
        await store.runs.update(record.id, { deliveryError: message }).catch(() => undefined);
        const final =
          err instanceof ReactionGaveUp ||
          err instanceof PushRefused ||
          err instanceof PatchbayError ||
          (err instanceof GithubApiError && !err.retryable);
        if (final && !(err instanceof ReactionGaveUp)) throw new ReactionGaveUp(message);
        throw err;
      }
    },
  };
}
