import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  Artifact,
  ArtifactUrl,
  ListRunsQuery,
  Opportunity,
  OptimizeRequest,
  PatchbayError,
  ProposalList,
  Run,
  RunList,
  StoredProposal,
} from '../../contracts/index.js';
import type { ArtifactRecord } from '../../store/index.js';
import {
  artifactUrlKey,
  assertArtifactId,
  signArtifactUrl,
  SIGNED_ARTIFACT_PREFIX,
  verifyArtifactUrl,
} from '../artifact-urls.js';
import type { ServerDeps } from '../deps.js';
import { linkOrigin, requestGuardFor } from '../origin.js';
import { RepoIdParams } from './repos.js';
import { runRouteErrors } from './run-reply.js';

// Checked by assertArtifactId, not by the schema: a path-like id gets its own error code.
const ArtifactIdParams = z.object({ id: z.string().min(1).max(300) });
const errors = runRouteErrors;

const OpportunitiesQuery = z
  .object({
    optimizationId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('This optimization (default: the latest whose scan succeeded).'),
  })
  .strict();

const OpportunityList = z.object({
  optimizationId: z.string(),
  runId: z.string(),
  opportunities: z.array(Opportunity),
});

/** Every candidate of an optimization's validate stage: its outcome and why (attempts.json). */
const AttemptList = z.object({
  optimizationId: z.string(),
  runId: z.string(),
  attempts: z.array(
    z.object({
      rule: z.string(),
      file: z.string(),
      line: z.number().int(),
      candidateId: z.string().nullable(),
      outcome: z.enum(['accepted', 'rejected', 'safe-refactor']),
      reason: z.string(),
    }),
  ),
});
const StoredAttempt = z.object({
  opportunity: z.object({ rule: z.string(), file: z.string(), line: z.number().int() }),
  candidateId: z.string().nullable(),
  outcome: z.enum(['accepted', 'rejected', 'safe-refactor']),
  reason: z.string(),
});

const ListProposalsQuery = z
  .object({
    repoId: z.string().min(1).max(100).optional(),
    optimizationId: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
  })
  .strict();

const ListArtifactsQuery = z
  .object({
    runId: z.string().min(1).max(100).optional(),
    optimizationId: z.string().min(1).max(100).optional(),
  })
  .strict()
  .refine((q) => q.runId || q.optimizationId, 'give runId or optimizationId');

const ArtifactUrlQuery = z
  .object({
    ttlSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional()
      .describe('How long the URL works (default PATCHBAY_ARTIFACT_URL_TTL_MS).'),
  })
  .strict();

const SignedQuery = z.object({
  expires: z.string().max(20).optional(),
  sig: z.string().max(128).optional(),
});

const publicArtifact = ({ path: _path, ...artifact }: ArtifactRecord): Artifact => artifact;

/**
 * The optimizer over HTTP: start an optimization of a registered repository, follow its stage
 * runs (they are runs: events, SSE, cancel), read its opportunities and proposals, and fetch
 * the artifacts its stages stored, with a token or through an expiring signed URL.
 */
export function optimizerRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { engine, store, config } = deps;
  const artifactsRoot = resolve(config.dataDir, 'artifacts');
  const guard = requestGuardFor(config);
  let key: Buffer | undefined;
  const signingKey = (): Buffer =>
    (key ??= artifactUrlKey(config.artifactUrlSecret, config.dataDir));

  /** The JSON artifact `name` of the latest succeeded `stage` run of a repository's optimization. */
  async function latestStageArtifact(
    repoId: string,
    stage: 'scan' | 'validate',
    name: string,
    optimizationId: string | undefined,
  ): Promise<{ optimizationId: string; runId: string; value: unknown }> {
    await deps.repos.get(repoId);
    const { runs } = await engine.listRuns({
      repoId,
      kind: `optimize.${stage}`,
      status: ['succeeded'],
      limit: 1,
      ...(optimizationId ? { parentId: optimizationId } : {}),
    });
    const run = runs[0];
    const artifact = run
      ? (await store.artifacts.list({ runId: run.id })).find((a) => a.name === name)
      : undefined;
    if (!run || !artifact) {
      throw new PatchbayError(
        'RUN_NOT_FOUND',
        `no finished ${stage} stage for repository ${repoId}${optimizationId ? ` in optimization ${optimizationId}` : ''}: start one with POST /v1/repos/${repoId}/optimize`,
      );
    }
    const text = await readFile(artifactFile(artifact), 'utf8');
    return { optimizationId: run.parentId ?? run.id, runId: run.id, value: JSON.parse(text) };
  }

  async function getArtifact(id: string): Promise<ArtifactRecord> {
    assertArtifactId(id);
    const artifact = await store.artifacts.get(id);
    if (!artifact) throw new PatchbayError('ARTIFACT_NOT_FOUND', `no artifact ${id}`);
    return artifact;
  }

  /** The artifact's file. The stored path is ours, but a file outside the directory is never read. */
  function artifactFile(artifact: ArtifactRecord): string {
    const file = resolve(artifactsRoot, artifact.path);
    if (!file.startsWith(artifactsRoot + sep)) {
      throw new PatchbayError('ARTIFACT_PATH_INVALID', `artifact ${artifact.id} has a bad path`);
    }
    return file;
  }

  async function sendArtifact(reply: FastifyReply, artifact: ArtifactRecord) {
    const file = artifactFile(artifact);
    const size = await stat(file).then(
      (s) => s.size,
      () => {
        throw new PatchbayError(
          'ARTIFACT_NOT_FOUND',
          `the file of artifact ${artifact.id} is gone`,
        );
      },
    );
    return reply
      .header('content-type', artifact.contentType)
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="${artifact.name}"`)
      .header('x-content-sha256', artifact.sha256)
      .send(createReadStream(file));
  }

  return async (app) => {
    app.post(
      '/v1/repos/:id/optimize',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'Start an optimization of a repository',
          description:
            'Queues its first stage run (`optimize.detect`) and answers 202 with it. Each stage that succeeds queues the next: baseline, scan, patch, validate, propose. The first run id is the optimization id: `GET /v1/repos/:id/runs?parentId=<it>` lists its stages.',
          params: RepoIdParams,
          body: OptimizeRequest,
          response: { 202: Run, ...errors },
        },
      },
      async (request, reply) => {
        deps.runCreateLimiter.hit(request.clientKey);
        return reply.code(202).send(await engine.optimize(request.params.id, request.body));
      },
    );

    app.get(
      '/v1/repos/:id/runs',
      {
        schema: {
          tags: ['optimizer'],
          summary: "A repository's runs, newest first (agent runs and optimization stages)",
          params: RepoIdParams,
          querystring: ListRunsQuery,
          response: { 200: RunList, ...errors },
        },
      },
      async (request) => {
        await deps.repos.get(request.params.id);
        return engine.listRuns({ ...request.query, repoId: request.params.id });
      },
    );

    app.get(
      '/v1/repos/:id/opportunities',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'What the scan of an optimization found, ranked (hot paths first)',
          params: RepoIdParams,
          querystring: OpportunitiesQuery,
          response: { 200: OpportunityList, ...errors },
        },
      },
      async (request) => {
        const found = await latestStageArtifact(
          request.params.id,
          'scan',
          'opportunities.json',
          request.query.optimizationId,
        );
        return {
          optimizationId: found.optimizationId,
          runId: found.runId,
          opportunities: Opportunity.array().parse(found.value),
        };
      },
    );

    app.get(
      '/v1/repos/:id/attempts',
      {
        schema: {
          tags: ['optimizer'],
          summary:
            "Every candidate of an optimization's validation with its outcome and reason (rejected ones included)",
          params: RepoIdParams,
          querystring: OpportunitiesQuery,
          response: { 200: AttemptList, ...errors },
        },
      },
      async (request) => {
        const found = await latestStageArtifact(
          request.params.id,
          'validate',
          'attempts.json',
          request.query.optimizationId,
        );
        return {
          optimizationId: found.optimizationId,
          runId: found.runId,
          attempts: StoredAttempt.array()
            .parse(found.value)
            .map((a) => ({
              rule: a.opportunity.rule,
              file: a.opportunity.file,
              line: a.opportunity.line,
              candidateId: a.candidateId,
              outcome: a.outcome,
              reason: a.reason,
            })),
        };
      },
    );

    app.get(
      '/v1/proposals',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'Proven speedups, newest first',
          querystring: ListProposalsQuery,
          response: { 200: ProposalList, ...errors },
        },
      },
      async (request) => {
        const { limit, cursor, repoId, optimizationId } = request.query;
        const rows = await store.proposals.list({
          limit: limit + 1,
          ...(cursor ? { before: cursor } : {}),
          ...(repoId ? { repoId } : {}),
          ...(optimizationId ? { optimizationId } : {}),
        });
        const page = rows.slice(0, limit);
        return {
          proposals: page.map(({ diff: _d, timeline: _t, ...p }) => p),
          nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
        };
      },
    );

    app.get(
      '/v1/proposals/:id',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'A proposal: diff, metrics with samples and bounds, timeline, artifacts',
          params: z.object({ id: z.string().min(1).max(100) }),
          response: { 200: StoredProposal, ...errors },
        },
      },
      async (request) => {
        const proposal = await store.proposals.get(request.params.id);
        if (!proposal) {
          throw new PatchbayError('PROPOSAL_NOT_FOUND', `no proposal ${request.params.id}`);
        }
        const artifacts = await store.artifacts.list({ optimizationId: proposal.optimizationId });
        return {
          ...proposal,
          artifacts: artifacts.map((a) => ({ id: a.id, name: a.name, runId: a.runId })),
        };
      },
    );

    app.get(
      '/v1/artifacts',
      {
        schema: {
          tags: ['optimizer'],
          summary: "A run's or an optimization's artifacts",
          querystring: ListArtifactsQuery,
          response: { 200: z.object({ artifacts: z.array(Artifact) }), ...errors },
        },
      },
      async (request) => {
        const { runId, optimizationId } = request.query;
        const artifacts = await store.artifacts.list({
          ...(runId ? { runId } : {}),
          ...(optimizationId ? { optimizationId } : {}),
        });
        return { artifacts: artifacts.map(publicArtifact) };
      },
    );

    app.get(
      '/v1/artifacts/:id',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'Download an artifact',
          params: ArtifactIdParams,
          response: { ...errors },
        },
      },
      async (request, reply) => sendArtifact(reply, await getArtifact(request.params.id)),
    );

    app.get(
      '/v1/artifacts/:id/url',
      {
        schema: {
          tags: ['optimizer'],
          summary: 'An expiring signed URL of an artifact, to fetch it without a token',
          params: ArtifactIdParams,
          querystring: ArtifactUrlQuery,
          response: { 200: ArtifactUrl, ...errors },
        },
      },
      async (request) => {
        const artifact = await getArtifact(request.params.id);
        const ttlMs = (request.query.ttlSeconds ?? 0) * 1000 || config.artifactUrlTtlMs;
        const expiresAt = new Date(Date.now() + ttlMs);
        const path = signArtifactUrl(signingKey(), artifact.id, expiresAt);
        const origin = linkOrigin(config, guard, request);
        return {
          url: `${origin}${path}`,
          path,
          expiresAt: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000).toISOString(),
        };
      },
    );

    app.get(
      `${SIGNED_ARTIFACT_PREFIX}:id`,
      {
        schema: {
          tags: ['optimizer'],
          summary: 'Download an artifact through a signed URL (no token: the signature is the key)',
          params: ArtifactIdParams,
          querystring: SignedQuery,
          response: { ...errors },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        assertArtifactId(id);
        verifyArtifactUrl(signingKey(), id, request.query.expires, request.query.sig);
        return sendArtifact(reply, await getArtifact(id));
      },
    );
  };
}
