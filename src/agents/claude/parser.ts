import {
  createJsonLineParser,
  initEvents,
  isObject,
  messageEvents,
  resultEvents,
  str,
} from '../stream-json.js';
import type { StreamParser } from '../stream-parser.js';

/**
 * Parses `claude -p --output-format stream-json --verbose` (see
 * shared/reference/agent-cli-formats.md §1). Unknown types and subtypes pass through.
 */
export function createClaudeParser(): StreamParser {
  return createJsonLineParser((line, facts, raw) => {
    switch (line.type) {
      case 'system':
        if (line.subtype === 'init') return initEvents(line, facts, raw);
        return [
          { type: 'message', data: { role: 'system', subtype: str(line.subtype), text: '' }, raw },
        ];
      case 'assistant':
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
      case 'result':
        return resultEvents(line, facts, raw);
      case 'rate_limit_event':
      case 'control_response':
        return [];
      default:
        return null;
    }
  });
}
