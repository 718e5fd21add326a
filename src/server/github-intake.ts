import {
  decideTrigger,
  GithubApiError,
  runIdOfBranch,
  statusComment,
  type TriggerDecision,
} from '../github/index.js';
import type { ServerDeps } from './deps.js';

type RunDecision = Extract<TriggerDecision, { kind: 'run' }>;

/**
 * Does what a verified, first-seen GitHub delivery asks, after it was acknowledged: registers
 * the repositories of an App installation, or starts a run (a new conversation for an issue
 * or a comment on one; a follow-up in the conversation of a Patchbay pull request for a
 * comment, review or review comment on it) for a sender with write permission, with a status
 * comment on GitHub that the run's delivery then keeps up to date.
 */
export function createGithubIntake(
  deps: Pick<ServerDeps, 'config' | 'engine' | 'repos' | 'store' | 'log'>,
) {
  const { config, engine, repos, store } = deps;
  const log = deps.log.child({ source: 'github-webhook' });
  const github = engine.github;
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;

  async function handle(event: string, deliveryId: string, payload: Record<string, unknown>) {
    const decision = decideTrigger(event, payload, {
      phrase: config.githubTriggerPhrase,
      labels: config.githubTriggerLabels,
    });
    if (decision.kind === 'ignore') {
      log.debug({ event, deliveryId, reason: decision.reason }, 'webhook ignored');
      return;
    }
    if (decision.kind === 'register') {
      for (const r of decision.repositories) {
        await repos.registerFromGithub({
          fullName: r.fullName,
          githubId: r.id,
          installationId: decision.installationId,
        });
      }
      return;
    }
    await startRun(decision, deliveryId);
  }

  async function mayTrigger(repository: string, user: string): Promise<boolean> {
    try {
      const answer = await github.rest<{ permission: string }>(
        repository,
        'GET',
        `/repos/${repository}/collaborators/${encodeURIComponent(user)}/permission`,
      );
      return answer.permission === 'admin' || answer.permission === 'write';
    } catch (err) {
      if (err instanceof GithubApiError && (err.status === 404 || err.status === 403)) return false;
      throw err;
    }
  }

  async function startRun(d: RunDecision, deliveryId: string) {
    const repo = await store.repos.findByGithub(d.repository);
    if (!repo) {
      log.info({ repository: d.repository }, 'webhook for a repository not registered: ignored');
      return;
    }
    if (!(await mayTrigger(d.repository, d.sender))) {
      log.info(
        { repository: d.repository, sender: d.sender },
        'sender without write permission: ignored',
      );
      return;
    }
    // A follow-up when the event is on a pull request Patchbay opened.
    let rootId: string | undefined;
    if (d.pullRequest) {
      let head = d.pullRequest.headRef;
      if (!head) {
        const pr = await github.rest<{ head: { ref: string } }>(
          d.repository,
          'GET',
          `/repos/${d.repository}/pulls/${d.pullRequest.number}`,
        );
        head = pr.head.ref;
      }
      rootId = runIdOfBranch(head);
      if (!rootId || !(await store.runs.get(rootId))) {
        if (d.origin !== 'comment') return log.debug({ head }, 'not a Patchbay pull request');
        rootId = undefined;
      }
    }
    const trigger = {
      kind: d.origin,
      number: d.number,
      sender: d.sender,
      ...(d.reviewCommentId !== undefined && { reviewCommentId: d.reviewCommentId }),
      ...(d.url && { url: d.url }),
    };
    // The status comment first (answers in a review thread come at the end instead), so the
    // run's delivery finds it whenever the run ends.
    let statusCommentId: number | undefined;
    if (d.reviewCommentId === undefined) {
      const posted = await github.rest<{ id: number }>(
        d.repository,
        'POST',
        `/repos/${d.repository}/issues/${d.number}/comments`,
        { body: statusComment({ status: 'working', runId: '…', runUrl: null }) },
      );
      statusCommentId = posted.id;
    }
    const run = await createRun(repo.id, d, rootId);
    await store.deliveries.update(run.id, {
      repository: d.repository,
      trigger,
      ...(statusCommentId !== undefined && { statusCommentId }),
    });
    log.info(
      { runId: run.id, repository: d.repository, origin: d.origin, deliveryId },
      'run started from GitHub',
    );
    if (statusCommentId !== undefined) {
      const runUrl = config.publicUrl ? `${config.publicUrl}/v1/runs/${run.id}` : null;
      await github
        .rest(d.repository, 'PATCH', `/repos/${d.repository}/issues/comments/${statusCommentId}`, {
          body: statusComment({ status: 'working', runId: run.id, runUrl }),
        })
        .catch((err: unknown) => log.warn({ err }, 'could not update the status comment'));
    }
  }

  async function createRun(repoId: string, d: RunDecision, rootId: string | undefined) {
    const deliver = config.githubDeliver;
    if (rootId) {
      const root = (await store.runs.get(rootId))!;
      if (root.conversationId) {
        return engine.postMessage(root.conversationId, { prompt: d.prompt, deliver });
      }
      const chain = await store.runs.listByWorkspace(rootId);
      const last = [root, ...chain].filter((r) => r.sessionId).at(-1);
      return engine.createRun({
        agent: root.agent,
        prompt: d.prompt,
        workspaceOf: rootId,
        deliver,
        ...(last?.sessionId && { resumeSessionId: last.sessionId }),
      });
    }
    const conversation = await engine.createConversation({
      agent: config.githubAgent,
      repo: repoId,
      title: d.prompt.split('\n')[0]!.slice(0, 200) || `${d.repository}#${d.number}`,
    });
    return engine.postMessage(conversation.id, { prompt: d.prompt, deliver });
  }

  return {
    /** Queues the work of a delivery and returns at once; deliveries are handled in order. */
    enqueue(event: string, deliveryId: string, payload: Record<string, unknown>): void {
      pending += 1;
      chain = chain
        .then(() => handle(event, deliveryId, payload))
        .catch((err: unknown) => log.error({ err, event, deliveryId }, 'webhook handling failed'))
        .finally(() => {
          pending -= 1;
        });
    },
    /** Deliveries acknowledged and not yet handled. */
    pending: () => pending,
    /** Resolves once every queued delivery has been handled. */
    idle: () => chain,
  };
}
