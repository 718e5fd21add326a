import type { LanguageModel } from 'ai';
import type { LlmProviderName } from '../../contracts/index.js';
import type { LlmReasoning } from '../types.js';

/** What a provider needs from the settings: where it is and how to authenticate. */
export interface ProviderEndpoint {
  baseUrl: string;
  /** Undefined only for an OpenAI-compatible server that wants no key. */
  apiKey: string | undefined;
}

/** A model the provider's list endpoint named, with what that list told about it. */
export interface ListedModel {
  id: string;
  name?: string;
  contextWindow?: number;
}

/**
 * One provider behind the common interface: how to make a model of it (through the AI SDK),
 * how it takes reasoning options, which price table prices it, how to list its models.
 * Each lives in its own file beside this one.
 */
export interface ProviderAdapter {
  readonly name: LlmProviderName;
  /** The default base URL (the settings may name another). */
  readonly defaultBaseUrl: string | undefined;
  /** Model used when neither the request, the repository nor the settings name one. */
  readonly defaultModel: string | undefined;
  /** Provider id in @pydantic/genai-prices; undefined: calls are not priced. */
  readonly priceTableId: string | undefined;
  /** Loads the provider's AI SDK package on first use: servers without LLM calls never do. */
  createModel(endpoint: ProviderEndpoint, modelId: string): Promise<LanguageModel>;
  /** The AI SDK's `providerOptions` for this reasoning request. */
  reasoningOptions(reasoning: LlmReasoning): Record<string, Record<string, unknown>>;
  /** The provider's list endpoint; throws when it fails. */
  listModels(endpoint: ProviderEndpoint, signal: AbortSignal): Promise<ListedModel[]>;
}

/** Budget of thinking tokens for an effort, for providers that take a budget. */
export function budgetOf(reasoning: LlmReasoning): number {
  if (reasoning.budgetTokens !== undefined) return reasoning.budgetTokens;
  return { low: 2_048, medium: 8_192, high: 24_576 }[reasoning.effort ?? 'medium'];
}

/** Effort for providers that take an effort, from a budget when only that was given. */
export function effortOf(reasoning: LlmReasoning): 'low' | 'medium' | 'high' {
  if (reasoning.effort) return reasoning.effort;
  const budget = reasoning.budgetTokens ?? 8_192;
  return budget <= 2_048 ? 'low' : budget <= 8_192 ? 'medium' : 'high';
}

/** GET a provider's JSON list endpoint; throws with the status on a non-2xx answer. */
export async function getJson(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<unknown> {
  const res = await fetch(url, { headers, signal, redirect: 'error' });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
  }
  return res.json();
}

/** `base` + `/path`, whether or not `base` ends in a slash. */
export const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`;
