/**
 * The provider-neutral shapes of a model call: what goes in (messages, tools, reasoning) and
 * what comes out (text, reasoning, tool calls, usage). Every provider speaks these; nothing
 * outside src/llm/ sees a provider's own format.
 */
import type { LlmProviderName } from '../contracts/index.js';

/** A tool the model may call. `parameters` is a JSON Schema object describing its input. */
export interface LlmTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A call the model asked for; `id` pairs it with its result. */
export interface LlmToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** What a tool answered; `isError` tells the model the call failed (it may try again). */
export interface LlmToolResult {
  callId: string;
  name: string;
  output: string;
  isError?: boolean;
}

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: string;
      /** The model's reasoning text of that turn, when the caller keeps it. */
      reasoning?: string;
      toolCalls?: LlmToolCall[];
    }
  | { role: 'tool'; results: LlmToolResult[] };

/**
 * How much the model should think. `effort` is for OpenAI-style models; `budgetTokens` for
 * Anthropic and Gemini (a provider takes the one it understands, deriving it from the other).
 */
export interface LlmReasoning {
  effort?: 'low' | 'medium' | 'high';
  budgetTokens?: number;
}

/** Tokens of one call, by kind, as the provider reported them. */
export interface LlmUsage {
  /** Every input token, cache reads and cache writes included. */
  input: number;
  /** Every output token, reasoning included. */
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  /** The provider's usage object as it came (its own field names). */
  raw: unknown;
}

export interface LlmRequest {
  messages: LlmMessage[];
  tools?: LlmTool[];
  /** Provider and model; unset parts come from the repository, then the server's settings. */
  provider?: LlmProviderName;
  model?: string;
  reasoning?: LlmReasoning;
  maxOutputTokens?: number;
  temperature?: number;
  /** What the call is for, recorded in the ledger (`agent`, `optimizer.discover`…). */
  purpose: string;
  /** The run the call belongs to, if any (its ledger rows, its cost cap). */
  runId?: string | null;
  /** The repository it is made for: its model choice applies and its budget counts it. */
  repoId?: string | null;
  /**
   * The run's cap in USD: the call is refused with BUDGET_EXCEEDED when the ledger already
   * holds this much for `runId`. Checked before each call, so a run ends within one call of it.
   */
  maxCostUsd?: number;
  signal?: AbortSignal;
}

export type LlmFinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'other';

export interface LlmResult {
  provider: LlmProviderName;
  model: string;
  text: string;
  reasoning: string;
  toolCalls: LlmToolCall[];
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  /** Null when the price table does not know the model. */
  costUsd: number | null;
  latencyMs: number;
  /** Tries it took (1 without retries). */
  attempts: number;
}

/** What `stream` yields: deltas as they arrive, then the whole result (usage included). */
export type LlmStreamPart =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; call: LlmToolCall }
  | { type: 'finish'; result: LlmResult };

/** The one interface callers use, whichever provider answers. */
export interface LlmClient {
  /** One call, answered whole. */
  complete(request: LlmRequest): Promise<LlmResult>;
  /** One call, streamed; the last part is `finish` with the usage. */
  stream(request: LlmRequest): AsyncIterable<LlmStreamPart>;
}
