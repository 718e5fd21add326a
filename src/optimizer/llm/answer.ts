/**
 * The model's answer as data: the JSON object it was asked for, with or without a Markdown
 * fence around it, checked against the shape the caller expects.
 */
import type { z } from 'zod';
import { PatchbayError, type LlmReasoning } from '../../contracts/index.js';
import type { LlmResult } from '../../llm/index.js';

/** The first `{…}` block of the text (fences and prose around it ignored). */
function jsonObjectIn(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1]! : text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  return JSON.parse(body.slice(start, end + 1)) as unknown;
}

/**
 * @throws PatchbayError LLM_BAD_RESPONSE when the answer is not the JSON object asked for.
 */
export function parseAnswer<T>(result: LlmResult, shape: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = jsonObjectIn(result.text);
  } catch (err) {
    throw new PatchbayError(
      'LLM_BAD_RESPONSE',
      `${result.provider}/${result.model} did not answer ${what} with JSON: ${(err as Error).message}`,
      { provider: result.provider, model: result.model },
    );
  }
  const parsed = shape.safeParse(value);
  if (!parsed.success) {
    throw new PatchbayError(
      'LLM_BAD_RESPONSE',
      `${result.provider}/${result.model} answered ${what} in the wrong shape: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
      { provider: result.provider, model: result.model },
    );
  }
  return parsed.data;
}

/** The evidence kept of one call: what it was for, the reasoning (or `fallback`), the cost. */
export function reasoningOf(purpose: string, result: LlmResult, fallback: string): LlmReasoning {
  return {
    purpose,
    provider: result.provider,
    model: result.model,
    reasoning: result.reasoning.trim() || fallback,
    inputTokens: result.usage.input,
    outputTokens: result.usage.output,
    reasoningTokens: result.usage.reasoning,
    costUsd: result.costUsd,
  };
}
