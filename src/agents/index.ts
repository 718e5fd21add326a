export { getAgent, listAgents } from './registry.js';
export {
  assertArgvAllowed,
  assertCommandAllowed,
  assertScriptAllowed,
  shellAgent,
} from './shell/shell-agent.js';
export { commandsOfScript } from './shell/shell-script.js';
export type {
  AgentAdapter,
  AgentCapabilities,
  AgentContext,
  ClassifiedFailure,
  CliAgentName,
  ExitFacts,
  LaunchInput,
  LaunchPlan,
} from './types.js';
export { createClaudeParser } from './claude/parser.js';
export { createCodexParser } from './codex/parser.js';
export { createCursorParser } from './cursor/parser.js';
export { createGeminiParser } from './gemini/parser.js';
export type {
  AgentFacts,
  AgentLlmCall,
  NormalizedEvent,
  StreamParser,
  TokenUsage,
} from './stream-parser.js';
export { findExecutable } from './find-executable.js';
export { StderrTail, stripAnsi } from './stderr-tail.js';
export { cliFacts, compareVersions, parseCliVersion, type CliFacts } from './cli-facts.js';
export {
  checkAgentCli,
  parseCodexProvider,
  probeVersion,
  type CliCheck,
  type CliCheckOptions,
  type CliProblem,
  type CredentialSource,
  type VersionProbe,
} from './cli-check.js';
export { createLlmParser, llmCallUsageEvent } from './llm/parser.js';
export { LlmCallLine, llmCallLineOf } from './llm/protocol.js';
export { runLlmAgent, type LlmAgentOptions } from './llm/loop.js';
export { createWorkspace } from './llm/workspace.js';
export { repositoryMap } from './llm/context.js';
export { runLlmPatch, syntaxErrors, type LlmPatchOptions } from './llm/patch.js';
