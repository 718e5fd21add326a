/**
 * The `llm` agent's loop, run by `patchbay agent llm` inside the run's process: ask the model,
 * run the tools it calls in the workspace, give it their results, until it calls `finish`,
 * answers without a tool call, or a limit (maxTurns, maxCostUsd) ends it. Everything it does is
 * printed as protocol lines (protocol.ts) for the adapter's parser.
 */
import { randomUUID } from 'node:crypto';
import { isPatchbayError } from '../../contracts/index.js';
import type { LlmClient, LlmMessage, LlmResult, LlmToolResult } from '../../llm/index.js';
import { systemPrompt } from './context.js';
import type { AgentLine } from './protocol.js';
import type { ToolPolicy } from './tool-spec.js';
import { runTool, toolsFor } from './tools.js';
import { createWorkspace } from './workspace.js';

export interface LlmAgentOptions {
  client: LlmClient;
  cwd: string;
  prompt: string;
  model?: string;
  /** Model calls at most (default 30). */
  maxTurns?: number;
  /** USD the run's calls may cost; checked before each call, so it ends within one call. */
  maxCostUsd?: number;
  /** What the tools may do (default: edit, no commands). */
  policy?: ToolPolicy;
  emit(line: AgentLine): void;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_TURNS = 30;

const policyOf = (options: LlmAgentOptions): ToolPolicy =>
  options.policy ?? { readOnly: false, commands: null };

/** Runs the loop to its end; the last line emitted is always a `result`. */
export async function runLlmAgent(options: LlmAgentOptions): Promise<{ ok: boolean }> {
  const { emit } = options;
  const maxTurns = options.maxTurns ?? DEFAULT_MAX_TURNS;
  const totals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  let costUsd = 0;
  let turns = 0;
  let model = options.model;
  const end = (ok: boolean, text: string, error?: { code: string; message: string }) => {
    emit({
      type: 'result',
      ok,
      text,
      numTurns: turns,
      usage: { ...totals },
      costUsd: Number(costUsd.toFixed(6)),
      ...(model ? { model } : {}),
      ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
    });
    return { ok };
  };
  try {
    const ws = await createWorkspace(options.cwd);
    const messages: LlmMessage[] = [
      { role: 'system', content: await systemPrompt(ws) },
      { role: 'user', content: options.prompt },
    ];
    let lastText = '';
    for (;;) {
      if (turns >= maxTurns) {
        return end(false, lastText, {
          code: 'AGENT_RESULT_ERROR',
          message: `the agent reached its limit of ${maxTurns} turns (maxTurns) before finishing`,
        });
      }
      if (options.maxCostUsd !== undefined && costUsd >= options.maxCostUsd) {
        return end(false, lastText, {
          code: 'BUDGET_EXCEEDED',
          message: `the run's model calls cost ${costUsd.toFixed(4)} USD, at or over its cap of ${options.maxCostUsd} USD (maxCostUsd)`,
        });
      }
      turns++;
      const result = await call(options, messages, model);
      if (turns === 1) {
        emit({
          type: 'init',
          sessionId: `llm-${randomUUID()}`,
          provider: result.provider,
          model: result.model,
        });
      }
      model = result.model;
      totals.input += result.usage.input;
      totals.output += result.usage.output;
      totals.cacheRead += result.usage.cacheRead;
      totals.cacheWrite += result.usage.cacheWrite;
      costUsd += result.costUsd ?? 0;
      if (result.reasoning) emit({ type: 'thinking', text: result.reasoning });
      if (result.text) emit({ type: 'message', text: result.text });
      emit({
        type: 'usage',
        input: result.usage.input,
        output: result.usage.output,
        cacheRead: result.usage.cacheRead,
        cacheWrite: result.usage.cacheWrite,
        costUsd: result.costUsd,
      });
      if (result.text) lastText = result.text;
      messages.push({
        role: 'assistant',
        content: result.text,
        ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}),
      });
      // An answer without a tool call is the model's last word.
      if (result.toolCalls.length === 0) return end(true, result.text);
      const results: LlmToolResult[] = [];
      let finished: string | undefined;
      for (const toolCall of result.toolCalls) {
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
      if (finished !== undefined) return end(true, finished);
      messages.push({ role: 'tool', results });
    }
  } catch (err) {
    const code = isPatchbayError(err) ? err.code : 'AGENT_RESULT_ERROR';
    return end(false, '', { code, message: err instanceof Error ? err.message : String(err) });
  }
}

function call(
  options: LlmAgentOptions,
  messages: LlmMessage[],
  model: string | undefined,
): Promise<LlmResult> {
  return options.client.complete({
    purpose: 'agent',
    messages,
    tools: toolsFor(policyOf(options)),
    ...(model ? { model } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
