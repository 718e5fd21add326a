/**
 * The configured providers and their models, for `GET /v1/llm/models`: the provider's list
 * endpoint where it answers (cached for a few minutes), else the models the price table
 * knows; each model with its context window and prices.
 */
import type { LlmModel, LlmModelList, LlmProviderModels } from '../contracts/index.js';
import { scrubText } from '../observability/index.js';
import { knownModel, knownModels } from './pricing.js';
import {
  configuredProviders,
  defaultProvider,
  endpointOf,
  llmSecrets,
  providerAdapters,
  type LlmConfig,
} from './providers/registry.js';

const CACHE_MS = 5 * 60_000;
const LIST_TIMEOUT_MS = 10_000;

export interface ModelCatalog {
  list(): Promise<LlmModelList>;
}

export function createModelCatalog(config: LlmConfig, now: () => number = Date.now): ModelCatalog {
  const cache = new Map<string, { at: number; value: LlmProviderModels }>();
  const secrets = llmSecrets(config);
  const fallback = defaultProvider(config);

  async function describe(name: keyof typeof providerAdapters): Promise<LlmProviderModels> {
    const adapter = providerAdapters[name];
    const endpoint = endpointOf(config, name)!;
    const defaultModel =
      (name === fallback ? config.llmModel : undefined) ?? adapter.defaultModel ?? null;
    let models: LlmModel[];
    let source: LlmProviderModels['source'] = 'provider';
    let listError: string | null = null;
    try {
      const listed = await adapter.listModels(endpoint, AbortSignal.timeout(LIST_TIMEOUT_MS));
      models = await Promise.all(
        listed.map(async (m) => {
          const known = await knownModel(adapter.priceTableId, m.id);
          return {
            id: m.id,
            name: m.name ?? known.name,
            contextWindow: m.contextWindow ?? known.contextWindow,
            prices: known.prices,
          };
        }),
      );
    } catch (err) {
      source = 'known';
      listError = scrubText(err instanceof Error ? err.message : String(err), secrets);
      models = await knownModels(adapter.priceTableId);
    }
    return {
      provider: name,
      isDefault: name === fallback,
      defaultModel,
      baseUrl: endpoint.baseUrl,
      source,
      listError,
      models: models.sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  return {
    async list() {
      const providers = await Promise.all(
        configuredProviders(config).map(async (name) => {
          const hit = cache.get(name);
          if (hit && now() - hit.at < CACHE_MS) return hit.value;
          const value = await describe(name);
          // A failed listing is asked again next time rather than remembered.
          if (value.source === 'provider') cache.set(name, { at: now(), value });
          return value;
        }),
      );
      return { providers };
    },
  };
}
