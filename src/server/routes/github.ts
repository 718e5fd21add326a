import os from 'node:os';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ActionsReportAck, ErrorBody, PatchbayError, RunDelivery } from '../../contracts/index.js';
import { createActionsReports, githubNameOf } from '../../engine/index.js';
import {
  createCommitIdentities,
  isValidSignature,
  openProposalPullRequest,
} from '../../github/index.js';
import type { ServerDeps } from '../deps.js';
import { createGithubIntake } from '../github-intake.js';

/** The path GitHub delivers to; authenticated by its signature, not a bearer token. */
export const GITHUB_WEBHOOK_PATH = '/v1/webhooks/github';
/** Where the GitHub Action of a `deliver: actions` run reports; authenticated by its signature. */
export const ACTIONS_REPORT_PATH = /^\/v1\/webhooks\/actions\/[^/?#]+(?:[?#]|$)/;

/** How often old webhook delivery ids are deleted. */
const PRUNE_EVERY_MS = 3_600_000;

const Ack = z.object({ ok: z.boolean(), duplicate: z.boolean().optional() });

const ProposalPullRequest = z.object({
  number: z.number().int(),
  url: z.string(),
  branch: z.string(),
  draft: z.boolean(),
});

/**
 * `POST /v1/webhooks/github`: checks X-Hub-Signature-256 against the raw body (constant
 * time; 401 when missing or wrong), remembers X-GitHub-Delivery (a redelivery is
 * acknowledged and not handled again), answers 202 at once and handles the event after.
 */
export function githubRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const intake = createGithubIntake(deps);
  const identities = createCommitIdentities(deps.engine.github, deps.log);
  const reports = createActionsReports({
    store: deps.store,
    log: deps.log.child({ source: 'actions-report' }),
    toleranceMs: deps.config.triggerToleranceMs,
  });
  return async (app) => {
    // Deliveries acknowledged but not handled (a failed try, a process that died) are looked
    // for now and then, by every server: the claim makes one of them do each.
    const retryMs = deps.config.githubWebhookRetryMs;
    const recover = (): void =>
      void intake
        .recover(retryMs)
        .catch((err: unknown) => deps.log.warn({ err }, 'could not look for unhandled webhooks'));
    if (deps.config.githubWebhookSecret) {
      const timer = setInterval(recover, retryMs);
      timer.unref();
      app.addHook('onReady', async () => recover());
      app.addHook('onClose', async () => clearInterval(timer));
    }
    // Delivery ids are kept to refuse redeliveries, not forever: handled ones older than the
    // retention window go, at start and then hourly (every server may; deleting is idempotent).
    const prune = (): void => {
      const cutoff = new Date(Date.now() - deps.config.webhookDeliveryRetentionMs).toISOString();
      void deps.store.webhookDeliveries
        .prune(cutoff)
        .then((n) => n > 0 && deps.log.info({ deleted: n }, 'old webhook delivery ids pruned'))
        .catch((err: unknown) => deps.log.warn({ err }, 'could not prune webhook delivery ids'));
    };
    const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    pruneTimer.unref();
    app.addHook('onReady', async () => prune());
    app.addHook('onClose', async () => clearInterval(pruneTimer));
    // The signature covers the bytes GitHub sent: keep them rather than parsed JSON.
    app.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'buffer' },
      (_request, body, done) => done(null, body),
    );
    app.post(
      GITHUB_WEBHOOK_PATH,
      {
        schema: {
          tags: ['github'],
          summary: 'GitHub webhook deliveries (App or repository webhook), signed with its secret',
          response: { 200: Ack, 202: Ack, 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (request, reply) => {
        const secret = deps.config.githubWebhookSecret;
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = request.headers['x-hub-signature-256'];
        if (
          !secret ||
          !isValidSignature(secret, raw, typeof signature === 'string' ? signature : undefined)
        ) {
          throw new PatchbayError('GITHUB_WEBHOOK_UNAUTHORIZED');
        }
        const event = String(request.headers['x-github-event'] ?? '');
        const deliveryId = String(request.headers['x-github-delivery'] ?? '');
        if (!event || !deliveryId) {
          throw new PatchbayError(
            'VALIDATION_FAILED',
            'X-GitHub-Event and X-GitHub-Delivery are required',
          );
        }
        let payload: Record<string, unknown>;
        try {
          const text = request.headers['content-type']?.startsWith(
            'application/x-www-form-urlencoded',
          )
            ? (new URLSearchParams(raw.toString('utf8')).get('payload') ?? '')
            : raw.toString('utf8');
          payload = JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new PatchbayError('VALIDATION_FAILED', 'the delivery body is not JSON');
        }
        // Stored with its payload before the answer: handled after, and again after a crash.
        if (!(await deps.store.webhookDeliveries.remember(deliveryId, 'github', event, payload))) {
          return reply.code(200).send({ ok: true, duplicate: true });
        }
        intake.enqueue(event, deliveryId, payload);
        return reply.code(202).send({ ok: true });
      },
    );

    app.post(
      '/v1/webhooks/actions/:runId',
      {
        schema: {
          tags: ['github'],
          summary:
            'The report of the GitHub Action a `deliver: actions` run dispatched (Standard Webhooks, signed with the key the dispatch handed out; no bearer token)',
          params: z.object({ runId: z.string().min(1).max(100) }),
          security: [],
          response: { 200: ActionsReportAck, 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (request) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        await reports.record(request.params.runId, request.headers, raw);
        return { runId: request.params.runId, recorded: true as const };
      },
    );

    app.get(
      '/v1/runs/:id/delivery',
      {
        schema: {
          tags: ['runs'],
          summary:
            "Where a run's delivery stands: the branch pushed, the pull request, the GitHub Action dispatched and what it reported",
          params: z.object({ id: z.string().min(1).max(100) }),
          response: { 200: RunDelivery, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const record = await deps.store.runs.get(request.params.id);
        if (!record) {
          throw new PatchbayError('RUN_NOT_FOUND', `no run ${request.params.id}`, {
            id: request.params.id,
          });
        }
        const state = (await deps.store.deliveries.get(record.id)) ?? {};
        return {
          runId: record.id,
          deliver: record.deliver,
          deliveryError: record.deliveryError,
          repository: state.repository ?? null,
          branch: state.remoteBranch ?? null,
          pushedCommit: state.pushedCommit ?? null,
          pullRequest: state.pullRequest
            ? {
                number: state.pullRequest.number,
                url: state.pullRequest.url,
                draft: state.pullRequest.draft,
              }
            : null,
          dispatchedAt: state.dispatchedAt ?? null,
          actions: state.actions ?? null,
        };
      },
    );

    app.post(
      '/v1/optimizations/:id/proposals/:pid/pull-request',
      {
        schema: {
          tags: ['optimizer'],
          summary:
            "Open a pull request with a proposal's change and its evidence (medians, n, CI, noise floor, reproduce, attempts)",
          params: z.object({
            id: z.string().min(1).max(100),
            pid: z.string().min(1).max(100),
          }),
          response: {
            201: ProposalPullRequest,
            400: ErrorBody,
            401: ErrorBody,
            404: ErrorBody,
            502: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const { config, store, engine } = deps;
        const proposal = await store.proposals.get(request.params.pid);
        if (!proposal || proposal.optimizationId !== request.params.id) {
          throw new PatchbayError(
            'PROPOSAL_NOT_FOUND',
            `no proposal ${request.params.pid} in optimization ${request.params.id}`,
          );
        }
        const repo = proposal.repoId ? await store.repos.get(proposal.repoId) : undefined;
        const full = repo?.github ?? githubNameOf(repo?.url ?? null, config.githubUrl);
        if (!repo || !full) {
          throw new PatchbayError(
            'DELIVERY_NOT_POSSIBLE',
            'the repository of this proposal has no GitHub name (register it with github: owner/name)',
          );
        }
        if (!engine.github.configured) throw new PatchbayError('GITHUB_NOT_CONFIGURED');
        const author = (await identities.authorship(full))?.author;
        const pr = await openProposalPullRequest({
          ...(author && { author }),
          proposal,
          repo: { path: repo.path, defaultBranch: repo.defaultBranch, github: full },
          github: engine.github,
          git: { env: config.childEnvBase, timeoutMs: config.cloneTimeoutMs },
          runUrl: config.publicUrl
            ? `${config.publicUrl}/v1/runs/${proposal.optimizationId}`
            : null,
          machine: `${process.platform} ${process.arch}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`,
        }).catch((err: unknown) => {
          if (err instanceof PatchbayError) throw err;
          throw new PatchbayError('GITHUB_API_FAILED', (err as Error).message);
        });
        return reply.code(201).send(pr);
      },
    );
  };
}
