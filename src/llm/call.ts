/**
 * One model call through the AI SDK, streamed, with bounded retries. A try that fails before
 * anything was streamed is tried again when the failure is retryable (429, 5xx, 529, a dropped
 * connection), after the provider's `retry-after` or an exponential backoff; once text has
 * reached the caller a failure ends the call, since the caller already acted on it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LanguageModelUsage } from 'ai';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { classifyError, type CallContext } from './errors.js';
import { toModelMessages, toToolSet } from './messages.js';
import type { ProviderAdapter, ProviderEndpoint } from './providers/provider.js';
import type { LlmFinishReason, LlmRequest, LlmStreamPart, LlmToolCall, LlmUsage } from './types.js';

// Warnings go to our logger (below), never to the console.
globalThis.AI_SDK_LOG_WARNINGS = false;

export interface RetryPolicy {
  maxRetries: number;
  /** Longest wait before a retry; a longer `retry-after` ends the call at once. */
  maxDelayMs: number;
  /** First backoff; doubles each retry (with jitter). */
  baseDelayMs: number;
  timeoutMs: number;
}

/** What the caller learns about a call whatever its outcome (for the ledger). */
export interface CallProgress {
  attempts: number;
  usage: LlmUsage | undefined;
}

export const emptyUsage = (): LlmUsage => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  raw: null,
});

function usageOf(u: LanguageModelUsage): LlmUsage {
  return {
    input: u.inputTokens ?? 0,
    output: u.outputTokens ?? 0,
    cacheRead: u.inputTokenDetails?.cacheReadTokens ?? u.cachedInputTokens ?? 0,
    cacheWrite: u.inputTokenDetails?.cacheWriteTokens ?? 0,
    reasoning: u.outputTokenDetails?.reasoningTokens ?? u.reasoningTokens ?? 0,
    raw: u.raw ?? null,
  };
}

function finishReasonOf(reason: string): LlmFinishReason {
  return reason === 'stop' ||
    reason === 'length' ||
    reason === 'tool-calls' ||
    reason === 'content-filter'
    ? reason
    : 'other';
}

export interface TryOutcome {
  text: string;
  reasoning: string;
  toolCalls: LlmToolCall[];
  finishReason: LlmFinishReason;
  usage: LlmUsage;
}

interface CallInput {
  adapter: ProviderAdapter;
  endpoint: ProviderEndpoint;
  model: string;
  request: LlmRequest;
  policy: RetryPolicy;
  context: CallContext;
  log: Logger;
  progress: CallProgress;
}

/** One try: yields deltas, returns the whole outcome; throws the raw failure. */
async function* oneTry(
  input: CallInput,
  signal: AbortSignal,
): AsyncGenerator<LlmStreamPart, TryOutcome> {
  const { adapter, endpoint, model, request } = input;
  // The AI SDK loads with the first call, so a server that makes none never carries it.
  const { streamText } = await import('ai');
  const tools = await toToolSet(request.tools);
  const result = streamText({
    model: await adapter.createModel(endpoint, model),
    messages: toModelMessages(request.messages),
    // System messages come only from our own code (never from a model or a tool result):
    // allowed, so the SDK does not print its warning into every stage's and agent's stderr.
    allowSystemInMessages: true,
    ...(tools && { tools }),
    ...(request.maxOutputTokens !== undefined && { maxOutputTokens: request.maxOutputTokens }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.reasoning && {
      providerOptions: adapter.reasoningOptions(request.reasoning) as never,
    }),
    // Retries are ours (retry-after, bounds, error codes); the SDK's would hide them.
    maxRetries: 0,
    abortSignal: signal,
    onError: () => {},
  });
  let text = '';
  let reasoning = '';
  const toolCalls: LlmToolCall[] = [];
  let usage: LlmUsage | undefined;
  let finishReason: LlmFinishReason = 'other';
  for await (const part of result.fullStream) {
    switch (part.type) {
      case 'text-delta':
        text += part.text;
        yield { type: 'text', text: part.text };
        break;
      case 'reasoning-delta':
        reasoning += part.text;
        yield { type: 'reasoning', text: part.text };
        break;
      case 'tool-call': {
        const call = { id: part.toolCallId, name: part.toolName, input: part.input };
        toolCalls.push(call);
        yield { type: 'tool_call', call };
        break;
      }
      case 'start-step':
        if (part.warnings.length > 0)
          input.log.debug({ warnings: part.warnings }, 'llm call warnings');
        break;
      case 'finish-step':
        usage = usageOf(part.usage);
        input.progress.usage = usage;
        finishReason = finishReasonOf(part.finishReason);
        break;
      case 'error':
        throw part.error;
      case 'abort':
        throw signal.reason ?? new Error('aborted');
      default:
        break;
    }
  }
  if (usage === undefined) throw new Error('the stream ended without a finish event');
  return { text, reasoning, toolCalls, finishReason, usage };
}

/** Backoff before retry `n` (1-based): base × 2^(n-1), ±20 % jitter. */
const backoff = (policy: RetryPolicy, n: number): number =>
  policy.baseDelayMs * 2 ** (n - 1) * (0.8 + Math.random() * 0.4);

/**
 * The call with its retries. Yields deltas and returns the outcome of the try that succeeded;
 * throws a PatchbayError (LLM_*), or the caller's abort reason when its signal fired.
 */
export async function* callWithRetries(
  input: CallInput,
): AsyncGenerator<LlmStreamPart, TryOutcome> {
  const { policy, request } = input;
  for (let attempt = 1; ; attempt++) {
    input.progress.attempts = attempt;
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let streamed = false;
    try {
      const gen = oneTry(input, signal);
      for (;;) {
        const next = await gen.next();
        if (next.done) return next.value;
        streamed = true;
        yield next.value;
      }
    } catch (err) {
      if (request.signal?.aborted) throw request.signal.reason ?? err;
      if (timeout.aborted) {
        throw new PatchbayError(
          'LLM_BAD_RESPONSE',
          `${input.context.provider} (${input.model}): no complete answer within ${policy.timeoutMs} ms (PATCHBAY_LLM_TIMEOUT_MS)`,
          { provider: input.context.provider, model: input.model, timeoutMs: policy.timeoutMs },
        );
      }
      const { error, retryable, retryAfterMs } = classifyError(err, input.context);
      if (!retryable || streamed || attempt > policy.maxRetries) throw error;
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxDelayMs) throw error;
      const delay = Math.min(retryAfterMs ?? backoff(policy, attempt), policy.maxDelayMs);
      input.log.warn(
        {
          provider: input.context.provider,
          model: input.model,
          code: error.code,
          attempt,
          delayMs: Math.round(delay),
        },
        'llm call failed, retrying',
      );
      await sleep(delay, undefined, request.signal ? { signal: request.signal } : undefined);
    }
  }
}
