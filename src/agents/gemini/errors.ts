import type { ErrorCode } from '../../contracts/index.js';
import { errorCodeFor, isObject, num, str } from '../stream-json.js';

/** What a failed Gemini result says, in Patchbay's terms. */
export interface GeminiFailure {
  code: ErrorCode;
  /** The provider's own words (the inner message of an `[API Error: …]`). */
  message: string;
  retryAfterMs?: number;
}

/** The Gemini API's context-window refusal (400 INVALID_ARGUMENT). */
const INPUT_TOO_LONG = /input token count.*exceeds the maximum number of tokens/i;
const AUTH =
  /\b(UNAUTHENTICATED|PERMISSION_DENIED)\b|API key not valid|invalid authentication credentials/i;
const RATE = /\bRESOURCE_EXHAUSTED\b|exceeded your current quota|rate limit|Suggested retry after/i;
const PROVIDER = /\b(INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED)\b|model is overloaded/i;

/** The first balanced `{…}` in `text` from `start`, parsed; undefined if there is none. */
function jsonAt(text: string, start: number): unknown {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** "2s", "1.5s" (a google.protobuf.Duration in JSON) → milliseconds. */
function durationMs(value: unknown): number | undefined {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(str(value));
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/**
 * Classifies the message of a failed `result` (gemini-cli 0.61 prints
 * `[API Error: <Google's error body or its message>]`, sometimes followed by advice). The
 * HTTP status decides when the body carries one; otherwise its words do.
 */
export function classifyGeminiError(text: string): GeminiFailure {
  let status: number | undefined;
  let statusName = '';
  let message = text.trim();
  let retryAfterMs: number | undefined;
  const prefix = /^\[API Error: /.exec(message);
  if (prefix) {
    const brace = message.indexOf('{', prefix[0].length);
    const body = brace === prefix[0].length ? jsonAt(message, brace) : undefined;
    const error = isObject(body) && isObject(body.error) ? body.error : undefined;
    if (error) {
      status = num(error.code);
      statusName = str(error.status);
      message = str(error.message) || message;
      for (const detail of Array.isArray(error.details) ? error.details : []) {
        if (isObject(detail) && str(detail['@type']).endsWith('google.rpc.RetryInfo')) {
          retryAfterMs = durationMs(detail.retryDelay);
        }
      }
    } else {
      // `[API Error: <message>]` and maybe advice after it: the message is what matters.
      const end = message.lastIndexOf(']');
      message = message.slice(prefix[0].length, end > 0 ? end : undefined).trim();
    }
  }
  const suggested = /Suggested retry after (\d+(?:\.\d+)?)s/.exec(text);
  retryAfterMs ??= suggested ? Math.round(Number(suggested[1]) * 1000) : undefined;
  const said = `${statusName} ${message}`;
  const withStatus = status ? `${status} ${statusName || 'error'}: ${message}` : message;
  const failure = (code: ErrorCode): GeminiFailure => ({
    code,
    message: withStatus,
    ...(code === 'AGENT_RATE_LIMITED' && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
  if (INPUT_TOO_LONG.test(said) || errorCodeFor(said) === 'AGENT_CONTEXT_WINDOW_EXCEEDED') {
    return failure('AGENT_CONTEXT_WINDOW_EXCEEDED');
  }
  if (status === 401 || status === 403 || (status === undefined && AUTH.test(said))) {
    return failure('AGENT_AUTH_FAILED');
  }
  if (status === 429 || (status === undefined && RATE.test(said))) {
    return failure('AGENT_RATE_LIMITED');
  }
  if ((status !== undefined && status >= 500) || (status === undefined && PROVIDER.test(said))) {
    return failure('AGENT_PROVIDER_ERROR');
  }
  return failure('AGENT_RESULT_ERROR');
}

/**
 * A retry notice gemini-cli prints on stderr while it backs off (`Attempt 2 failed with
 * status 503. Retrying with backoff...`, `Attempt 1 failed: <message>. Retrying after
 * 2150ms...`), or undefined for any other line.
 */
export function parseRetryNotice(
  line: string,
): { attempt: number; status?: number; delayMs?: number; message: string } | undefined {
  const match =
    /^Attempt (\d+) failed(?: with status (\d+))?(?::\s*(.*?))?\.? Retrying (?:after (\d+)ms|with backoff)/s.exec(
      line.trim(),
    );
  if (!match) return undefined;
  return {
    attempt: Number(match[1]),
    ...(match[2] ? { status: Number(match[2]) } : {}),
    ...(match[4] ? { delayMs: Number(match[4]) } : {}),
    message: line.trim(),
  };
}
