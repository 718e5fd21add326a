import { createJsonLineParser, errorCodeFor, isObject, num, str } from '../stream-json.js';
import type { AgentFacts, StreamParser } from '../stream-parser.js';

/**
 * Records a run-failing error. The first message is kept, but a later context-window error
 * still upgrades the code: it is the one a caller can act on.
 */
function recordFailure(facts: AgentFacts, message: string): void {
  const code = errorCodeFor(message);
  facts.isError = true;
  if (facts.errorCode === undefined || code === 'AGENT_CONTEXT_WINDOW_EXCEEDED') {
    facts.errorCode = code;
  }
  facts.errorMessage ??= message;
}

/** A tool's output: usually a string; anything else is shown as JSON. */
const outputText = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value);

/**
 * Parses `gemini -p … --output-format stream-json` (agent-cli-formats.md §4). The final answer
 * is the concatenation of assistant message deltas; tokens come from `result.stats`, which
 * has no text and no cost.
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
        if (role === 'assistant') {
          text += content;
          // Kept current, so a stream cut before its result still leaves the text so far.
          facts.resultText = text;
        }
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
              output: outputText(line.output) || error,
              isError: line.status !== 'success',
            },
            raw,
          },
        ];
      }
      case 'error': {
        const message = str(line.message);
        const severity = str(line.severity) || 'error';
        // Warnings are reported but do not fail the run.
        if (severity !== 'warning') recordFailure(facts, message);
        return [{ type: 'error', data: { code: errorCodeFor(message), message, severity }, raw }];
      }
      case 'result': {
        facts.finished = true;
        const ok = line.status === 'success' && !facts.isError;
        if (line.status !== 'success') {
          const error = isObject(line.error) ? str(line.error.message) : '';
          recordFailure(facts, error || `status ${str(line.status) || 'missing'}`);
        }
        facts.resultText = text;
        const stats = isObject(line.stats) ? line.stats : {};
        // `input_tokens` includes the `cached` ones (stats also split them as `cached` + `input`).
        facts.usage = {
          input: num(stats.input_tokens) ?? 0,
          output: num(stats.output_tokens) ?? 0,
          cacheRead: num(stats.cached) ?? 0,
          cacheWrite: 0,
        };
        const data: Record<string, unknown> = { ok, text, subtype: str(line.status) };
        const duration = num(stats.duration_ms);
        if (duration !== undefined) data.durationMs = duration;
        const toolCalls = num(stats.tool_calls);
        if (toolCalls !== undefined) data.toolCalls = toolCalls;
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
