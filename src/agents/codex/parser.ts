import {
  createJsonLineParser,
  errorCodeFor,
  isObject,
  num,
  str,
  type Json,
} from '../stream-json.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from '../stream-parser.js';

/** Marks the run failed; keeps the first error's code and message. */
function fail(facts: AgentFacts, message: string, raw: string): NormalizedEvent[] {
  facts.isError = true;
  facts.errorCode ??= errorCodeFor(message);
  facts.errorMessage ??= message;
  return [{ type: 'error', data: { code: errorCodeFor(message), message }, raw }];
}

function itemEvents(
  kind: 'started' | 'completed',
  item: Json,
  facts: AgentFacts,
  raw: string,
): NormalizedEvent[] | null {
  const id = str(item.id);
  switch (item.type) {
    case 'agent_message':
      if (kind !== 'completed') return [];
      facts.resultText = str(item.text);
      return [{ type: 'message', data: { role: 'assistant', text: str(item.text) }, raw }];
    case 'reasoning':
    case 'plan':
      return kind === 'completed'
        ? [{ type: 'thinking', data: { text: str(item.text), subtype: str(item.type) }, raw }]
        : [];
    case 'command_execution':
      if (kind === 'started')
        return [
          {
            type: 'tool_call',
            data: { id, name: 'command_execution', input: { command: str(item.command) } },
            raw,
          },
        ];
      return [
        {
          type: 'tool_result',
          data: {
            id,
            output: str(item.aggregated_output),
            isError: (num(item.exit_code) ?? 0) !== 0 || item.status === 'failed',
          },
          raw,
        },
      ];
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      // Codex often reports a file change only once it is done: show the call and its result.
      const call: NormalizedEvent = {
        type: 'tool_call',
        data: { id, name: 'file_change', input: { changes } },
        raw,
      };
      if (kind === 'started') return [call];
      const summary = changes
        .map((c) => (isObject(c) ? `${str(c.kind)} ${str(c.path)}` : ''))
        .join('\n');
      return [
        call,
        {
          type: 'tool_result',
          data: { id, output: summary, isError: item.status === 'failed' },
          raw,
        },
      ];
    }
    case 'mcp_tool_call': {
      const name = `${str(item.server)}.${str(item.tool)}`;
      if (kind === 'started')
        return [{ type: 'tool_call', data: { id, name, input: item.arguments ?? {} }, raw }];
      const error = item.error;
      const output = error
        ? isObject(error)
          ? str(error.message)
          : String(error)
        : JSON.stringify(item.result ?? null);
      return [
        {
          type: 'tool_result',
          data: { id, output, isError: Boolean(error) || item.status === 'failed' },
          raw,
        },
      ];
    }
    case 'web_search':
      return kind === 'started'
        ? [
            {
              type: 'tool_call',
              data: { id, name: 'web_search', input: { query: str(item.query) } },
              raw,
            },
          ]
        : [];
    case 'error':
      return kind === 'completed' ? fail(facts, str(item.message), raw) : [];
    default:
      return null;
  }
}

/**
 * Parses `codex exec --json` (agent-cli-formats.md §3). Codex has no result line: the final
 * text is the last agent message, tokens are summed over `turn.completed`, and `end()`
 * emits the `result`. There is no USD cost.
 */
export function createCodexParser(): StreamParser {
  let turnsEnded = 0;
  return createJsonLineParser(
    (line, facts, raw) => {
      switch (line.type) {
        case 'thread.started':
          facts.sessionId = str(line.thread_id);
          return [{ type: 'message', data: { role: 'system', subtype: 'init', text: '' }, raw }];
        case 'turn.started':
          return [];
        case 'item.started':
        case 'item.completed':
          return isObject(line.item)
            ? itemEvents(
                line.type === 'item.started' ? 'started' : 'completed',
                line.item,
                facts,
                raw,
              )
            : null;
        case 'item.updated':
        case 'item.plan.delta':
          return [];
        case 'turn.completed': {
          turnsEnded++;
          facts.finished = true;
          facts.numTurns = turnsEnded;
          const u = isObject(line.usage) ? line.usage : {};
          const prev = facts.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
          facts.usage = {
            input: prev.input + (num(u.input_tokens) ?? 0),
            output: prev.output + (num(u.output_tokens) ?? 0),
            cacheRead: prev.cacheRead + (num(u.cached_input_tokens) ?? 0),
            cacheWrite: 0,
          };
          return [{ type: 'usage', data: { ...facts.usage, estimated: false }, raw }];
        }
        case 'turn.failed': {
          turnsEnded++;
          facts.finished = true;
          const error = isObject(line.error) ? line.error : {};
          return fail(facts, str(error.message) || 'turn failed', raw);
        }
        case 'error':
          return fail(facts, str(line.message) || 'error', raw);
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
