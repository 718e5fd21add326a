import { effortOf, getJson, joinUrl, type ProviderAdapter } from './provider.js';

interface OpenAiModelList {
  data?: { id: string }[];
}

/**
 * OpenAI through Chat Completions (`/chat/completions`, streamed with usage). Chat Completions
 * rather than Responses: the same wire format as every OpenAI-compatible server, so one
 * scripted server proves both, and usage carries cached and reasoning tokens either way.
 */
export const openaiProvider: ProviderAdapter = {
  name: 'openai',
  defaultBaseUrl: 'https://api.openai.com/v1',
  defaultModel: 'gpt-5-mini',
  priceTableId: 'openai',
  async createModel(endpoint, modelId) {
    const { createOpenAI } = await import('@ai-sdk/openai');
    return createOpenAI({ apiKey: endpoint.apiKey, baseURL: endpoint.baseUrl }).chat(modelId);
  },
  reasoningOptions(reasoning) {
    return { openai: { reasoningEffort: effortOf(reasoning) } };
  },
  async listModels(endpoint, signal) {
    const body = (await getJson(
      joinUrl(endpoint.baseUrl, '/models'),
      { authorization: `Bearer ${endpoint.apiKey ?? ''}` },
      signal,
    )) as OpenAiModelList;
    return (body.data ?? []).map((m) => ({ id: m.id }));
  },
};
