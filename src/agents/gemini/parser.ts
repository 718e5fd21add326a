import { createJsonLineParser, errorCodeFor, isObject, num, str } from '../stream-json.js';
import type { StreamParser } from '../stream-parser.js';

/**
 * Parses `gemini -p … --output-format stream-json` (agent-cli-formats.md §4). The final answer
 * is the concatenation of assistant message deltas; tokens come from `result.stats`.
 */
export function createGeminiParser(): StreamParser {
  let text = '';
  return createJsonLineParser((line, facts, raw) => {
    switch (line.type) {
      case 'init':
        if (str(line.session_id)) facts.sessionId = str(line.session_id);
        if (str(line.model)) facts.model = str(line.model);
        return [{ type: 'message', data: { role: 'system', subtype: 'init', text: '' }, raw }];
      case 'message': {
        const role = line.role === 'user' ? 'user' : 'assistant';
        const content = str(line.content);
        if (role === 'assistant') text += content;
        const data: Record<string, unknown> = { role, text: content };
        if (line.delta === true) data.subtype = 'delta';
        return [{ type: 'message', data, raw }];
      }
      case 'tool_use':
        return [
          {
            type: 'tool_call',
            data: {
              id: str(line.tool_id),
              name: str(line.tool_name),
              input: line.parameters ?? {},
            },
            raw,
          },
        ];
      case 'tool_result': {
        const error = isObject(line.error) ? str(line.error.message) : '';
        return [
          {
            type: 'tool_result',
            data: {
              id: str(line.tool_id),
              output: str(line.output) || error,
              isError: line.status !== 'success',
            },
            raw,
          },
        ];
      }
      case 'error': {
        const message = str(line.message);
        // Warnings are reported but do not fail the run.
        if (line.severity !== 'warning') {
          facts.isError = true;
          facts.errorCode ??= errorCodeFor(message);
          facts.errorMessage ??= message;
        }
        return [
          {
            type: 'error',
            data: { code: errorCodeFor(message), message, severity: str(line.severity) || 'error' },
            raw,
          },
        ];
      }
      case 'result': {
        facts.finished = true;
        const ok = line.status === 'success' && !facts.isError;
        if (!ok) {
          facts.isError = true;
          const error = isObject(line.error) ? str(line.error.message) : '';
          facts.errorMessage ??= error || `status ${str(line.status)}`;
          facts.errorCode ??= errorCodeFor(facts.errorMessage);
        }
        facts.resultText = text;
        const stats = isObject(line.stats) ? line.stats : {};
        facts.usage = {
          input: num(stats.input_tokens) ?? 0,
          output: num(stats.output_tokens) ?? 0,
          cacheRead: num(stats.cached) ?? 0,
          cacheWrite: 0,
        };
        const turns = num(stats.tool_calls);
        const data: Record<string, unknown> = { ok, text, subtype: str(line.status) };
        const duration = num(stats.duration_ms);
        if (duration !== undefined) data.durationMs = duration;
        if (turns !== undefined) data.toolCalls = turns;
        return [
          { type: 'usage', data: { ...facts.usage, estimated: false }, raw },
          { type: 'result', data, raw },
        ];
      }
      default:
        return null;
    }
  });
}
