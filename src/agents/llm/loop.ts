/**
 * The `llm` agent's loop, run by `patchbay agent llm` inside the run's process: ask the model
 * (streamed: its text reaches the run's events as it is produced), run the tools it calls in
 * the workspace, give it their results, until it calls `finish`, answers without a tool call,
 * a limit (maxTurns, maxCostUsd) ends it, or the run is interrupted. Everything it does is
 * printed as protocol lines (protocol.ts) for the adapter's parser.
 */
import type { LlmMessage, LlmResult, LlmToolResult } from '../../llm/index.js';
import { systemPrompt } from './context.js';
import { createSession, INTERRUPTED_RESULT, type Session, type SessionOptions } from './session.js';
import type { ToolPolicy } from './tool-spec.js';
import { runTool, toolsFor } from './tools.js';
import { createWorkspace } from './workspace.js';

export interface LlmAgentOptions extends SessionOptions {
  cwd: string;
  prompt: string;
  model?: string;
  /** Model calls at most (default 30). */
  maxTurns?: number;
  /** USD the run's calls may cost; checked before each call, so it ends within one call. */
  maxCostUsd?: number;
  /** What the tools may do (default: edit, no commands). */
  policy?: ToolPolicy;
  /** Interrupt: stops the call or tool under way; what was said so far stays in the session. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_TURNS = 30;

const policyOf = (options: LlmAgentOptions): ToolPolicy =>
  options.policy ?? { readOnly: false, commands: null };

/** Runs the loop to its end; the last line emitted is always a `result`. */
export async function runLlmAgent(options: LlmAgentOptions): Promise<{ ok: boolean }> {
  const { emit, signal } = options;
  const maxTurns = options.maxTurns ?? DEFAULT_MAX_TURNS;
  const session = createSession(options);
  try {
    const ws = await createWorkspace(options.cwd);
    // The system prompt is made afresh each run: the repository may have changed since.
    const messages: LlmMessage[] = [
      { role: 'system', content: await systemPrompt(ws) },
      ...session.history(),
    ];
    session.record(messages, { role: 'user', content: options.prompt });
    let lastText = '';
    for (;;) {
      if (session.turns >= maxTurns) {
        return session.end(false, lastText, {
          code: 'AGENT_RESULT_ERROR',
          message: `the agent reached its limit of ${maxTurns} turns (maxTurns) before finishing`,
        });
      }
      if (options.maxCostUsd !== undefined && session.costUsd >= options.maxCostUsd) {
        return session.end(false, lastText, {
          code: 'BUDGET_EXCEEDED',
          message: `the run's model calls cost ${session.costUsd.toFixed(4)} USD, at or over its cap of ${options.maxCostUsd} USD (maxCostUsd)`,
        });
      }
      session.countTurn();
      const result = await streamCall(options, session, messages);
      if (result.reasoning) emit({ type: 'thinking', text: result.reasoning });
      if (result.text) emit({ type: 'message', text: result.text });
      if (result.text) lastText = result.text;
      session.record(messages, {
        role: 'assistant',
        content: result.text,
        ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}),
      });
      // An answer without a tool call is the model's last word.
      if (result.toolCalls.length === 0) return session.end(true, result.text);
      const results: LlmToolResult[] = [];
      let finished: string | undefined;
      for (const toolCall of result.toolCalls) {
        if (signal?.aborted) {
          // Each call gets an answer, so the stored session stays one a provider accepts.
          results.push({
            callId: toolCall.id,
            name: toolCall.name,
            output: INTERRUPTED_RESULT,
            isError: true,
          });
          continue;
        }
        emit({ type: 'tool_call', id: toolCall.id, name: toolCall.name, input: toolCall.input });
        const outcome = await runTool(ws, toolCall.name, toolCall.input, policyOf(options));
        emit({
          type: 'tool_result',
          id: toolCall.id,
          name: toolCall.name,
          output: outcome.output,
          isError: outcome.isError,
        });
        results.push({
          callId: toolCall.id,
          name: toolCall.name,
          output: outcome.output,
          isError: outcome.isError,
        });
        if (outcome.finished !== undefined) finished = outcome.finished;
      }
      session.record(messages, { role: 'tool', results });
      if (finished !== undefined) return session.end(true, finished);
      if (signal?.aborted) return session.fail(signal.reason, signal);
    }
  } catch (err) {
    return session.fail(err, signal);
  }
}

/** One model call, its text and reasoning printed as deltas while they stream. */
async function streamCall(
  options: LlmAgentOptions,
  session: Session,
  messages: LlmMessage[],
): Promise<LlmResult> {
  const parts = session.client.stream({
    purpose: 'agent',
    messages,
    tools: toolsFor(policyOf(options)),
    ...(options.model ? { model: options.model } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const part of parts) {
    if (part.type === 'text' && part.text) {
      options.emit({ type: 'message', text: part.text, delta: true });
    } else if (part.type === 'reasoning' && part.text) {
      options.emit({ type: 'thinking', text: part.text, delta: true });
    } else if (part.type === 'finish') {
      return part.result;
    }
  }
  throw new Error('the model stream ended without its result');
}
