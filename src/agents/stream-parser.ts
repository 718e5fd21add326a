import type { ErrorCode, PermissionDenial, RunEventType } from '../contracts/index.js';
import type { LlmCallRecord } from '../store/index.js';

/**
 * What an agent adapter turns one line of its CLI's stdout into: zero or more normalized
 * events (ARCHITECTURE.md: message, thinking, tool_call, tool_result, usage, result,
 * error), each keeping the raw line it came from.
 *
 * Payload shapes, shared by every agent:
 * - `message`     { role: 'assistant' | 'user' | 'system', text, subtype? }
 * - `thinking`    { text }
 * - `tool_call`   { id, name, input }
 * - `tool_result` { id, output, isError }
 * - `usage`       { input, output, cacheRead, cacheWrite, costUsd?, estimated }
 * - `result`      { ok, text, durationMs?, numTurns?, subtype? }
 * - `error`       { code, message }
 * - `output`      { stream: 'stdout', text }  (a line that is not JSON, or of an unknown type)
 */
export interface NormalizedEvent {
  type: RunEventType;
  data: Record<string, unknown>;
  raw: string;
  /** A model call this event reports, for the server's ledger (the built-in llm agent). */
  llmCall?: AgentLlmCall;
}

/**
 * One model call an agent made itself, as the child reported it: the server records it in
 * its ledger (`llm_calls`) under the run's id and repository.
 */
export type AgentLlmCall = Omit<LlmCallRecord, 'id' | 'runId' | 'repoId'>;

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** What the stream has told us about the session so far. */
export interface AgentFacts {
  sessionId?: string;
  model?: string;
  /** Final answer text, once known. */
  resultText?: string;
  /** True once the final result line (or its equivalent) was seen. */
  finished: boolean;
  /** The result reported an error (is_error, turn.failed, …). */
  isError: boolean;
  /** A specific error code for a failed result, e.g. AGENT_CONTEXT_WINDOW_EXCEEDED. */
  errorCode?: ErrorCode;
  errorMessage?: string;
  usage?: TokenUsage;
  costUsd?: number;
  numTurns?: number;
  /**
   * `session` when the CLI reports usage and cost cumulatively for its whole session (the
   * engine then stores this run's delta against the run it resumed); default `run`.
   */
  usageScope?: 'run' | 'session';
  /** Tool uses the agent or its own sandbox refused. */
  permissionDenials?: PermissionDenial[];
  /** For AGENT_RATE_LIMITED: when the provider said to try again, when it did. */
  retryAfterMs?: number;
  /**
   * What the agent added to its session this run (the llm agent's transcript messages), for
   * agents whose adapter names a `sessionArtifact`: stored with the run, handed back on resume.
   */
  sessionMessages?: unknown[];
}

/** Parses one CLI's NDJSON stream. Stateful (one per run); never throws on bad input. */
export interface StreamParser {
  /** One complete line of stdout, without its newline. */
  line(line: string): NormalizedEvent[];
  /** Called at end of stream: events for whatever the stream implied (e.g. Gemini's joined text). */
  end(): NormalizedEvent[];
  /**
   * One complete line of the CLI's stderr (ANSI stripped), for CLIs that report something only
   * there (Codex logs a patch its sandbox rejected, gemini its retry notices): events to
   * append, or none. Absent: stderr is not parsed.
   */
  stderrLine?(line: string): NormalizedEvent[];
  readonly facts: AgentFacts;
}
