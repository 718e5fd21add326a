import { budgetOf, getJson, joinUrl, type ProviderAdapter } from './provider.js';

interface AnthropicModelList {
  data?: { id: string; display_name?: string }[];
}

/** Anthropic's Messages API (`/messages`, streamed as server-sent events). */
export const anthropicProvider: ProviderAdapter = {
  name: 'anthropic',
  defaultBaseUrl: 'https://api.anthropic.com/v1',
  defaultModel: 'claude-sonnet-4-5',
  priceTableId: 'anthropic',
  async createModel(endpoint, modelId) {
    const { createAnthropic } = await import('@ai-sdk/anthropic');
    return createAnthropic({ apiKey: endpoint.apiKey, baseURL: endpoint.baseUrl })(modelId);
  },
  reasoningOptions(reasoning) {
    return { anthropic: { thinking: { type: 'enabled', budgetTokens: budgetOf(reasoning) } } };
  },
  async listModels(endpoint, signal) {
    const body = (await getJson(
      joinUrl(endpoint.baseUrl, '/models?limit=1000'),
      { 'x-api-key': endpoint.apiKey ?? '', 'anthropic-version': '2023-06-01' },
      signal,
    )) as AnthropicModelList;
    return (body.data ?? []).map((m) => ({
      id: m.id,
      ...(m.display_name !== undefined && { name: m.display_name }),
    }));
  },
};
