import type { ErrorCode } from '../contracts/index.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from './stream-parser.js';

/**
 * Shared by the Claude Code and Cursor parsers: both print NDJSON with `system/init`,
 * `assistant`/`user` messages whose `content` is a block list, and a final `result` line.
 */

export type Json = Record<string, unknown>;

const CONTEXT_WINDOW = /context (window|length)|prompt is too long|maximum context|token limit/i;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const str = (value: unknown): string => (typeof value === 'string' ? value : '');
export const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Text of a tool result's `content`: a string, or a list of text blocks. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b) => (isObject(b) ? str(b.text) : typeof b === 'string' ? b : ''))
      .join('');
  }
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

/** The error code of a failed agent result, from its text. */
export function errorCodeFor(text: string): ErrorCode {
  return CONTEXT_WINDOW.test(text) ? 'AGENT_CONTEXT_WINDOW_EXCEEDED' : 'AGENT_RESULT_ERROR';
}

export function passThrough(raw: string): NormalizedEvent {
  return { type: 'output', data: { stream: 'stdout', text: `${raw}\n` }, raw };
}

/** Events of one `assistant` or `user` message's content blocks. */
export function messageEvents(
  role: 'assistant' | 'user',
  message: unknown,
  raw: string,
): NormalizedEvent[] {
  if (!isObject(message)) return [];
  const content = message.content;
  if (typeof content === 'string') {
    return content ? [{ type: 'message', data: { role, text: content }, raw }] : [];
  }
  if (!Array.isArray(content)) return [];
  const events: NormalizedEvent[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        if (str(block.text))
          events.push({ type: 'message', data: { role, text: str(block.text) }, raw });
        break;
      case 'thinking':
        events.push({
          type: 'thinking',
          data: { text: str(block.thinking) || str(block.text) },
          raw,
        });
        break;
      case 'tool_use':
        events.push({
          type: 'tool_call',
          data: { id: str(block.id), name: str(block.name), input: block.input ?? {} },
          raw,
        });
        break;
      case 'tool_result':
        events.push({
          type: 'tool_result',
          data: {
            id: str(block.tool_use_id),
            output: contentText(block.content),
            isError: block.is_error === true,
          },
          raw,
        });
        break;
      default:
        break;
    }
  }
  return events;
}

/** Records a `system/init` line. */
export function initEvents(line: Json, facts: AgentFacts, raw: string): NormalizedEvent[] {
  if (str(line.session_id)) facts.sessionId = str(line.session_id);
  if (str(line.model)) facts.model = str(line.model);
  return [{ type: 'message', data: { role: 'system', subtype: 'init', text: '' }, raw }];
}

/** Records a final `result` line: usage (when reported), then the result. */
export function resultEvents(line: Json, facts: AgentFacts, raw: string): NormalizedEvent[] {
  const events: NormalizedEvent[] = [];
  const subtype = str(line.subtype);
  const text = str(line.result);
  // A failed API call can arrive as subtype `success` with is_error true: trust either.
  const isError = line.is_error === true || subtype.startsWith('error');
  facts.finished = true;
  facts.isError = isError;
  facts.resultText = text;
  if (str(line.session_id)) facts.sessionId = str(line.session_id);
  const turns = num(line.num_turns);
  if (turns !== undefined) facts.numTurns = turns;
  const usage = isObject(line.usage) ? line.usage : undefined;
  const cost = num(line.total_cost_usd);
  if (usage) {
    facts.usage = {
      input: num(usage.input_tokens) ?? 0,
      output: num(usage.output_tokens) ?? 0,
      cacheRead: num(usage.cache_read_input_tokens) ?? 0,
      cacheWrite: num(usage.cache_creation_input_tokens) ?? 0,
    };
  }
  if (cost !== undefined) facts.costUsd = cost;
  if (usage || cost !== undefined) {
    events.push({
      type: 'usage',
      data: {
        ...(facts.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }),
        ...(cost !== undefined ? { costUsd: cost } : {}),
        estimated: false,
      },
      raw,
    });
  }
  if (isError) {
    const message =
      text || (Array.isArray(line.errors) ? line.errors.map(String).join('; ') : '') || subtype;
    facts.errorCode = errorCodeFor(message);
    facts.errorMessage = message;
  }
  const data: Json = { ok: !isError, text, subtype };
  const duration = num(line.duration_ms);
  if (duration !== undefined) data.durationMs = duration;
  if (turns !== undefined) data.numTurns = turns;
  events.push({ type: 'result', data, raw });
  return events;
}

/**
 * A parser skeleton: splits off empty and non-JSON lines, then hands each object to `map`.
 * `map` returns null for a type it does not know, which passes the line through.
 */
export function createJsonLineParser(
  map: (line: Json, facts: AgentFacts, raw: string) => NormalizedEvent[] | null,
  end: (facts: AgentFacts) => NormalizedEvent[] = () => [],
): StreamParser {
  const facts: AgentFacts = { finished: false, isError: false };
  return {
    facts,
    line(raw) {
      if (raw.trim() === '') return [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return [passThrough(raw)];
      }
      if (!isObject(parsed)) return [passThrough(raw)];
      return map(parsed, facts, raw) ?? [passThrough(raw)];
    },
    end: () => end(facts),
  };
}
