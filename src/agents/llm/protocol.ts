/**
 * What `patchbay agent llm` prints, one JSON object a line, and the adapter's parser reads: a
 * private protocol between the two halves of the `llm` agent (both ship in this package), kept
 * close to the normalized events so the parser only renames.
 *
 * The child does not own the database: each model call it makes (whatever its outcome) is an
 * `llm_call` line, which the server's parser turns into the run's `usage` event and a row of
 * the ledger; each message it adds to its conversation is a `transcript` line, which the
 * server stores with the run so a later run resumes the session.
 */
import { z } from 'zod';
import type { AgentLlmCall } from '../stream-parser.js';

const Usage = z.object({
  input: z.number(),
  output: z.number(),
  cacheRead: z.number(),
  cacheWrite: z.number(),
});

/** One model call as the model client's ledger saw it (src/llm/client.ts). */
export const LlmCallLine = z.object({
  type: z.literal('llm_call'),
  purpose: z.string(),
  provider: z.string(),
  model: z.string(),
  input: z.number(),
  output: z.number(),
  cacheRead: z.number(),
  cacheWrite: z.number(),
  reasoning: z.number(),
  /** Null: the model is not in the price table. */
  costUsd: z.number().nullable(),
  latencyMs: z.number(),
  attempts: z.number(),
  /** `succeeded` or the code the call ended with. */
  outcome: z.string(),
  rawUsage: z.unknown(),
  createdAt: z.string(),
});
export type LlmCallLine = z.infer<typeof LlmCallLine>;

/**
 * The line a child prints for one call its model client made (the llm agent's, an optimizer
 * stage's): the ledger's row less what only the server knows (id, run, repository).
 */
export function llmCallLineOf(call: AgentLlmCall): LlmCallLine {
  return {
    type: 'llm_call',
    purpose: call.purpose,
    provider: call.provider,
    model: call.model,
    input: call.inputTokens,
    output: call.outputTokens,
    cacheRead: call.cacheReadTokens,
    cacheWrite: call.cacheWriteTokens,
    reasoning: call.reasoningTokens,
    costUsd: call.costUsd,
    latencyMs: call.latencyMs,
    attempts: call.attempts,
    outcome: call.outcome,
    rawUsage: call.rawUsage ?? null,
    createdAt: call.createdAt,
  };
}

export const AgentLine = z.discriminatedUnion('type', [
  /** First line: the session (a new one, or the one resumed). */
  z.object({ type: z.literal('init'), sessionId: z.string(), resumed: z.boolean().optional() }),
  /** `delta`: a piece as the model streams it; without: the whole text of a call. */
  z.object({ type: z.literal('message'), text: z.string(), delta: z.boolean().optional() }),
  z.object({ type: z.literal('thinking'), text: z.string(), delta: z.boolean().optional() }),
  z.object({ type: z.literal('tool_call'), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal('tool_result'),
    id: z.string(),
    name: z.string(),
    output: z.string(),
    isError: z.boolean(),
  }),
  LlmCallLine,
  /** A message added to the conversation (an LlmMessage, the system prompt never). */
  z.object({ type: z.literal('transcript'), message: z.record(z.string(), z.unknown()) }),
  z.object({
    type: z.literal('result'),
    ok: z.boolean(),
    text: z.string(),
    numTurns: z.number(),
    usage: Usage,
    costUsd: z.number(),
    model: z.string().optional(),
    /** A catalog code: LLM_* from the model client, BUDGET_EXCEEDED, AGENT_RESULT_ERROR. */
    errorCode: z.string().optional(),
    errorMessage: z.string().optional(),
  }),
]);
export type AgentLine = z.infer<typeof AgentLine>;
