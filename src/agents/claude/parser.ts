import type { ErrorCode, PermissionDenial } from '../../contracts/index.js';
import {
  createJsonLineParser,
  initEvents,
  isObject,
  messageEvents,
  num,
  resultEvents,
  str,
  type Json,
} from '../stream-json.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from '../stream-parser.js';

/**
 * Parses `claude -p --output-format stream-json --verbose` (see
 * shared/reference/agent-cli-formats.md §1; checked against the real 2.1.332). Unknown types
 * and subtypes pass through.
 *
 * What the real CLI prints beyond the basic format, and how it is read here:
 * - `system/api_retry` {attempt, max_retries, retry_delay_ms, error_status, error} before each
 *   retry of a failed API call: a readable system message (the user sees it is waiting).
 * - `system/permission_denied` {tool_name, tool_use_id, message} the moment a tool use is
 *   refused: a system message and an AGENT_PERMISSION_DENIED `error` event; the result's
 *   `permission_denials` [{tool_name, tool_use_id, tool_input}] is the full list.
 * - an API failure is a synthetic assistant message (`model: "<synthetic>"`, `error`:
 *   authentication_failed | rate_limit | server_error | invalid_request | …) and a result with
 *   `is_error`, `api_error_status`, `api_error_type` and `terminal_reason` (`prompt_too_long`).
 * - the result's `usage` covers this run only, but `total_cost_usd` and `modelUsage` are the
 *   whole session's (a resumed run re-counts the earlier ones), and an interrupted turn reports
 *   `usage` 0 with its tokens only in `modelUsage`: usage is read from `modelUsage` with
 *   usageScope `session`, so the engine stores this run's share (and the session's figures).
 */
export function createClaudeParser(): StreamParser {
  // The latest API failure the stream announced (retry notices, synthetic error messages).
  let apiError = '';
  let retryAfterMs: number | undefined;
  const announced = new Set<string>();
  return createJsonLineParser((line, facts, raw) => {
    switch (line.type) {
      case 'system':
        switch (line.subtype) {
          case 'init':
            return initEvents(line, facts, raw);
          case 'api_retry': {
            const status = num(line.error_status);
            const delay = num(line.retry_delay_ms);
            if (status === 429 && delay !== undefined) retryAfterMs = delay;
            apiError = str(line.error) || apiError;
            return [{ type: 'message', data: retryNotice(line), raw }];
          }
          case 'permission_denied': {
            const denial = denialOf(line.tool_name, line.tool_input, line.message);
            if (str(line.tool_use_id)) announced.add(str(line.tool_use_id));
            const text = str(line.message) || `${denial.tool} was denied`;
            return [
              {
                type: 'message',
                data: { role: 'system', subtype: 'permission_denied', text, tool: denial.tool },
                raw,
              },
              deniedEvent(denial, text, raw),
            ];
          }
          default:
            return [{ type: 'message', data: systemNotice(line), raw }];
        }
      case 'assistant':
        if (str(line.error)) apiError = str(line.error);
        return messageEvents('assistant', line.message, raw);
      case 'user':
        return messageEvents('user', line.message, raw);
      case 'stream_event': {
        // --include-partial-messages: token deltas.
        const event = isObject(line.event) ? line.event : {};
        const delta = isObject(event.delta) ? event.delta : {};
        if (delta.type === 'text_delta') {
          return [
            {
              type: 'message',
              data: { role: 'assistant', text: str(delta.text), subtype: 'delta' },
              raw,
            },
          ];
        }
        if (delta.type === 'thinking_delta') {
          return [{ type: 'thinking', data: { text: str(delta.thinking), subtype: 'delta' }, raw }];
        }
        return [];
      }
      case 'result': {
        const session = sessionUsage(line.modelUsage);
        const events = resultEvents(
          session ? { ...line, usage: session.usage, total_cost_usd: session.costUsd } : line,
          facts,
          raw,
        );
        if (session) {
          facts.usageScope = 'session';
          for (const e of events) if (e.type === 'usage') e.data.scope = 'session';
        }
        const denials = Array.isArray(line.permission_denials) ? line.permission_denials : [];
        facts.permissionDenials = denials
          .filter(isObject)
          .map((d) => denialOf(d.tool_name, d.tool_input, undefined));
        // Denials the stream did not announce live (an older CLI): announce them now.
        const late = denials
          .filter(isObject)
          .filter((d) => !announced.has(str(d.tool_use_id)))
          .map((d) => {
            const denial = denialOf(d.tool_name, d.tool_input, undefined);
            return deniedEvent(denial, `${denial.tool} was denied`, raw);
          });
        if (facts.isError) classify(line, facts, apiError, retryAfterMs);
        return [...late, ...events];
      }
      case 'rate_limit_event':
      case 'control_response':
        return [];
      default:
        return null;
    }
  });
}

/** "retrying after 429 rate_limit (attempt 2 of 3, in 1.2 s)". */
function retryNotice(line: Json): Json {
  const status = num(line.error_status);
  const attempt = num(line.attempt);
  const max = num(line.max_retries);
  const delay = num(line.retry_delay_ms);
  const what = [status !== undefined ? String(status) : 'a failed request', str(line.error)]
    .filter(Boolean)
    .join(' ');
  const when = [
    attempt !== undefined ? `attempt ${attempt}${max !== undefined ? ` of ${max}` : ''}` : '',
    delay !== undefined ? `in ${(delay / 1000).toFixed(1)} s` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return {
    role: 'system',
    subtype: 'api_retry',
    text: `retrying after ${what}${when ? ` (${when})` : ''}`,
    ...(attempt !== undefined ? { attempt } : {}),
    ...(max !== undefined ? { maxRetries: max } : {}),
    ...(delay !== undefined ? { delayMs: delay } : {}),
    status: status ?? null,
  };
}

/** Any other system line: its own message or status when it has one, else its subtype. */
function systemNotice(line: Json): Json {
  const subtype = str(line.subtype);
  const text = str(line.message) || str(line.status) || str(line.content) || subtype;
  return { role: 'system', subtype, text };
}

/** What a denied tool use was for: a path, a command, a URL. */
function denialOf(tool: unknown, input: unknown, message: unknown): PermissionDenial {
  const fields = isObject(input) ? input : {};
  const detail =
    str(fields.file_path) ||
    str(fields.notebook_path) ||
    str(fields.command) ||
    str(fields.url) ||
    str(fields.path) ||
    str(message);
  return { tool: str(tool) || 'unknown', detail: detail || null };
}

function deniedEvent(denial: PermissionDenial, text: string, raw: string): NormalizedEvent {
  return {
    type: 'error',
    data: {
      code: 'AGENT_PERMISSION_DENIED',
      message: text,
      tool: denial.tool,
      detail: denial.detail,
    },
    raw,
  };
}

/**
 * The session's usage and cost from `modelUsage` (summed over its models), or undefined when
 * the CLI did not report it (then the result's own `usage` and cost are taken as they are).
 */
function sessionUsage(modelUsage: unknown): { usage: Json; costUsd: number } | undefined {
  if (!isObject(modelUsage)) return undefined;
  const models = Object.values(modelUsage).filter(isObject);
  if (models.length === 0) return undefined;
  const sum = (key: string): number => models.reduce((n, m) => n + (num(m[key]) ?? 0), 0);
  return {
    usage: {
      input_tokens: sum('inputTokens'),
      output_tokens: sum('outputTokens'),
      cache_read_input_tokens: sum('cacheReadInputTokens'),
      cache_creation_input_tokens: sum('cacheCreationInputTokens'),
    },
    costUsd: sum('costUSD'),
  };
}

/** The error code of a failed result, from the API status the CLI reports. */
function classify(
  line: Json,
  facts: AgentFacts,
  apiError: string,
  retryAfterMs: number | undefined,
): void {
  const status = num(line.api_error_status);
  const type = str(line.api_error_type);
  let code: ErrorCode | undefined;
  if (str(line.terminal_reason) === 'prompt_too_long') code = 'AGENT_CONTEXT_WINDOW_EXCEEDED';
  else if (status === 401 || status === 403 || type === 'authentication_error')
    code = 'AGENT_AUTH_FAILED';
  else if (status === 429 || type === 'rate_limit_error') code = 'AGENT_RATE_LIMITED';
  else if ((status !== undefined && status >= 500) || type === 'overloaded_error')
    code = 'AGENT_PROVIDER_ERROR';
  else if (status === undefined && str(line.terminal_reason) === 'api_error') {
    // No status: no key at all ("Not logged in"), or the connection never got an answer.
    if (apiError === 'authentication_failed') code = 'AGENT_AUTH_FAILED';
    else if (apiError === 'rate_limit') code = 'AGENT_RATE_LIMITED';
    else if (apiError === 'server_error' || apiError === 'unknown') code = 'AGENT_PROVIDER_ERROR';
  }
  if (code && facts.errorCode !== 'AGENT_CONTEXT_WINDOW_EXCEEDED') facts.errorCode = code;
  if (facts.errorCode === 'AGENT_RATE_LIMITED' && retryAfterMs !== undefined) {
    facts.retryAfterMs = retryAfterMs;
  }
}
