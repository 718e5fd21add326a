import type { ResolvedConfig } from '../../config/index.js';
import type { LlmProviderName } from '../../contracts/index.js';
import { anthropicProvider } from './anthropic.js';
import { geminiProvider } from './gemini.js';
import { openaiCompatibleProvider } from './openai-compatible.js';
import { openaiProvider } from './openai.js';
import type { ProviderAdapter, ProviderEndpoint } from './provider.js';

/** Every provider, in the order the default is picked when PATCHBAY_LLM_PROVIDER is unset. */
export const providerAdapters: Record<LlmProviderName, ProviderAdapter> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  'openai-compatible': openaiCompatibleProvider,
};

export type LlmConfig = Pick<
  ResolvedConfig,
  | 'llmProvider'
  | 'llmModel'
  | 'openaiApiKey'
  | 'openaiBaseUrl'
  | 'anthropicApiKey'
  | 'anthropicBaseUrl'
  | 'geminiApiKey'
  | 'geminiBaseUrl'
  | 'llmBaseUrl'
  | 'llmApiKey'
  | 'llmMaxRetries'
  | 'llmMaxRetryDelayMs'
  | 'llmTimeoutMs'
>;

/**
 * Where a provider is and its key, when it is configured: a hosted provider needs its key, an
 * OpenAI-compatible server its base URL.
 */
export function endpointOf(config: LlmConfig, name: LlmProviderName): ProviderEndpoint | undefined {
  const hosted = (apiKey: string | undefined, baseUrl: string | undefined) =>
    apiKey === undefined
      ? undefined
      : { apiKey, baseUrl: baseUrl ?? providerAdapters[name].defaultBaseUrl! };
  switch (name) {
    case 'openai':
      return hosted(config.openaiApiKey, config.openaiBaseUrl);
    case 'anthropic':
      return hosted(config.anthropicApiKey, config.anthropicBaseUrl);
    case 'gemini':
      return hosted(config.geminiApiKey, config.geminiBaseUrl);
    case 'openai-compatible':
      return config.llmBaseUrl === undefined
        ? undefined
        : { baseUrl: config.llmBaseUrl, apiKey: config.llmApiKey };
  }
}

/** The providers configured, in order. */
export function configuredProviders(config: LlmConfig): LlmProviderName[] {
  return (Object.keys(providerAdapters) as LlmProviderName[]).filter(
    (name) => endpointOf(config, name) !== undefined,
  );
}

/** The provider of calls that name none: PATCHBAY_LLM_PROVIDER, else the first configured. */
export function defaultProvider(config: LlmConfig): LlmProviderName | undefined {
  return config.llmProvider ?? configuredProviders(config)[0];
}

/** Every key the settings hold: never logged, redacted from error messages. */
export function llmSecrets(config: LlmConfig): string[] {
  return [
    config.openaiApiKey,
    config.anthropicApiKey,
    config.geminiApiKey,
    config.llmApiKey,
  ].filter((k): k is string => k !== undefined);
}
