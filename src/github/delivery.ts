import { randomBytes } from 'node:crypto';
import type { Deliver } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { DeliveryRepository, DeliveryState, RunRecord } from '../store/index.js';
import { git, type GitOptions } from '../workspaces/index.js';
import type { GithubClient } from './client.js';
import type { CommitIdentity } from './identity.js';
import {
  allGatesPassed,
  pullRequestBody,
  pullRequestTitle,
  runBranchName,
  statusComment,
  type GateResult,
} from './pull-request-body.js';
import { pushRunBranch } from './push.js';

/** What delivering one ended run needs to know beyond the run itself. */
export interface DeliveryContext {
  record: RunRecord;
  /** The runs before it in its workspace chain, oldest first (follow-ups deliver to one PR). */
  earlier: readonly RunRecord[];
  repo: { path: string; defaultBranch: string; github: string };
  /** 1 for the first try: later tries ask for a fresh token. */
  attempt: number;
  github: GithubClient;
  deliveries: DeliveryRepository;
  git: GitOptions;
  prLabels: readonly string[];
  runUrl: (runId: string) => string | null;
  log: Logger;
  /** Who a merge commit made to push is by (the App's bot; default Patchbay). */
  author?: CommitIdentity;
  /** Where the GitHub Action reports (`deliver: actions`): absolute, or null when unknown. */
  reportUrl?: (runId: string) => string | null;
}

/**
 * A Standard Webhooks key (`whsec_` + 32 random bytes, base64) for one run's GitHub Action
 * to sign its report with.
 */
export const newReportSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

interface PullRequestAnswer {
  number: number;
  html_url: string;
  node_id: string;
  draft?: boolean;
}

const READY_MUTATION = `mutation($id: ID!) {
  markPullRequestReadyForReview(input: { pullRequestId: $id }) {
    pullRequest { id number isDraft }
  }
}`;

/** Validation gates the run recorded, when the validation step ran (absent: no gates). */
export function runGates(record: RunRecord): GateResult[] | undefined {
  const gates = (record as RunRecord & { validation?: GateResult[] | null }).validation;
  return gates ?? undefined;
}

/**
 * Delivers an ended repository run to GitHub, going on from what an earlier try did (the
 * state in `deliveries`): pushes its branch, opens or updates its pull request (one per
 * workspace chain: a follow-up updates the PR of the run it continues), marks it ready when
 * asked and every gate passed, then brings the status comment and the review thread it came
 * from up to date. Every step is recorded as soon as it is done.
 */
export async function deliverRun(ctx: DeliveryContext): Promise<DeliveryState> {
  const { record, repo, github, deliveries } = ctx;
  const full = repo.github;
  let state = (await deliveries.get(record.id)) ?? {};
  const prior = await priorDelivery(ctx);
  const root = record.workspaceOf ?? record.id;
  const chain = [...ctx.earlier, record];
  const asked = chain
    .map((r) => r.prompt ?? '')
    .filter(Boolean)
    .join('\n\n');
  const remoteBranch =
    state.remoteBranch ?? prior?.remoteBranch ?? runBranchName(chain[0]!.prompt ?? '', root);
  const save = async (patch: DeliveryState) => {
    state = await deliveries.update(record.id, { repository: full, remoteBranch, ...patch });
  };
  let pullRequest = state.pullRequest ?? prior?.pullRequest;

  if (record.status === 'succeeded' && record.branch && record.deliver !== 'none') {
    const tip = (await git(['rev-parse', record.branch], repo.path, ctx.git)).trim();
    const base = chain[0]!.baseCommit;
    const hasCommits = tip !== base;
    if (hasCommits && state.pushedCommit !== tip && prior?.pushedCommit !== tip) {
      const token = await github.gitToken(full, ctx.attempt > 1);
      const pushed = await pushRunBranch({
        repoPath: repo.path,
        commit: tip,
        localBranch: record.branch,
        remoteBranch,
        defaultBranch: repo.defaultBranch,
        url: github.cloneUrl(full),
        token,
        git: ctx.git,
        ...(ctx.author && { author: ctx.author }),
      });
      ctx.log.info({ remoteBranch, commit: pushed.commit, merged: pushed.merged }, 'branch pushed');
      await save({ pushedCommit: tip, pushedFrom: pushed.localBranch });
    } else if (!state.remoteBranch) {
      await save({ ...(prior?.pushedCommit && { pushedCommit: prior.pushedCommit }) });
    }
    const delivered = state.pushedCommit ?? prior?.pushedCommit;
    if (delivered && wantsPullRequest(record.deliver)) {
      pullRequest = await ensurePullRequest(ctx, { remoteBranch, asked, current: pullRequest });
      await save({ pullRequest });
      // Once per pull request, whichever run of the chain gets there (a try may stop between).
      if (ctx.prLabels.length > 0 && !state.labelled && !prior?.labelled) {
        await github.rest(full, 'POST', `/repos/${full}/issues/${pullRequest.number}/labels`, {
          labels: ctx.prLabels,
        });
        await save({ labelled: true });
      }
    }
    if (delivered && record.deliver === 'actions' && !state.dispatchedAt) {
      // The key the Action signs its report with: made once, so a retried dispatch hands out
      // the same one, and kept (sealed) to verify the report.
      if (!state.actionsSecret) await save({ actionsSecret: newReportSecret() });
      await github.rest(full, 'POST', `/repos/${full}/dispatches`, {
        event_type: 'patchbay-run',
        client_payload: {
          run_id: record.id,
          branch: remoteBranch,
          prompt: record.prompt ?? '',
          report_url: ctx.reportUrl?.(record.id) ?? null,
          report_secret: state.actionsSecret,
        },
      });
      await save({ dispatchedAt: new Date().toISOString() });
    }
  }
  await reportBack(ctx, state, pullRequest, remoteBranch);
  return state;
}

const wantsPullRequest = (deliver: Deliver): boolean =>
  deliver === 'draft_pr' || deliver === 'pr' || deliver === 'ready_pr';

/** The delivery of the latest earlier run of the chain that pushed (its branch and PR). */
async function priorDelivery(ctx: DeliveryContext): Promise<DeliveryState | undefined> {
  for (const earlier of [...ctx.earlier].reverse()) {
    const s = await ctx.deliveries.get(earlier.id);
    if (s?.remoteBranch || s?.pullRequest) return s;
  }
  return undefined;
}

async function ensurePullRequest(
  ctx: DeliveryContext,
  args: { remoteBranch: string; asked: string; current: DeliveryState['pullRequest'] },
): Promise<NonNullable<DeliveryState['pullRequest']>> {
  const { record, github, repo } = ctx;
  const full = repo.github;
  const gates = runGates(record);
  // `pr` is ready once every gate passed; `ready_pr` asks for a ready one whatever they say.
  const draft =
    record.deliver === 'draft_pr' || (record.deliver === 'pr' && !allGatesPassed(gates));
  const body = pullRequestBody({
    runId: record.id,
    asked: args.asked,
    answer: record.resultText,
    gates,
    usage: record.usage,
    costUsd: record.costUsd,
    runUrl: ctx.runUrl(record.id),
  });
  let current = args.current;
  if (!current) {
    // A try that died after opening it: GitHub knows the PR of this branch.
    const owner = full.split('/')[0]!;
    const open = await github.rest<PullRequestAnswer[]>(
      full,
      'GET',
      `/repos/${full}/pulls?state=open&head=${encodeURIComponent(`${owner}:${args.remoteBranch}`)}`,
    );
    if (open[0]) current = fromAnswer(open[0]);
  }
  if (!current) {
    const created = await github.rest<PullRequestAnswer>(full, 'POST', `/repos/${full}/pulls`, {
      title: pullRequestTitle(args.asked),
      head: args.remoteBranch,
      base: repo.defaultBranch,
      body,
      draft,
    });
    current = fromAnswer(created);
    await ctx.deliveries.update(record.id, { pullRequest: current });
    ctx.log.info({ pullRequest: current.url, draft }, 'pull request opened');
    return current;
  }
  const updated = await github.rest<PullRequestAnswer>(
    full,
    'PATCH',
    `/repos/${full}/pulls/${current.number}`,
    { body },
  );
  current = fromAnswer(updated);
  if (!draft && current.draft) {
    // REST ignores `draft: false`: only this mutation takes a PR out of draft.
    await github.graphql(full, READY_MUTATION, { id: current.nodeId });
    current = { ...current, draft: false };
  }
  ctx.log.info({ pullRequest: current.url, draft: current.draft }, 'pull request updated');
  return current;
}

const fromAnswer = (pr: PullRequestAnswer) => ({
  number: pr.number,
  url: pr.html_url,
  nodeId: pr.node_id,
  draft: pr.draft ?? false,
});

/** The status comment (edited, never a second one) and the reply in the review thread. */
async function reportBack(
  ctx: DeliveryContext,
  state: DeliveryState,
  pullRequest: DeliveryState['pullRequest'],
  remoteBranch: string,
): Promise<void> {
  const { record, github, repo } = ctx;
  const full = repo.github;
  const trigger = state.trigger;
  if (!trigger) return;
  const text = statusComment({
    status: record.status === 'succeeded' ? 'succeeded' : 'failed',
    runId: record.id,
    runUrl: ctx.runUrl(record.id),
    answer: record.resultText,
    error: record.status === 'succeeded' ? null : (record.errorMessage ?? record.status),
    gates: runGates(record),
    pullRequestUrl: pullRequest?.url ?? null,
    branch: state.pushedCommit ? remoteBranch : null,
  });
  if (trigger.reviewCommentId !== undefined) {
    if (state.replyCommentId === undefined) {
      const reply = await github.rest<{ id: number }>(
        full,
        'POST',
        `/repos/${full}/pulls/${trigger.number}/comments/${trigger.reviewCommentId}/replies`,
        { body: text },
      );
      await ctx.deliveries.update(record.id, { replyCommentId: reply.id });
    }
    return;
  }
  if (state.statusCommentId !== undefined) {
    await github.rest(full, 'PATCH', `/repos/${full}/issues/comments/${state.statusCommentId}`, {
      body: text,
    });
  } else {
    const posted = await github.rest<{ id: number }>(
      full,
      'POST',
      `/repos/${full}/issues/${trigger.number}/comments`,
      { body: text },
    );
    await ctx.deliveries.update(record.id, { statusCommentId: posted.id });
  }
}
