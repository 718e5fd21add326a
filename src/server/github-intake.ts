import {
  decideTrigger,
  GithubApiError,
  runIdOfBranch,
  statusComment,
  type TriggerDecision,
} from '../github/index.js';
import type { ServerDeps } from './deps.js';

type RunDecision = Extract<TriggerDecision, { kind: 'run' }>;

/** Tries of one delivery before it is given up. */
const MAX_TRIES = 5;
/** How long one try holds a delivery; a process that died holding it frees it after this. */
const CLAIM_MS = 120_000;

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

  /**
   * One try of a stored delivery: claimed first (one process at a time), settled when handled,
   * released for a later try when it failed, given up after MAX_TRIES. A process that dies
   * mid-try leaves its claim to run out, and another process's `recover` takes it over.
   */
  async function tryDelivery(event: string, deliveryId: string, payload: Record<string, unknown>) {
    const deliveries = store.webhookDeliveries;
    const attempt = await deliveries.claim(
      deliveryId,
      'github',
      new Date(Date.now() + CLAIM_MS).toISOString(),
    );
    if (attempt === null) return; // handled meanwhile, or another process holds it
    try {
      await handle(event, deliveryId, payload);
      await deliveries.settle(deliveryId, 'github');
    } catch (err) {
      const message = (err as Error).message;
      if (attempt >= MAX_TRIES) {
        log.error({ err, event, deliveryId, attempt }, 'webhook handling failed; giving up');
        await deliveries.settle(deliveryId, 'github', message);
      } else {
        log.error({ err, event, deliveryId, attempt }, 'webhook handling failed; will retry');
        await deliveries.release(deliveryId, 'github', message);
      }
    }
  }

  function enqueue(event: string, deliveryId: string, payload: Record<string, unknown>): void {
    pending += 1;
    chain = chain
      .then(() => tryDelivery(event, deliveryId, payload))
      .catch((err: unknown) => log.error({ err, event, deliveryId }, 'webhook handling failed'))
      .finally(() => {
        pending -= 1;
      });
  }

  return {
    /** Queues the work of a stored delivery and returns at once; handled in order. */
    enqueue,
    /**
     * Queues the deliveries acknowledged at least `olderThanMs` ago and still unhandled (their
     * try failed, or the process that took them died). Returns how many.
     */
    async recover(olderThanMs: number): Promise<number> {
      if (pending > 0) return 0; // what is queued here goes first
      const found = await store.webhookDeliveries.listPending(
        'github',
        new Date(Date.now() - olderThanMs).toISOString(),
        50,
      );
      for (const d of found) enqueue(d.event, d.id, d.payload);
      if (found.length > 0) log.info({ deliveries: found.length }, 'retrying unhandled webhooks');
      return found.length;
    },
    /** Deliveries acknowledged and not yet handled. */
    pending: () => pending,
    /** Resolves once every queued delivery has been handled. */
    idle: () => chain,
  };
}
