import { budgetOf, getJson, joinUrl, type ProviderAdapter } from './provider.js';

interface GeminiModelList {
  models?: {
    name: string;
    displayName?: string;
    inputTokenLimit?: number;
    supportedGenerationMethods?: string[];
  }[];
}

/** Google Gemini's Generative Language API (`:streamGenerateContent?alt=sse`). */
export const geminiProvider: ProviderAdapter = {
  name: 'gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  defaultModel: 'gemini-2.5-flash',
  priceTableId: 'google',
  async createModel(endpoint, modelId) {
    const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
    return createGoogleGenerativeAI({ apiKey: endpoint.apiKey, baseURL: endpoint.baseUrl })(
      modelId,
    );
  },
  reasoningOptions(reasoning) {
    return {
      google: { thinkingConfig: { thinkingBudget: budgetOf(reasoning), includeThoughts: true } },
    };
  },
  async listModels(endpoint, signal) {
    const body = (await getJson(
      joinUrl(endpoint.baseUrl, '/models?pageSize=1000'),
      { 'x-goog-api-key': endpoint.apiKey ?? '' },
      signal,
    )) as GeminiModelList;
    return (body.models ?? [])
      .filter((m) => m.supportedGenerationMethods?.includes('generateContent') ?? true)
      .map((m) => ({
        id: m.name.replace(/^models\//, ''),
        ...(m.displayName !== undefined && { name: m.displayName }),
        ...(m.inputTokenLimit !== undefined && { contextWindow: m.inputTokenLimit }),
      }));
  },
};
