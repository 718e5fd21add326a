import {
  createJsonLineParser,
  initEvents,
  isObject,
  messageEvents,
  resultEvents,
  str,
  type Json,
} from '../stream-json.js';
import type { NormalizedEvent, StreamParser } from '../stream-parser.js';

/** `{ shellToolCall: { args, result } }` → its kind and body. */
function toolOf(line: Json): { name: string; body: Json } {
  const call = isObject(line.tool_call) ? line.tool_call : {};
  const name = Object.keys(call)[0] ?? 'unknown';
  return { name, body: isObject(call[name]) ? call[name] : {} };
}

function toolResult(body: Json): { output: string; isError: boolean } {
  const result = isObject(body.result) ? body.result : {};
  if (isObject(result.success)) {
    const s = result.success;
    const exit = typeof s.exitCode === 'number' ? s.exitCode : 0;
    const output = str(s.stdout) + str(s.stderr) || str(s.content) || JSON.stringify(s);
    return { output, isError: exit !== 0 };
  }
  if (result.error !== undefined) {
    return {
      output: isObject(result.error)
        ? str(result.error.message) || JSON.stringify(result.error)
        : String(result.error),
      isError: true,
    };
  }
  return { output: JSON.stringify(result), isError: false };
}

/**
 * Parses `cursor-agent -p --output-format stream-json` (agent-cli-formats.md §2). Cursor
 * reports no tokens or cost; a failure may end with no result line at all.
 */
export function createCursorParser(): StreamParser {
  return createJsonLineParser((line, facts, raw): NormalizedEvent[] | null => {
    switch (line.type) {
      case 'system':
        return line.subtype === 'init' ? initEvents(line, facts, raw) : [];
      case 'user':
        return messageEvents('user', line.message, raw);
      case 'assistant':
        return messageEvents('assistant', line.message, raw);
      case 'thinking':
        return str(line.text)
          ? [{ type: 'thinking', data: { text: str(line.text), subtype: str(line.subtype) }, raw }]
          : [];
      case 'tool_call': {
        const { name, body } = toolOf(line);
        const id = str(line.call_id);
        if (line.subtype === 'started') {
          return [{ type: 'tool_call', data: { id, name, input: body.args ?? {} }, raw }];
        }
        if (line.subtype === 'completed') {
          return [{ type: 'tool_result', data: { id, ...toolResult(body) }, raw }];
        }
        return null;
      }
      case 'result':
        return resultEvents(line, facts, raw);
      default:
        return null;
    }
  });
}
