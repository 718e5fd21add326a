/**
 * Provider failures as catalog errors. The AI SDK throws `APICallError` (status, headers,
 * body) for an HTTP error and plain errors for a broken stream; both become one of the LLM_*
 * codes, with every key the settings hold redacted from the message.
 */
import type { APICallError } from 'ai';
import { PatchbayError, isPatchbayError, type ErrorCode } from '../contracts/index.js';
import { scrubText } from '../observability/index.js';
import type { LlmProviderName } from '../contracts/index.js';

/** Phrases providers use when the prompt does not fit (OpenAI, Anthropic, Gemini, vLLM, Ollama). */
const CONTEXT_TOO_LONG =
  /context[_ ]length|context window|prompt is too long|too many tokens|maximum context|input token count|exceeds the maximum number of tokens|maximum number of tokens|input is too long/i;
const OVERLOADED = /overloaded/i;
const BAD_KEY = /API key not valid|API_KEY_INVALID|invalid api key/i;

/**
 * The AI SDK's HTTP error, recognised by its name so this module does not load the SDK
 * (`APICallError.isInstance` would).
 */
function isApiCallError(err: unknown): err is APICallError {
  return err instanceof Error && err.name === 'AI_APICallError';
}

/** What a failed try means for the next one. */
export interface ClassifiedError {
  error: PatchbayError;
  retryable: boolean;
  /** What the provider asked for (`retry-after-ms`, `retry-after`), when it did. */
  retryAfterMs: number | undefined;
}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date. */
export function retryAfterOf(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) =>
    Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = get('retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error message a provider put in its body (`{error:{message}}` in all three APIs). */
function bodyMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
    };
    if (typeof parsed.error === 'object' && typeof parsed.error?.message === 'string')
      return parsed.error.message;
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return body.slice(0, 300);
}

export interface CallContext {
  provider: LlmProviderName;
  model: string;
  secrets: readonly string[];
}

function make(
  code: ErrorCode,
  context: CallContext,
  what: string,
  extra: Record<string, unknown>,
  cause: unknown,
): PatchbayError {
  const message = scrubText(`${context.provider} (${context.model}): ${what}`, context.secrets);
  return new PatchbayError(
    code,
    message,
    { provider: context.provider, model: context.model, ...extra },
    // The cause carries request bodies and headers: keep it out of anything serialised.
    {
      cause:
        cause instanceof Error ? new Error(scrubText(cause.message, context.secrets)) : undefined,
    },
  );
}

/** Maps one failed try to its catalog code and whether to try again. */
export function classifyError(err: unknown, context: CallContext): ClassifiedError {
  if (isPatchbayError(err)) return { error: err, retryable: false, retryAfterMs: undefined };
  if (isApiCallError(err)) {
    const status = err.statusCode;
    const detail = bodyMessage(err.responseBody) ?? err.message;
    const retryAfterMs = retryAfterOf(err.responseHeaders);
    const extra = {
      status,
      ...(retryAfterMs !== undefined && {
        retryAfterMs,
        retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      }),
    };
    // Gemini answers a bad key with 400 INVALID_ARGUMENT "API key not valid".
    if (status === 401 || status === 403 || (status === 400 && BAD_KEY.test(detail)))
      return {
        error: make(
          'LLM_AUTH_FAILED',
          context,
          `the API key was refused (${status}): ${detail}`,
          extra,
          err,
        ),
        retryable: false,
        retryAfterMs,
      };
    if (status === 429)
      return {
        error: make('LLM_RATE_LIMITED', context, `rate limited (429): ${detail}`, extra, err),
        retryable: true,
        retryAfterMs,
      };
    if ((status === 400 || status === 413) && CONTEXT_TOO_LONG.test(detail))
      return {
        error: make('LLM_CONTEXT_TOO_LONG', context, detail, extra, err),
        retryable: false,
        retryAfterMs,
      };
    if (status !== undefined && (status >= 500 || status === 408 || status === 409))
      return {
        error: make(
          'LLM_OVERLOADED',
          context,
          `the provider failed (${status}): ${detail}`,
          extra,
          err,
        ),
        retryable: true,
        retryAfterMs,
      };
    if (status === undefined)
      return {
        error: make('LLM_OVERLOADED', context, `the connection failed: ${detail}`, extra, err),
        retryable: true,
        retryAfterMs,
      };
    return {
      error: make(
        'LLM_BAD_RESPONSE',
        context,
        `unexpected answer (${status}): ${detail}`,
        extra,
        err,
      ),
      retryable: false,
      retryAfterMs,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  // An error inside the stream: Anthropic's `overloaded_error` event, a provider's error chunk.
  if (OVERLOADED.test(message) || /"type"\s*:\s*"overloaded_error"/.test(JSON.stringify(err)))
    return {
      error: make('LLM_OVERLOADED', context, `overloaded: ${message}`, {}, err),
      retryable: true,
      retryAfterMs: undefined,
    };
  if (CONTEXT_TOO_LONG.test(message))
    return {
      error: make('LLM_CONTEXT_TOO_LONG', context, message, {}, err),
      retryable: false,
      retryAfterMs: undefined,
    };
  // fetch's own failures (refused, reset) before any answer: worth another try.
  const network =
    err instanceof TypeError &&
    /fetch failed|network|socket|ECONNRE/i.test(message + String(err.cause));
  return {
    error: make(network ? 'LLM_OVERLOADED' : 'LLM_BAD_RESPONSE', context, message, {}, err),
    retryable: network,
    retryAfterMs: undefined,
  };
}
