import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody, LlmModelList } from '../../contracts/index.js';
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
  };
}
