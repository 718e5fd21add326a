/**
 * What a run of the `llm` agent keeps while it works, whichever mode: the session id, its
 * messages (each new one printed as a `transcript` line), the calls it made (each printed as
 * an `llm_call` line and added to the run's totals) and the one `result` line that ends it.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isPatchbayError, PatchbayError } from '../../contracts/index.js';
import type { LlmClient, LlmLedger, LlmMessage } from '../../llm/index.js';
import { llmCallLineOf, type AgentLine } from './protocol.js';

export interface SessionOptions {
  /** The model client, recording its calls in the ledger it is given. */
  client: (ledger: LlmLedger) => LlmClient;
  emit(line: AgentLine): void;
  /** The session to continue: its id and the messages stored by the runs before. */
  resume?: { sessionId: string; messages: unknown[] };
}

const ToolCall = z.object({ id: z.string(), name: z.string(), input: z.unknown() });
const StoredMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string(),
    toolCalls: z.array(ToolCall).optional(),
  }),
  z.object({
    role: z.literal('tool'),
    results: z.array(
      z.object({
        callId: z.string(),
        name: z.string(),
        output: z.string(),
        isError: z.boolean().optional(),
      }),
    ),
  }),
]);

export const INTERRUPTED_RESULT = 'not run: the turn was interrupted';

/**
 * A stored transcript, checked, with every tool call answered: a run killed between a call
 * and its tools' results left calls without results, which a provider refuses.
 */
export function restoreTranscript(stored: unknown[]): LlmMessage[] {
  const parsed = z.array(StoredMessage).safeParse(stored);
  if (!parsed.success) {
    throw new PatchbayError(
      'AGENT_SESSION_NOT_FOUND',
      'the stored transcript of this session is not readable',
    );
  }
  const out: LlmMessage[] = [];
  const messages = parsed.data as LlmMessage[];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    out.push(m);
    const next = messages[i + 1];
    if (m.role === 'assistant' && m.toolCalls?.length && next?.role !== 'tool') {
      out.push({
        role: 'tool',
        results: m.toolCalls.map((c) => ({
          callId: c.id,
          name: c.name,
          output: INTERRUPTED_RESULT,
          isError: true,
        })),
      });
    }
  }
  return out;
}

export function createSession(options: SessionOptions) {
  const { emit } = options;
  const totals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  let costUsd = 0;
  let turns = 0;
  let model: string | undefined;
  const sessionId = options.resume?.sessionId ?? `llm-${randomUUID()}`;
  emit({ type: 'init', sessionId, ...(options.resume ? { resumed: true } : {}) });
  const ledger: LlmLedger = {
    insert(call) {
      model = call.model;
      totals.input += call.inputTokens;
      totals.output += call.outputTokens;
      totals.cacheRead += call.cacheReadTokens;
      totals.cacheWrite += call.cacheWriteTokens;
      costUsd += call.costUsd ?? 0;
      emit(llmCallLineOf(call));
      return Promise.resolve();
    },
    // The run's cap is checked here, against the calls this process made.
    sumUsdOfRun: () => Promise.resolve(costUsd),
  };
  const client = options.client(ledger);
  return {
    client,
    /** The resumed session's messages (none for a new one); throws when they are unreadable. */
    history: (): LlmMessage[] => (options.resume ? restoreTranscript(options.resume.messages) : []),
    get costUsd() {
      return costUsd;
    },
    get turns() {
      return turns;
    },
    countTurn(): void {
      turns++;
    },
    /** Adds a message to the conversation (and prints it for the server to store). */
    record(messages: LlmMessage[], message: LlmMessage): void {
      messages.push(message);
      emit({ type: 'transcript', message: message as unknown as Record<string, unknown> });
    },
    /** The last line: the run's outcome with its totals. */
    end(ok: boolean, text: string, error?: { code: string; message: string }) {
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
    },
    /** A failure as the result's code and message. */
    fail(err: unknown, signal: AbortSignal | undefined) {
      if (signal?.aborted) {
        return this.end(false, '', {
          code: 'AGENT_TURN_INTERRUPTED',
          message: 'the turn was interrupted; the session can be resumed',
        });
      }
      const code = isPatchbayError(err) ? err.code : 'AGENT_RESULT_ERROR';
      return this.end(false, '', {
        code,
        message: err instanceof Error ? err.message : String(err),
      });
    },
  };
}

export type Session = ReturnType<typeof createSession>;
