/**
 * What `patchbay agent llm` prints, one JSON object a line, and the adapter's parser reads: a
 * private protocol between the two halves of the `llm` agent (both ship in this package), kept
 * close to the normalized events so the parser only renames.
 */
import { z } from 'zod';

const Usage = z.object({
  input: z.number(),
  output: z.number(),
  cacheRead: z.number(),
  cacheWrite: z.number(),
});

export const AgentLine = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    sessionId: z.string(),
    provider: z.string(),
    model: z.string(),
  }),
  z.object({ type: z.literal('message'), text: z.string() }),
  z.object({ type: z.literal('thinking'), text: z.string() }),
  z.object({ type: z.literal('tool_call'), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal('tool_result'),
    id: z.string(),
    name: z.string(),
    output: z.string(),
    isError: z.boolean(),
  }),
  /** One model call's tokens and price (null: the model is not in the price table). */
  Usage.extend({ type: z.literal('usage'), costUsd: z.number().nullable() }),
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
