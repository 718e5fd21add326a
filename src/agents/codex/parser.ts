import {
  contentText,
  createJsonLineParser,
  errorCodeFor,
  isObject,
  num,
  str,
  type Json,
} from '../stream-json.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from '../stream-parser.js';

/** Codex retries a dropped stream and says so as a top-level `error`; the turn goes on. */
const RECONNECTING = /^reconnecting\b/i;

/**
 * Marks the run failed. The first error's message is kept, but a later context-window error
 * still upgrades the code: it is the one a caller can act on (compact, start over).
 */
function fail(facts: AgentFacts, message: string, raw: string): NormalizedEvent[] {
  const code = errorCodeFor(message);
  facts.isError = true;
  if (facts.errorCode === undefined || code === 'AGENT_CONTEXT_WINDOW_EXCEEDED') {
    facts.errorCode = code;
  }
  facts.errorMessage ??= message;
  return [{ type: 'error', data: { code, message }, raw }];
}

/** A non-fatal notice: reported, but the run is not failed by it. */
function warn(message: string, raw: string): NormalizedEvent[] {
  return [
    { type: 'error', data: { code: errorCodeFor(message), message, severity: 'warning' }, raw },
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
 * text is the last agent message, tokens are summed over `turn.completed`, and `end()`
 * emits the `result`. There is no USD cost.
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
        const isError = (exit !== undefined && exit !== 0) || item.status === 'failed';
        return [...events, result(id, str(item.aggregated_output), isError, raw)];
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
        return [...events, result(id, summary, item.status === 'failed', raw)];
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

  return createJsonLineParser(
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
          const prev = facts.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
          // `input_tokens` includes the cached ones (OpenAI usage); Codex reports no cache writes.
          facts.usage = {
            input: prev.input + (num(u.input_tokens) ?? 0),
            output: prev.output + (num(u.output_tokens) ?? 0),
            cacheRead: prev.cacheRead + (num(u.cached_input_tokens) ?? 0),
            cacheWrite: 0,
          };
          // Running totals for the run so far, like every other agent's usage event.
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
          return RECONNECTING.test(message) ? warn(message, raw) : fail(facts, message, raw);
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
}
