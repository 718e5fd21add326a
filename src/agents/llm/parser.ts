import { isErrorCode, type ErrorCode } from '../../contracts/index.js';
import { createJsonLineParser } from '../stream-json.js';
import type { NormalizedEvent, StreamParser } from '../stream-parser.js';
import { AgentLine, type LlmCallLine } from './protocol.js';

/** A call's `usage` event, carrying its ledger row for the server. */
/** A child's `llm_call` line: the run's `usage` event, carrying the ledger's row. */
export function llmCallUsageEvent(line: LlmCallLine, raw: string): NormalizedEvent {
  return {
    type: 'usage',
    data: {
      purpose: line.purpose,
      input: line.input,
      output: line.output,
      cacheRead: line.cacheRead,
      cacheWrite: line.cacheWrite,
      reasoning: line.reasoning,
      ...(line.costUsd !== null ? { costUsd: line.costUsd } : {}),
      estimated: false,
      provider: line.provider,
      model: line.model,
      latencyMs: line.latencyMs,
      outcome: line.outcome,
    },
    raw,
    llmCall: {
      purpose: line.purpose,
      provider: line.provider,
      model: line.model,
      inputTokens: line.input,
      outputTokens: line.output,
      cacheReadTokens: line.cacheRead,
      cacheWriteTokens: line.cacheWrite,
      reasoningTokens: line.reasoning,
      costUsd: line.costUsd,
      latencyMs: line.latencyMs,
      attempts: line.attempts,
      outcome: line.outcome,
      rawUsage: line.rawUsage ?? null,
      createdAt: line.createdAt,
    },
  };
}

/**
 * A model client's failure as the run's code: the same AGENT_* codes a CLI agent's run ends
 * with, so a client handles "the agent could not authenticate" one way whichever agent ran;
 * the LLM_* code starts the run's error message. Codes without an agent twin stay.
 */
const RUN_CODE: Partial<Record<string, ErrorCode>> = {
  LLM_AUTH_FAILED: 'AGENT_AUTH_FAILED',
  LLM_RATE_LIMITED: 'AGENT_RATE_LIMITED',
  LLM_OVERLOADED: 'AGENT_PROVIDER_ERROR',
  LLM_CONTEXT_TOO_LONG: 'AGENT_CONTEXT_WINDOW_EXCEEDED',
};

export function runErrorCode(code: string | undefined): ErrorCode {
  if (code === undefined) return 'AGENT_RESULT_ERROR';
  const mapped = RUN_CODE[code];
  if (mapped) return mapped;
  return isErrorCode(code) ? code : 'AGENT_RESULT_ERROR';
}

/** Reads `patchbay agent llm` NDJSON (protocol.ts) into the normalized events and facts. */
export function createLlmParser(): StreamParser {
  return createJsonLineParser((json, facts, raw): NormalizedEvent[] | null => {
    const parsed = AgentLine.safeParse(json);
    if (!parsed.success) return null;
    const line = parsed.data;
    switch (line.type) {
      case 'init':
        facts.sessionId = line.sessionId;
        return [
          {
            type: 'message',
            data: {
              role: 'system',
              subtype: 'init',
              text: '',
              sessionId: line.sessionId,
              ...(line.resumed ? { resumed: true } : {}),
            },
            raw,
          },
        ];
      case 'message':
        return [
          {
            type: 'message',
            data: {
              role: 'assistant',
              text: line.text,
              ...(line.delta ? { subtype: 'delta' } : {}),
            },
            raw,
          },
        ];
      case 'thinking':
        return [
          {
            type: 'thinking',
            data: { text: line.text, ...(line.delta ? { subtype: 'delta' } : {}) },
            raw,
          },
        ];
      case 'tool_call':
        return [
          {
            type: 'tool_call',
            data: { id: line.id, name: line.name, input: line.input ?? {} },
            raw,
          },
        ];
      case 'tool_result':
        return [
          {
            type: 'tool_result',
            data: { id: line.id, output: line.output, isError: line.isError },
            raw,
          },
        ];
      case 'llm_call':
        facts.model = line.model;
        return [llmCallUsageEvent(line, raw)];
      case 'transcript':
        (facts.sessionMessages ??= []).push(line.message);
        return [];
      case 'result': {
        facts.finished = true;
        facts.isError = !line.ok;
        facts.resultText = line.text;
        facts.numTurns = line.numTurns;
        facts.usage = line.usage;
        facts.costUsd = line.costUsd;
        if (line.model) facts.model = line.model;
        if (!line.ok) {
          facts.errorCode = runErrorCode(line.errorCode);
          const message = line.errorMessage ?? line.text;
          // The model client's own code stays visible when it was renamed.
          facts.errorMessage =
            line.errorCode && line.errorCode !== facts.errorCode
              ? `${line.errorCode}: ${message}`
              : message;
        }
        const events: NormalizedEvent[] = [];
        events.push({
          type: 'result',
          data: { ok: line.ok, text: line.text, numTurns: line.numTurns },
          raw,
        });
        return events;
      }
    }
  });
}
