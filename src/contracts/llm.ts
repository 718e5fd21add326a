import { z } from 'zod';

/**
 * Model providers and what `GET /v1/llm/models` answers. `openai-compatible` is any server
 * speaking OpenAI's Chat Completions at a base URL of its own (Ollama, vLLM, LM Studio).
 */
export const LlmProviderName = z.enum(['openai', 'anthropic', 'gemini', 'openai-compatible']);
export type LlmProviderName = z.infer<typeof LlmProviderName>;

/**
 * A repository's choice of provider and model, in its settings (`PATCH /v1/repos/:id`) or in
 * `.patchbay.json` under `llm`; the settings win over the file, both over the server's default.
 *
 * @example
 *   { "llm": { "provider": "anthropic", "model": "claude-sonnet-4-5" } }
 */
export const LlmRepoSettings = z.strictObject({
  provider: LlmProviderName.optional(),
  model: z.string().trim().min(1).max(200).optional(),
});
export type LlmRepoSettings = z.infer<typeof LlmRepoSettings>;

const usdPerMtok = z.number().nullable();

const TokenPrices = z.object({
  input: usdPerMtok.describe('USD per million uncached input tokens.'),
  output: usdPerMtok.describe('USD per million output tokens (reasoning included).'),
  cacheRead: usdPerMtok.describe('USD per million input tokens read from the cache.'),
  cacheWrite: usdPerMtok.describe('USD per million input tokens written to the cache.'),
});

export const LlmModelPrices = TokenPrices.extend({
  tiers: z
    .array(
      TokenPrices.extend({
        fromInputTokens: z
          .number()
          .int()
          .describe('The tier applies to a whole call whose input exceeds this many tokens.'),
      }),
    )
    .describe('Long-context prices, cheapest threshold first.'),
});
export type LlmModelPrices = z.infer<typeof LlmModelPrices>;

export const LlmModel = z.object({
  id: z.string(),
  name: z.string().nullable(),
  contextWindow: z.number().int().nullable(),
  /** Null when the price table does not know the model (local models cost nothing here). */
  prices: LlmModelPrices.nullable(),
});
export type LlmModel = z.infer<typeof LlmModel>;

export const LlmProviderModels = z.object({
  provider: LlmProviderName,
  /** True for the provider calls use when neither the request nor the repository names one. */
  isDefault: z.boolean(),
  defaultModel: z.string().nullable(),
  baseUrl: z.string(),
  /** `provider`: from the provider's own list endpoint; `known`: Patchbay's price table. */
  source: z.enum(['provider', 'known']),
  /** Why the list endpoint could not be used (the known list is shown instead). */
  listError: z.string().nullable(),
  models: z.array(LlmModel),
});
export type LlmProviderModels = z.infer<typeof LlmProviderModels>;

export const LlmModelList = z.object({ providers: z.array(LlmProviderModels) });
export type LlmModelList = z.infer<typeof LlmModelList>;

/** One model call as the ledger keeps it. */
export const LlmCall = z.object({
  id: z.string(),
  runId: z.string().nullable(),
  repoId: z.string().nullable(),
  purpose: z.string().describe('What the call was for: `agent`, `optimizer.discover`…'),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().describe('Every input token, cache reads and writes included.'),
  outputTokens: z.number().int().describe('Every output token, reasoning included.'),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  reasoningTokens: z.number().int(),
  costUsd: z.number().nullable().describe('Null when the price table does not know the model.'),
  latencyMs: z.number().int(),
  attempts: z.number().int(),
  outcome: z.string().describe('`succeeded`, or the error code the call ended with.'),
  rawUsage: z.unknown().describe("The provider's usage object, as it came."),
  createdAt: z.string(),
});
export type LlmCall = z.infer<typeof LlmCall>;

export const ListLlmCallsQuery = z
  .object({
    runId: z.string().min(1).max(100).optional(),
    repo: z.string().min(1).max(100).optional().describe('Repository id.'),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Calls made at or after this time.'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
  })
  .strict();
export type ListLlmCallsQuery = z.infer<typeof ListLlmCallsQuery>;

export const LlmCallList = z.object({
  calls: z.array(LlmCall).describe('Newest first.'),
  nextCursor: z.string().nullable(),
});
export type LlmCallList = z.infer<typeof LlmCallList>;
