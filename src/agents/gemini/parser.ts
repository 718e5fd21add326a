import type { PermissionDenial } from '../../contracts/index.js';
import { createJsonLineParser, isObject, num, str, type Json } from '../stream-json.js';
import type { AgentFacts, NormalizedEvent, StreamParser } from '../stream-parser.js';
import { classifyGeminiError, parseRetryNotice } from './errors.js';

/**
 * Records a run-failing error. The first message is kept, but a later context-window error
 * still upgrades the code: it is the one a caller can act on.
 */
function recordFailure(facts: AgentFacts, text: string): void {
  const failure = classifyGeminiError(text);
  facts.isError = true;
  if (
    facts.errorCode === undefined ||
    facts.errorCode === 'AGENT_RESULT_ERROR' ||
    failure.code === 'AGENT_CONTEXT_WINDOW_EXCEEDED'
  ) {
    facts.errorCode = failure.code;
  }
  facts.errorMessage ??= failure.message;
  if (failure.retryAfterMs !== undefined) facts.retryAfterMs = failure.retryAfterMs;
}

/** A tool's output: usually a string; anything else is shown as JSON. */
const outputText = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value);

/**
 * Tools headless gemini-cli leaves out of its registry unless the approval mode allows them
 * (auto_edit: the edit tools; yolo: the shell too): a call to one of them that comes back
 * `tool_not_registered` was refused by the policy, not misnamed.
 */
const POLICY_TOOLS = new Set(['write_file', 'replace', 'edit', 'run_shell_command']);

/** What a refused tool call was for: its path or command. */
function denialDetail(params: unknown): string | null {
  if (!isObject(params)) return null;
  return str(params.file_path) || str(params.command) || str(params.path) || null;
}

/** The model that did the work: the one with the most tokens in `stats.models`. */
function mainModel(models: unknown): string | undefined {
  if (!isObject(models)) return undefined;
  let best: { name: string; tokens: number } | undefined;
  for (const [name, stats] of Object.entries(models)) {
    const tokens = isObject(stats) ? (num(stats.total_tokens) ?? 0) : 0;
    if (!best || tokens > best.tokens) best = { name, tokens };
  }
  return best?.name;
}

/**
 * Parses `gemini -p … --output-format stream-json` (agent-cli-formats.md §4, as gemini-cli
 * 0.61 prints it). A model turn is the assistant deltas and tool calls between two tool
 * results: the final answer is the text of the last turn that had any, and `numTurns` counts
 * them. Tokens come from `result.stats` (this process's requests only: a resumed session
 * starts from zero), the model from its `stats.models`; there is no cost.
 */
export function createGeminiParser(): StreamParser & Required<Pick<StreamParser, 'stderrLine'>> {
  let turnText = '';
  let answer = '';
  let inTurn = false;
  let turns = 0;
  const tools = new Map<string, { name: string; params: unknown }>();
  let pendingRetry: string | undefined;

  function modelOutput(facts: AgentFacts): void {
    if (inTurn) return;
    inTurn = true;
    turns += 1;
    turnText = '';
    facts.numTurns = turns;
  }

  function toolResult(line: Json, facts: AgentFacts, raw: string): NormalizedEvent[] {
    inTurn = false;
    const id = str(line.tool_id);
    const error = isObject(line.error) ? line.error : undefined;
    const errorMessage = error ? str(error.message) : '';
    const events: NormalizedEvent[] = [
      {
        type: 'tool_result',
        data: {
          id,
          output: outputText(line.output) || errorMessage,
          isError: line.status !== 'success',
        },
        raw,
      },
    ];
    const tool = tools.get(id);
    const errorType = error ? str(error.type) : '';
    const denied =
      errorType === 'policy_violation' ||
      (errorType === 'tool_not_registered' && tool !== undefined && POLICY_TOOLS.has(tool.name));
    if (denied) {
      const denial: PermissionDenial = {
        tool: tool?.name ?? '',
        detail: denialDetail(tool?.params),
      };
      (facts.permissionDenials ??= []).push(denial);
      events.push({
        type: 'error',
        data: {
          code: 'AGENT_PERMISSION_DENIED',
          severity: 'warning',
          message: `gemini was not allowed to use ${denial.tool || 'a tool'}${denial.detail ? ` (${denial.detail})` : ''}: ${errorMessage}`,
        },
        raw,
      });
    }
    return events;
  }

  const parser = createJsonLineParser((line, facts, raw) => {
    switch (line.type) {
      case 'init':
        if (str(line.session_id)) facts.sessionId = str(line.session_id);
        // `auto` names the router, not a model: the real ones come with the result.
        if (str(line.model) && line.model !== 'auto') facts.model = str(line.model);
        facts.usageScope = 'run';
        return [{ type: 'message', data: { role: 'system', subtype: 'init', text: '' }, raw }];
      case 'message': {
        const role = line.role === 'user' ? 'user' : 'assistant';
        const content = str(line.content);
        if (role === 'assistant') {
          modelOutput(facts);
          turnText += content;
          if (turnText) answer = turnText;
          // Kept current, so a stream cut before its result still leaves the answer so far.
          facts.resultText = answer;
        }
        const data: Record<string, unknown> = { role, text: content };
        if (line.delta === true) data.subtype = 'delta';
        return [{ type: 'message', data, raw }];
      }
      case 'tool_use':
        modelOutput(facts);
        tools.set(str(line.tool_id), { name: str(line.tool_name), params: line.parameters });
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
      case 'tool_result':
        return toolResult(line, facts, raw);
      case 'error': {
        const message = str(line.message);
        const severity = str(line.severity) || 'error';
        // Warnings are reported but do not fail the run.
        if (severity !== 'warning') recordFailure(facts, message);
        const code = classifyGeminiError(message).code;
        return [{ type: 'error', data: { code, message, severity }, raw }];
      }
      case 'result': {
        facts.finished = true;
        const ok = line.status === 'success' && !facts.isError;
        if (line.status !== 'success') {
          const error = isObject(line.error) ? str(line.error.message) : '';
          recordFailure(facts, error || `status ${str(line.status) || 'missing'}`);
        }
        facts.resultText = answer;
        const stats = isObject(line.stats) ? line.stats : {};
        const model = mainModel(stats.models);
        if (model) facts.model = model;
        // `input_tokens` includes the `cached` ones (stats also split them as `cached` + `input`).
        facts.usage = {
          input: num(stats.input_tokens) ?? 0,
          output: num(stats.output_tokens) ?? 0,
          cacheRead: num(stats.cached) ?? 0,
          cacheWrite: 0,
        };
        facts.numTurns = turns;
        const data: Record<string, unknown> = {
          ok,
          text: answer,
          subtype: str(line.status),
          numTurns: turns,
        };
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

  return {
    get facts() {
      return parser.facts;
    },
    line: parser.line,
    end: parser.end,
    /**
     * One stderr line: gemini-cli reports its backoff there only. A retry notice becomes a
     * `message` (system/retry: attempt, status, delay), so a watcher knows the run is waiting
     * on the provider; a quota notice can span two lines (its message ends with the
     * suggested delay), so an unfinished `Attempt N failed: …` waits for the next line.
     */
    stderrLine(line: string): NormalizedEvent[] {
      const text = pendingRetry !== undefined ? `${pendingRetry} ${line.trim()}` : line.trim();
      const notice = parseRetryNotice(text);
      if (!notice) {
        const started = /^Attempt \d+ failed/.test(text) && !/Max attempts reached/.test(text);
        pendingRetry = started && pendingRetry === undefined ? text : undefined;
        return [];
      }
      pendingRetry = undefined;
      const data: Record<string, unknown> = {
        role: 'system',
        subtype: 'retry',
        attempt: notice.attempt,
        text: notice.message,
      };
      const status =
        notice.status ??
        (classifyGeminiError(notice.message).code === 'AGENT_RATE_LIMITED' ? 429 : undefined);
      if (status !== undefined) data.status = status;
      if (notice.delayMs !== undefined) data.delayMs = notice.delayMs;
      return [{ type: 'message', data, raw: line }];
    },
  };
}
