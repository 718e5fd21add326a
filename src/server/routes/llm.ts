import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ErrorBody,
  ListLlmCallsQuery,
  LlmCallList,
  LlmModelList,
  RunIdParams,
} from '../../contracts/index.js';
import { createModelCatalog } from '../../llm/index.js';
import type { ServerDeps } from '../deps.js';

/** Model providers: what is configured and what each offers, with prices. */
export function llmRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const catalog = createModelCatalog(deps.config);
  return async (app) => {
    app.get(
      '/v1/llm/models',
      {
        schema: {
          tags: ['llm'],
          summary:
            "The configured model providers and their models (from the provider's list endpoint, else the price table's), with context window and USD per million tokens",
          response: { 200: LlmModelList, 401: ErrorBody },
        },
      },
      async () => catalog.list(),
    );

    app.get(
      '/v1/llm/calls',
      {
        schema: {
          tags: ['llm'],
          summary:
            'The ledger of model calls, newest first: tokens by kind, USD, latency and outcome of each, by run, repository and time',
          querystring: ListLlmCallsQuery,
          response: { 200: LlmCallList, 400: ErrorBody, 401: ErrorBody },
        },
      },
      async (request) => {
        const { runId, repo, since, limit, cursor } = request.query;
        const rows = await deps.store.llmCalls.list({
          ...(runId !== undefined && { runId }),
          ...(repo !== undefined && { repoId: repo }),
          // Stored as UTC ISO text: an offset is turned into UTC before comparing.
          ...(since !== undefined && { since: new Date(since).toISOString() }),
          ...(cursor !== undefined && { before: cursor }),
          limit: limit + 1,
        });
        const calls = rows.slice(0, limit);
        return {
          calls,
          nextCursor: rows.length > limit ? calls[calls.length - 1]!.id : null,
        };
      },
    );

    app.get(
      '/v1/runs/:id/llm-calls',
      {
        schema: {
          tags: ['runs', 'llm'],
          summary: "A run's model calls from the ledger, oldest first (the llm agent's own calls)",
          params: RunIdParams,
          response: { 200: LlmCallList, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        await deps.engine.getRun(request.params.id); // RUN_NOT_FOUND
        return {
          calls: await deps.store.llmCalls.listByRun(request.params.id),
          nextCursor: null,
        };
      },
    );
  };
}
