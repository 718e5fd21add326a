import { effortOf, getJson, joinUrl, type ProviderAdapter } from './provider.js';

interface ModelList {
  data?: { id: string }[];
}

/**
 * Any server speaking OpenAI's Chat Completions at PATCHBAY_LLM_BASE_URL: Ollama, vLLM,
 * LM Studio, llama.cpp's server. Usage is asked for in the stream (`stream_options`); such
 * models are not in the price table, so their calls cost nothing here.
 */
export const openaiCompatibleProvider: ProviderAdapter = {
  name: 'openai-compatible',
  defaultBaseUrl: undefined,
  defaultModel: undefined,
  priceTableId: undefined,
  async createModel(endpoint, modelId) {
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    return createOpenAICompatible({
      name: 'openai-compatible',
      baseURL: endpoint.baseUrl,
      ...(endpoint.apiKey !== undefined && { apiKey: endpoint.apiKey }),
      includeUsage: true,
    }).chatModel(modelId);
  },
  reasoningOptions(reasoning) {
    return { 'openai-compatible': { reasoningEffort: effortOf(reasoning) } };
  },
  async listModels(endpoint, signal) {
    const headers: Record<string, string> = {};
    if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
    const body = (await getJson(
      joinUrl(endpoint.baseUrl, '/models'),
      headers,
      signal,
    )) as ModelList;
    return (body.data ?? []).map((m) => ({ id: m.id }));
  },
};
