import {
  contentText,
  createJsonLineParser,
  errorCodeFor,
  isObject,
  num,
  str,
  type Json,
} from '../stream-json.js';
import type { ErrorCode } from '../../contracts/index.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from '../stream-parser.js';

/**
 * Codex retries a dropped stream and says so as a top-level `error`, e.g.
 * `Reconnecting... 1/2 (stream disconnected before completion: …)`; the turn goes on.
 */
const RECONNECTING = /^reconnecting\.*\s*(?:(\d+)\/(\d+))?\s*(?:\((.*)\))?\s*$/i;

/**
 * How Codex 0.171 words a provider's failures in `error`/`turn.failed` (it does not pass the
 * status through as a field): `unexpected status 401 Unauthorized: …`, `Missing environment
 * variable: `KEY`.`, `exceeded retry limit, last status: 429 Too Many Requests`, `rate limit
 * exceeded: …`, any 5xx as `We're currently experiencing high demand…`, a failed stream as
 * `stream disconnected before completion: …`, and a context_length_exceeded error as `Codex ran
 * out of room in the model's context window…`.
 */
const AUTH =
  /\b401\b|unauthorized|invalid[_ ]api[_ ]key|incorrect api key|missing environment variable|not logged in/i;
const RATE_LIMIT = /\b429\b|too many requests|rate.?limit|insufficient_quota|quota exceeded/i;
const PROVIDER =
  /\bstatus:? 5\d\d\b|\b5\d\d (internal|bad gateway|service unavailable|gateway)|high demand|stream disconnected|server had an error|overloaded|idle timeout waiting for sse/i;

/** The error code of a Codex failure message. */
export function codexErrorCode(message: string): ErrorCode {
  const code = errorCodeFor(message);
  if (code === 'AGENT_CONTEXT_WINDOW_EXCEEDED') return code;
  if (AUTH.test(message)) return 'AGENT_AUTH_FAILED';
  if (RATE_LIMIT.test(message)) return 'AGENT_RATE_LIMITED';
  if (PROVIDER.test(message)) return 'AGENT_PROVIDER_ERROR';
  return code;
}

/** `Please try again in 1.5s` / `in 200ms`, as OpenAI's rate-limit messages say. */
function retryAfterMs(message: string): number | undefined {
  const m = /try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)\b/i.exec(message);
  if (!m) return undefined;
  const value = Number(m[1]);
  return Math.round(m[2]!.toLowerCase() === 'ms' ? value : value * 1000);
}

/**
 * Marks the run failed. The first error's message is kept, but a later context-window error
 * still upgrades the code: it is the one a caller can act on (compact, start over).
 */
function fail(facts: AgentFacts, message: string, raw: string): NormalizedEvent[] {
  const code = codexErrorCode(message);
  facts.isError = true;
  if (
    facts.errorCode === undefined ||
    facts.errorCode === 'AGENT_RESULT_ERROR' ||
    code === 'AGENT_CONTEXT_WINDOW_EXCEEDED'
  ) {
    facts.errorCode = code;
  }
  facts.errorMessage ??= message;
  const wait = code === 'AGENT_RATE_LIMITED' ? retryAfterMs(message) : undefined;
  if (wait !== undefined) facts.retryAfterMs ??= wait;
  return [
    {
      type: 'error',
      data: { code, message, ...(wait !== undefined ? { retryAfterMs: wait } : {}) },
      raw,
    },
  ];
}

/** A retry notice, readable: which attempt of how many, and why. */
function retrying(match: RegExpExecArray, message: string, raw: string): NormalizedEvent[] {
  const reason = match[3] ?? '';
  const attempt = match[1] ? Number(match[1]) : undefined;
  const maxAttempts = match[2] ? Number(match[2]) : undefined;
  return [
    {
      type: 'error',
      data: {
        code: reason ? codexErrorCode(reason) : 'AGENT_PROVIDER_ERROR',
        message,
        severity: 'warning',
        retrying: true,
        ...(attempt !== undefined ? { attempt } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        ...(reason ? { reason } : {}),
      },
      raw,
    },
  ];
}

/**
 * A tool use Codex refused without an item on stdout: a patch its sandbox or approval policy
 * rejected is only logged on stderr, as
 * `2026-…Z ERROR codex_core::tools::router: error=patch rejected: writing is blocked by
 * read-only sandbox; rejected by user approval settings`.
 */
const STDERR_REJECTION = /\bcodex_core::tools::router: error=((\w+) rejected:?\s*(.*))$/;

function deny(facts: AgentFacts, tool: string, detail: string, raw: string): NormalizedEvent[] {
  (facts.permissionDenials ??= []).push({ tool, detail: detail || null });
  return [
    {
      type: 'error',
      data: {
        code: 'AGENT_PERMISSION_DENIED',
        message: `codex refused ${tool}${detail ? `: ${detail}` : ''}`,
        severity: 'warning',
      },
      raw,
    },
  ];
}

/** A non-fatal notice: reported, but the run is not failed by it. */
function warn(message: string, raw: string): NormalizedEvent[] {
  return [
    { type: 'error', data: { code: codexErrorCode(message), message, severity: 'warning' }, raw },
  ];
}

const call = (id: string, name: string, input: unknown, raw: string): NormalizedEvent => ({
  type: 'tool_call',
  data: { id, name, input: input ?? {} },
  raw,
});

const result = (id: string, output: string, isError: boolean, raw: string): NormalizedEvent => ({
  type: 'tool_result',
  data: { id, output, isError },
  raw,
});

/** `- [x] done` / `- [ ] to do` lines of a todo_list item. */
function checklist(items: unknown): string {
  if (!Array.isArray(items)) return '';
  return items
    .map((i) => (isObject(i) ? `- [${i.completed === true ? 'x' : ' '}] ${str(i.text)}` : ''))
    .filter(Boolean)
    .join('\n');
}

type Phase = 'started' | 'updated' | 'completed';

/**
 * Parses `codex exec --json` (agent-cli-formats.md §3). Codex has no result line: the final
 * text is the last agent message, `end()` emits the `result`. There is no USD cost.
 * `turn.completed.usage` is the thread's running total (Codex 0.171 reports
 * `ThreadTokenUsage.total`), also on `exec resume`: usage is session-scoped, and the last
 * total seen is the figure.
 */
export function createCodexParser(): StreamParser {
  let turnsEnded = 0;
  /** Tool-ish items whose `tool_call` was already emitted (on `item.started`). */
  const called = new Set<string>();

  /** The tool_call for an item, unless its `item.started` already produced one. */
  function callOnce(phase: Phase, id: string, name: string, input: unknown, raw: string) {
    if (phase === 'started') {
      called.add(id);
      return [call(id, name, input, raw)];
    }
    if (called.delete(id)) return [];
    return [call(id, name, input, raw)];
  }

  function itemEvents(
    phase: Phase,
    item: Json,
    facts: AgentFacts,
    raw: string,
  ): NormalizedEvent[] | null {
    const id = str(item.id);
    const done = phase === 'completed';
    switch (item.type) {
      case 'agent_message':
        if (!done) return [];
        facts.resultText = str(item.text);
        return [{ type: 'message', data: { role: 'assistant', text: str(item.text) }, raw }];
      case 'reasoning':
      case 'plan':
        return done
          ? [{ type: 'thinking', data: { text: str(item.text), subtype: str(item.type) }, raw }]
          : [];
      case 'todo_list': {
        const text = checklist(item.items);
        return text ? [{ type: 'thinking', data: { text, subtype: 'todo_list' }, raw }] : [];
      }
      case 'command_execution': {
        if (phase === 'updated') return [];
        const events = callOnce(
          phase,
          id,
          'command_execution',
          { command: str(item.command) },
          raw,
        );
        if (!done) return events;
        const exit = num(item.exit_code);
        const declined = item.status === 'declined';
        const isError = (exit !== undefined && exit !== 0) || item.status === 'failed' || declined;
        const out = [...events, result(id, str(item.aggregated_output), isError, raw)];
        return declined
          ? [...out, ...deny(facts, 'command_execution', str(item.command), raw)]
          : out;
      }
      case 'file_change': {
        if (phase === 'updated') return [];
        const changes = Array.isArray(item.changes) ? item.changes : [];
        // Codex reports a file change only once it is applied: show the call and its result.
        const events = callOnce(phase, id, 'file_change', { changes }, raw);
        if (!done) return events;
        const summary = changes
          .map((c) => (isObject(c) ? `${str(c.kind)} ${str(c.path)}` : ''))
          .join('\n');
        if (item.status !== 'failed') return [...events, result(id, summary, false, raw)];
        // A patch Codex could not apply (its sandbox refused the write, or the patch did not
        // match): the reason is only on stderr, but the run must not look like a clean edit.
        return [
          ...events,
          result(id, summary, true, raw),
          ...warn(`codex could not apply a patch: ${summary.replace(/\n/g, ', ')}`, raw),
        ];
      }
      case 'mcp_tool_call': {
        if (phase === 'updated') return [];
        const name = `${str(item.server)}.${str(item.tool)}`;
        const events = callOnce(phase, id, name, item.arguments, raw);
        if (!done) return events;
        const error = item.error;
        const res = isObject(item.result) ? item.result : undefined;
        const output = isObject(error)
          ? str(error.message)
          : error
            ? String(error)
            : res
              ? contentText(res.content) ||
                (res.structured_content == null ? '' : JSON.stringify(res.structured_content))
              : '';
        return [...events, result(id, output, Boolean(error) || item.status === 'failed', raw)];
      }
      case 'collab_tool_call': {
        if (phase === 'updated') return [];
        const name = str(item.tool) ? `collab.${str(item.tool)}` : 'collab_tool_call';
        // Its fields vary by collab tool: pass the whole item as the input.
        const events = callOnce(phase, id, name, item, raw);
        if (!done) return events;
        return [...events, result(id, '', item.status === 'failed', raw)];
      }
      case 'web_search': {
        if (phase === 'updated') return [];
        const query = str(item.query);
        // Only `item.completed` in current builds: the call and its (opaque) result together.
        const events = callOnce(phase, id, 'web_search', { query }, raw);
        if (!done) return events;
        return [...events, result(id, query, item.status === 'failed', raw)];
      }
      case 'error':
        // An error item is a non-fatal notice (e.g. truncated output); turn.failed fails a run.
        return done ? warn(str(item.message), raw) : [];
      default:
        return null;
    }
  }

  const parser = createJsonLineParser(
    (line, facts, raw) => {
      switch (line.type) {
        case 'thread.started':
          facts.sessionId = str(line.thread_id);
          return [{ type: 'message', data: { role: 'system', subtype: 'init', text: '' }, raw }];
        case 'turn.started':
          return [];
        case 'item.started':
        case 'item.updated':
        case 'item.completed':
          return isObject(line.item)
            ? itemEvents(line.type.slice(5) as Phase, line.item, facts, raw)
            : null;
        case 'item.plan.delta':
          return [];
        case 'turn.completed': {
          turnsEnded++;
          facts.finished = true;
          facts.numTurns = turnsEnded;
          const u = isObject(line.usage) ? line.usage : {};
          // `input_tokens` includes the cached ones (OpenAI usage). A running total for the
          // thread: the engine stores this run's share (usageScope 'session').
          facts.usageScope = 'session';
          facts.usage = {
            input: num(u.input_tokens) ?? 0,
            output: num(u.output_tokens) ?? 0,
            cacheRead: num(u.cached_input_tokens) ?? 0,
            cacheWrite: num(u.cache_write_input_tokens) ?? 0,
          };
          return [{ type: 'usage', data: { ...facts.usage, estimated: false }, raw }];
        }
        case 'turn.failed': {
          turnsEnded++;
          facts.finished = true;
          facts.numTurns = turnsEnded;
          const error = isObject(line.error) ? line.error : {};
          return fail(facts, str(error.message) || 'turn failed', raw);
        }
        case 'error': {
          const message = str(line.message) || 'error';
          const retry = RECONNECTING.exec(message);
          return retry ? retrying(retry, message, raw) : fail(facts, message, raw);
        }
        default:
          return null;
      }
    },
    (facts) =>
      facts.finished
        ? [
            {
              type: 'result',
              data: { ok: !facts.isError, text: facts.resultText ?? '', numTurns: turnsEnded },
              raw: '',
            },
          ]
        : [],
  );
  return {
    ...parser,
    facts: parser.facts,
    stderrLine(line) {
      const m = STDERR_REJECTION.exec(line);
      return m
        ? deny(parser.facts, m[2] === 'patch' ? 'apply_patch' : m[2]!, m[3] || m[1]!, line)
        : [];
    },
  };
}
