import type {
  AgentName,
  AgentPermissions,
  ErrorCode,
  LlmRepoSettings,
  ParsedCreateRunRequest,
} from '../contracts/index.js';
import type { StreamParser } from './stream-parser.js';

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

/** The agents that are someone else's CLI, found on PATH (PATCHBAY_AGENT_<NAME>_BIN). */
export type CliAgentName = Exclude<AgentName, 'shell' | 'llm'>;

/** What an adapter needs to know about the server to validate and launch a run. */
export interface AgentContext {
  /** Executables the shell agent may run, or undefined for any. */
  allowedCommands: string[] | undefined;
  /** PATH the child will see, for resolving allow-listed names and agent binaries. */
  childPath: string | undefined;
  /** Binary of each agent CLI (PATCHBAY_AGENT_<NAME>_BIN): a name on PATH or a path. */
  bins: Record<CliAgentName, string>;
  /**
   * For the built-in `llm` agent: how this installation starts itself (node and its bin script)
   * and the model settings its child needs in its env (keys included: env, never argv).
   */
  llm?: { self: string[]; env: Record<string, string> };
}

/** The stored run fields an adapter launches from. */
export interface LaunchInput {
  command: string[] | null;
  prompt: string | null;
  model: string | null;
  args: string[];
  resumeSessionId: string | null;
  /** What the agent may do unasked; each adapter maps it to its CLI's flags. */
  agentPermissions: AgentPermissions;
  /**
   * The sandbox Patchbay runs the CLI in (the run's `sandbox`): a CLI whose own sandbox cannot
   * nest inside bwrap (Codex's) leaves the confinement to Patchbay's. Absent: unknown (none).
   */
  sandbox?: 'none' | 'bwrap' | null;
  /**
   * For an adapter with a `sessionArtifact`, resuming: the messages the session's runs stored
   * so far (oldest first), loaded by the engine.
   */
  sessionMessages?: unknown[];
  /** A repository run's repository: its id and model choice (`PUT /v1/repos/:id/llm`). */
  repo?: { id: string; llm: LlmRepoSettings | null };
}

export interface LaunchPlan {
  argv: string[];
  /** Defaults for the CLI's environment: the server's base env and the run's own env win. */
  env?: Record<string, string>;
  /** `pipe` only for CLIs that read their input from stdin (see `input`). */
  stdin: 'ignore' | 'pipe';
  /** Written to stdin at start; stdin is closed once the agent reports its result. */
  input?: string;
  /**
   * The line that asks the CLI to end its turn (a control request on stdin), for CLIs that
   * support one. Without it, interrupt is SIGINT to the process group.
   */
  interruptInput?: () => string;
}

/** One adapter per agent: thin, declarative, behind this one interface. */
export interface AgentAdapter {
  readonly name: AgentName;
  readonly capabilities: AgentCapabilities;
  /** How a user installs the agent's CLI (a command); absent for the built-in shell. */
  readonly install?: string;
  /**
   * Where the CLI keeps its sessions, settings and login, relative to HOME: created when
   * missing and writable inside a bwrap sandbox (without them a sandboxed agent could neither
   * log in nor resume). Directories here, single files in `stateFiles`.
   */
  readonly stateDirs?: readonly string[];
  /**
   * An agent that keeps its session in the server, not in a CLI's own files (the llm agent):
   * the artifact name each run's `AgentFacts.sessionMessages` are stored under (the session's
   * whole transcript so far), handed back as `LaunchInput.sessionMessages` on resume.
   */
  readonly sessionArtifact?: string;
  /** State files relative to HOME, each with the content a new one starts with. */
  readonly stateFiles?: Readonly<Record<string, string>>;
  /**
   * Checks a request before anything is stored or spawned.
   * @throws PatchbayError with a user-facing code.
   */
  validate(request: ParsedCreateRunRequest, context: AgentContext): Promise<void>;
  /**
   * Checks only that the agent can start here (its CLI is installed), for what is created now
   * and runs later: a conversation, a schedule. Absent: nothing to install.
   * @throws PatchbayError AGENT_NOT_INSTALLED, naming how to install it.
   */
  assertInstalled?(context: AgentContext): Promise<void>;
  /**
   * Flags derived from request fields only this agent takes (the llm agent's `maxTurns`,
   * `maxCostUsd`), stored after the run's `args`. Absent: such fields are refused.
   */
  requestArgs?(request: ParsedCreateRunRequest): string[];
  /** The run's total timeout when the request gives none (default: PATCHBAY_RUN_TIMEOUT_MS). */
  defaultTimeoutMs?(request: ParsedCreateRunRequest): number | undefined;
  /** The process to start for a stored run. */
  plan(run: LaunchInput, context: AgentContext): LaunchPlan;
  /** Agents that print NDJSON: a fresh parser per run. Absent: stdout is plain output. */
  createParser?(): StreamParser;
  /**
   * Why a CLI that exited non-zero without a result failed, from its exit code and the last
   * meaningful lines of its stderr (ANSI stripped, oldest first): e.g. an untrusted directory,
   * a missing key. Undefined: not recognised (the engine reports AGENT_SETUP_FAILED, or
   * RUN_EXIT_NONZERO once the stream had begun, with the CLI's last line).
   */
  classifyExit?(exit: ExitFacts, stderr: string[]): ClassifiedFailure | undefined;
}

export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
}

export interface ClassifiedFailure {
  code: ErrorCode;
  /** Default: the CLI's last meaningful stderr line. */
  message?: string;
}
