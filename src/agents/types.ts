import type { AgentName, ParsedCreateRunRequest } from '../contracts/index.js';

export interface AgentCapabilities {
  /** Can continue an earlier session (`resumeSessionId`). */
  resume: boolean;
  /** Can end a turn without ending the session. */
  interrupt: boolean;
  /** Reports token usage. */
  usage: boolean;
  /** Reports cost in USD. */
  cost: boolean;
  /** Streams text as it is produced rather than at the end. */
  streamingText: boolean;
}

/** What an adapter needs to know about the server to validate and launch a run. */
export interface AgentContext {
  /** Executables the shell agent may run, or undefined for any. */
  allowedCommands: string[] | undefined;
  /** PATH the child will see, for resolving allow-listed names. */
  childPath: string | undefined;
}

export interface LaunchPlan {
  argv: string[];
  stdin: 'ignore' | 'pipe';
}

/** One adapter per agent: thin, declarative, behind this one interface. */
export interface AgentAdapter {
  readonly name: AgentName;
  readonly capabilities: AgentCapabilities;
  /**
   * Checks a request before anything is stored or spawned.
   * @throws PatchbayError with a user-facing code.
   */
  validate(request: ParsedCreateRunRequest, context: AgentContext): Promise<void>;
  /** The process to start for a stored run. */
  plan(run: { command: string[] | null; prompt: string | null }): LaunchPlan;
}
